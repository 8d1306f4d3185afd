import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { splitCommand } from '../../src/config/command';

function assertRefused(text: string, fragment: string): void {
  assert.throws(
    () => splitCommand(text),
    (e: unknown) => {
      assert.ok(e instanceof Error);
      assert.ok(e.message.includes(fragment), `expected ${JSON.stringify(fragment)} in: ${e.message}`);
      return true;
    },
  );
}

const NO_SHELL = 'commands run without a shell; put pipelines in a script and name the script here';

describe('splitCommand', () => {
  test('blanks and tabs separate words, and repeated blanks make no empty words', () => {
    assert.deepEqual(splitCommand('  /usr/sbin/nginx \t -c   /etc/nginx/nginx.conf  '), ['/usr/sbin/nginx', '-c', '/etc/nginx/nginx.conf']);
  });

  test('single quotes group a word and keep backslashes and dollars as written', () => {
    assert.deepEqual(splitCommand("/bin/echo 'a b' '\\n $HOME'"), ['/bin/echo', 'a b', '\\n $HOME']);
  });

  test('double quotes group a word and a backslash escapes only " \\ $ and ` inside them', () => {
    assert.deepEqual(splitCommand('/bin/echo "say \\"hi\\"" "c:\\\\x" "\\n" "$HOME"'), ['/bin/echo', 'say "hi"', 'c:\\x', '\\n', '$HOME']);
  });

  test('a backslash outside quotes takes the next character as is, a blank included', () => {
    assert.deepEqual(splitCommand('/opt/my\\ app/run --x=\\|'), ['/opt/my app/run', '--x=|']);
  });

  test('quoted and unquoted parts next to each other make one word, and "" is an empty argument', () => {
    assert.deepEqual(splitCommand(`/bin/app --name="a b"'c d' "" ''`), ['/bin/app', '--name=a bc d', '', '']);
  });

  test('shell syntax inside quotes is plain text', () => {
    assert.deepEqual(splitCommand(`/bin/grep "a|b;c && d > e" '$(x)'`), ['/bin/grep', 'a|b;c && d > e', '$(x)']);
  });

  test('an unterminated double quote is refused with the position of the quote', () => {
    assertRefused('/bin/echo "abc', 'the " opened at character 11 is never closed');
  });

  test('an unterminated single quote is refused', () => {
    assertRefused("/bin/echo 'abc", "the ' opened at character 11 is never closed");
  });

  test('a trailing backslash is refused', () => {
    assertRefused('/bin/echo abc\\', 'ends with a backslash');
  });

  for (const [text, op] of [
    ['/bin/ps aux | /bin/grep java', '"|"'],
    ['/opt/a.sh; /opt/b.sh', '";"'],
    ['/opt/a.sh && /opt/b.sh', '"&&"'],
    ['/opt/a.sh &', '"&"'],
    ['/opt/a.sh > /tmp/out', '">"'],
    ['/opt/a.sh < /tmp/in', '"<"'],
    ['/opt/a.sh $(cat /tmp/x)', '"$("'],
    ['/opt/a.sh `cat /tmp/x`', '"`"'],
  ]) {
    test(`shell syntax ${op} outside quotes is refused with the no-shell explanation`, () => {
      assertRefused(text, op);
      assertRefused(text, NO_SHELL);
    });
  }

  test('a variable outside quotes is refused because nothing would expand it', () => {
    assertRefused('/opt/a.sh $HOME/x', '"$HOME" would not be expanded');
    assertRefused('/opt/a.sh ${PORT}', '"${PORT}" would not be expanded');
  });

  test('a dollar that starts no variable is plain text', () => {
    assert.deepEqual(splitCommand('/bin/echo 5$ $'), ['/bin/echo', '5$', '$']);
  });

  test('a relative program is refused with a hint to find its path', () => {
    assertRefused('nginx -s quit', 'the program "nginx" is not an absolute path; write its full path (see: command -v nginx)');
    assertRefused('bin/start.sh', 'the program "bin/start.sh" is not an absolute path');
  });

  test('an environment assignment before the program is refused with the env alternative', () => {
    assertRefused('PORT=8080 /opt/app/start.sh', '/usr/bin/env PORT=8080');
  });

  test('an empty or blank command is refused', () => {
    assertRefused('', 'the command is empty');
    assertRefused('   ', 'the command is empty');
  });

  test('a quoted program path may contain blanks', () => {
    assert.deepEqual(splitCommand('"/opt/my app/bin/start" --now'), ['/opt/my app/bin/start', '--now']);
  });
});
