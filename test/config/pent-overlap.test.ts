// Two entries that can match the same process are refused at load, with both line numbers
// and what to change; entries kept apart by their strings, users or programs are accepted.
import { after, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { parsePfile } from '../../src/config/pfile';
import { ConfigError } from '../../src/errors';

const TMP = fs.mkdtempSync(path.join(os.tmpdir(), 'procsafe-overlap-'));
after(() => fs.rmSync(TMP, { recursive: true, force: true }));
const FILE = '/etc/procsafe/app.pfile';

/** A pfile whose entries start on line 4, one per item: `pname:options`. */
function pfileOf(...entries: [pname: string, options: string][]): string {
  const pents = entries.map(([pname, options], i) => `${pname}:/opt/start${i}.sh:0:3:exit${options === '' ? '' : `:${options}`}`);
  return ['##### PARAM #####', 'IPCKEY 0x1234', '##### PENT #####', ...pents, ''].join('\n');
}

function refusal(text: string): ConfigError {
  try {
    parsePfile(text, FILE, { checkFiles: false });
  } catch (e) {
    if (e instanceof ConfigError) return e;
    throw e;
  }
  return assert.fail('expected the pfile to be refused');
}

const accepted = (text: string): number => parsePfile(text, FILE, { checkFiles: false }).pents.length;
const JAVA = '/usr/bin/java';

describe('entries that can watch the same process', () => {
  test('include_strings=/opt/tomcat and /opt/tomcat2: refused at the second line, naming the first and the exclude to add', () => {
    const e = refusal(pfileOf([JAVA, 'include_strings=/opt/tomcat'], [JAVA, 'include_strings=/opt/tomcat2']));
    assert.equal(e.line, 5);
    assert.equal(
      e.message,
      `${FILE}:5: this entry and the one on line 4 can match the same process (both would watch it, and the other process would go unwatched): ` +
        `both name ${JAVA}, and every command line with include_strings=/opt/tomcat2 (line 5) also has include_strings=/opt/tomcat (line 4); ` +
        'add exclude_strings=/opt/tomcat2 to line 4, or make the include strings distinct',
    );
  });

  test('the other order: still refused at the later line, the exclude goes to the wider entry', () => {
    const e = refusal(pfileOf([JAVA, 'include_strings=/opt/tomcat2'], [JAVA, 'include_strings=/opt/tomcat']));
    assert.equal(e.line, 5);
    assert.match(e.problem, /add exclude_strings=\/opt\/tomcat2 to line 5, or make the include strings distinct$/);
  });

  test('the wider entry already has exclude_strings: the fix adds to them', () => {
    const e = refusal(pfileOf([JAVA, 'include_strings=tomcat,exclude_strings=grep'], [JAVA, 'include_strings=tomcat&-Dinstance=2']));
    assert.match(e.problem, /add &-Dinstance=2 to the exclude_strings of line 4/);
  });

  test('the same pname without include strings is refused; so is one entry without them beside one with them', () => {
    assert.match(refusal(pfileOf([JAVA, ''], [JAVA, 'exclude_strings=x'])).problem, /neither has include_strings; give each entry include_strings that only its own process has/);
    assert.match(refusal(pfileOf([JAVA, 'include_strings=tomcat'], [JAVA, ''])).problem, /line 5 has no include_strings, so it matches every process of line 4/);
  });

  test('the same include strings in another order or with another restart script are refused', () => {
    const text = pfileOf([JAVA, 'include_strings=a&b'], [JAVA, 'include_strings=b&a,script_timeout=5']);
    assert.match(refusal(text).problem, /their include_strings match the same command lines/);
  });

  test('two pnames that are the same program file (a symlink, as /usr/bin/java is) are refused', () => {
    const real = fs.realpathSync('/bin/sleep');
    const link = path.join(TMP, 'sleep-link');
    fs.symlinkSync(real, link);
    const e = refusal(pfileOf([link, 'include_strings=x'], [real, 'include_strings=x']));
    assert.match(e.problem, new RegExp(`${link} \\(line 4\\) and ${real} are the same program \\(${real}\\)`));
  });

  test('the same user, or one entry without user=, can match the same process', () => {
    assert.equal(refusal(pfileOf([JAVA, 'user=root'], [JAVA, ''])).line, 5);
    assert.equal(refusal(pfileOf([JAVA, 'user=root'], [JAVA, 'user=0'])).line, 5);
  });
});

describe('entries kept apart', () => {
  test('an exclude string of the wider entry that the narrower one includes', () => {
    assert.equal(accepted(pfileOf([JAVA, 'include_strings=/opt/tomcat,exclude_strings=/opt/tomcat2'], [JAVA, 'include_strings=/opt/tomcat2'])), 2);
  });

  test('an exclude string of the narrower entry found in every command line of the wider one', () => {
    assert.equal(accepted(pfileOf([JAVA, 'include_strings=/opt/app'], [JAVA, 'exclude_strings=/opt/app'])), 2);
  });

  test('include strings neither of which contains the other (/opt/tomcat/ and /opt/tomcat2/, a and b)', () => {
    assert.equal(accepted(pfileOf([JAVA, 'include_strings=/opt/tomcat/'], [JAVA, 'include_strings=/opt/tomcat2/'])), 2);
    assert.equal(accepted(pfileOf([JAVA, 'include_strings=a'], [JAVA, 'include_strings=b'])), 2);
  });

  test('different users, different programs', () => {
    assert.equal(accepted(pfileOf([JAVA, 'user=root'], [JAVA, 'user=12345'])), 2);
    assert.equal(accepted(pfileOf([JAVA, ''], ['/usr/sbin/httpd', ''])), 2);
  });

  test('the shipped pfiles load: etc/pfile.sample and examples/', () => {
    const root = path.resolve(__dirname, '..', '..', '..');
    const files = ['etc/pfile.sample', 'examples/tomcat/tomcat.pfile', 'examples/demo/demo.pfile.in', 'examples/failsafe/web.pfile.in'];
    for (const f of files) {
      const text = fs.readFileSync(path.join(root, f), 'utf8').replaceAll('@WORK_DIR@', '/tmp/w').replaceAll('@DEMO_DIR@', '/tmp/d').replaceAll('@NODE@', '/usr/bin/node');
      assert.ok(parsePfile(text, f, { checkFiles: false }).pents.length >= 1, f);
    }
  });
});
