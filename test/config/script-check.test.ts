// Restart scripts saved with Windows (CRLF) line endings are refused at load, at the pfile
// line that names them, with the fix (dos2unix); scripts that work with CRLF are accepted.
import { after, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { parsePfile } from '../../src/config/pfile';
import { lineEndingProblem } from '../../src/config/script-check';
import { ConfigError } from '../../src/errors';

const TMP = fs.mkdtempSync(path.join(os.tmpdir(), 'procsafe-script-check-'));
after(() => fs.rmSync(TMP, { recursive: true, force: true }));

function script(name: string, text: string): string {
  const file = path.join(TMP, name);
  fs.writeFileSync(file, text);
  fs.chmodSync(file, 0o755);
  return file;
}

/** The pfile's problem with `file` as the restart script of its one entry (line 4), or null. */
function problemOf(file: string): ConfigError | null {
  try {
    parsePfile(`##### PARAM #####\nIPCKEY 0x1234\n##### PENT #####\n/usr/bin/java:${file}:0:3:exit\n`, '/etc/procsafe/app.pfile');
    return null;
  } catch (e) {
    if (e instanceof ConfigError) return e;
    throw e;
  }
}

describe('restart scripts with CRLF line endings', () => {
  test('a CRLF #! line is refused at its pfile line, naming the script, the interpreter and dos2unix', () => {
    const file = script('crlf.sh', '#!/bin/sh\r\nnohup /opt/app/bin/start &\r\n');
    const e = problemOf(file);
    assert.ok(e);
    assert.equal(e.line, 4);
    assert.match(e.message, /^\/etc\/procsafe\/app\.pfile:4: restart script ".*crlf\.sh" has Windows \(CRLF\) line endings: its #! line ends in a carriage return/);
    assert.ok(e.message.includes('"/bin/sh\\r"'), e.message);
    assert.ok(e.message.endsWith(`convert it with: dos2unix ${file}`), e.message);
  });

  test('a shell script whose #! line is fine but whose commands end in CRLF is refused, naming the first such line', () => {
    const e = problemOf(script('body.sh', '#!/bin/bash\ncd /opt/app\r\n./start &\r\n'));
    assert.ok(e);
    assert.match(e.problem, /line 2 is the first.*dos2unix/);
  });

  test('#!/usr/bin/env bash and a script without #! (run by /bin/sh) are shell scripts too', () => {
    assert.ok(problemOf(script('env.sh', '#!/usr/bin/env bash\necho hi\r\n')));
    assert.ok(problemOf(script('nosb.sh', 'echo hi\r\n')));
  });

  test('a python script with a Unix #! line and a CRLF body is accepted: python reads CRLF lines', () => {
    assert.equal(problemOf(script('app.py', '#!/usr/bin/python3\nimport os\r\nprint(1)\r\n')), null);
  });

  test('a Unix script and a binary (whatever its bytes) are accepted', () => {
    assert.equal(problemOf(script('ok.sh', '#!/bin/sh\nexec sleep 1\n')), null);
    assert.equal(problemOf(fs.realpathSync('/bin/sleep')), null);
    assert.equal(lineEndingProblem(Buffer.from('\x7fELF\r\n\r\n', 'latin1')), null);
  });

  test('an empty script is accepted (it runs and does nothing)', () => {
    assert.equal(problemOf(script('empty.sh', '')), null);
  });
});
