import { after, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { loadPfile, PARAM_DEFAULTS, parsePfile, type ParseOptions } from '../../src/config/pfile';
import { uidFromPasswdText } from '../../src/config/users';
import { ConfigError, ExitCode } from '../../src/errors';

const FILE = '/etc/procsafe/test.pfile';
const TMP = fs.mkdtempSync(path.join(os.tmpdir(), 'procsafe-pfile-'));
after(() => fs.rmSync(TMP, { recursive: true, force: true }));

const SCRIPT = writeFile('start.sh', '#!/bin/sh\nexit 0\n', 0o755);
const NOT_EXECUTABLE = writeFile('plain.sh', '#!/bin/sh\nexit 0\n', 0o644);
const DIRECTORY = path.join(TMP, 'scripts.d');
fs.mkdirSync(DIRECTORY);

function writeFile(name: string, text: string, mode = 0o644): string {
  const file = path.join(TMP, name);
  fs.writeFileSync(file, text, { mode });
  fs.chmodSync(file, mode); // writeFileSync's mode is filtered by the umask
  return file;
}

/** Joins lines with \n; line N of the result is argument N. */
function lines(...ls: string[]): string {
  return ls.join('\n') + '\n';
}

const PARAM = '##### PARAM #####';
const PENT = '##### PENT #####';
const entry = (rest = '0:3:exit', pname = '/usr/bin/java', script = SCRIPT): string => `${pname}:${script}:${rest}`;
/** A valid pfile: PARAM on line 1, IPCKEY on 2, `params` from line 3, then PENT and `entries`. */
function pfile(params: string[], entries: string[] = [entry()]): string {
  return lines(PARAM, 'IPCKEY 0x1234', ...params, PENT, ...entries);
}

function parseError(text: string, opts?: ParseOptions): ConfigError {
  try {
    parsePfile(text, FILE, opts);
  } catch (e) {
    if (e instanceof ConfigError) return e;
    throw e;
  }
  return assert.fail('expected a ConfigError, but the pfile was accepted');
}

function assertError(text: string, line: number | null, fragment: string, opts?: ParseOptions): void {
  const e = parseError(text, opts);
  assert.equal(e.line, line, `wrong line in: ${e.message}`);
  assert.ok(e.problem.includes(fragment), `expected ${JSON.stringify(fragment)} in: ${e.message}`);
  assert.equal(e.file, FILE);
}

const SPEC_EXAMPLE = `##### PARAM #####
IPCKEY          0x1a2b3c4d
MSG_CHECK_INTERVAL 5
MONITOR_INTERVAL 10
SHM_DUMP_FILE   /var/opt/procsafe/dump/tomcat.dmp
##### PENT #####
/usr/bin/java:/var/opt/procsafe/conf/tomcat_start.sh:86400:3:exit:include_strings=apache&tomcat
`;

describe('the layout of a pfile', () => {
  test('an empty file is refused with a hint of what a pfile contains', () => {
    assertError('', null, 'empty pfile: expected ##### PARAM #####');
  });

  test('a file of blank lines counts as empty', () => {
    assertError(' \n\t\n\r\n', null, 'empty pfile');
  });

  test('a file of only comments is refused', () => {
    assertError(lines('# procsafe pfile', '#', '########'), null, 'pfile has only comments');
  });

  test('keys without a PARAM header are refused at the first key', () => {
    assertError(lines('# comment', 'IPCKEY 1', PENT, entry()), 2, 'missing ##### PARAM ##### header before "IPCKEY 1"');
  });

  test('a PENT section without any PARAM header is refused at the PENT header', () => {
    assertError(lines('', PENT, entry()), 2, 'missing ##### PARAM ##### header before ##### PENT #####');
  });

  test('a PENT section before the PARAM section is refused', () => {
    assertError(lines(PENT, entry(), PARAM, 'IPCKEY 1'), 1, '##### PENT ##### comes before ##### PARAM ##### (line 3)');
  });

  test('a key above the PARAM header is outside any section', () => {
    assertError(lines('IPCKEY 1', PARAM, 'MONITOR_INTERVAL 10', PENT, entry()), 1, '"IPCKEY 1" is outside any section');
  });

  test('a file without a PENT header is refused at its last line', () => {
    assertError(lines(PARAM, 'IPCKEY 1', 'MONITOR_INTERVAL 10', '', '# end'), 3, 'without a ##### PENT ##### header');
  });

  test('an entry in the PARAM section is recognised as a misplaced entry', () => {
    assertError(lines(PARAM, 'IPCKEY 1', entry()), 3, 'looks like a PENT entry; put it below a ##### PENT ##### header');
  });

  test('a PARAM key below the PENT header is reported as misplaced', () => {
    assertError(pfile([], [entry(), 'MONITOR_INTERVAL 5']), 5, 'PARAM key MONITOR_INTERVAL is below ##### PENT ##### (line 3)');
  });

  test('a second PARAM header is refused and the first is named', () => {
    assertError(lines(PARAM, 'IPCKEY 1', PARAM, PENT, entry()), 3, 'second ##### PARAM ##### header (the first is on line 1)');
  });

  test('a second PENT header is refused', () => {
    assertError(pfile([], [entry(), PENT, entry('0:0:none')]), 5, 'second ##### PENT ##### header (the first is on line 3)');
  });

  test('a section header in lower case is refused rather than taken for a comment', () => {
    assertError(lines(PARAM, 'IPCKEY 1', '##### pent #####', entry()), 3, 'must be in capitals; write ##### PENT #####');
    assertError(lines('##### param #####'), 1, 'must be in capitals; write ##### PARAM #####');
  });

  test('a PENT section without entries is refused at its header', () => {
    assertError(lines(PARAM, 'IPCKEY 1', PENT, '# nothing yet', ''), 3, 'the PENT section has no entries');
  });

  test('a binary file is refused at the first NUL byte', () => {
    assertError(lines(PARAM, 'IPCKEY\0 1', PENT, entry()), 2, 'NUL bytes');
  });

  test('a byte that is not UTF-8 in an entry is refused with line and column; Shift_JIS comments are fine', () => {
    const file = path.join(TMP, 'sjis.pfile');
    const sjisComment = Buffer.from([0x23, 0x20, 0x83, 0x65, 0x83, 0x58, 0x83, 0x67, 0x0a]); // "# テスト" in Shift_JIS
    fs.writeFileSync(file, Buffer.concat([sjisComment, Buffer.from(pfile([], [`/opt/caf\u00e9/bin/app:${SCRIPT}:0:3:exit`]))]));
    assert.equal(loadPfile(file, { checkFiles: false }).pents[0].pname, '/opt/café/bin/app');
    fs.writeFileSync(file, Buffer.concat([sjisComment, Buffer.from(pfile([], [])), Buffer.from('/opt/caf'), Buffer.from([0xe9]), Buffer.from(`/bin/app:${SCRIPT}:0:3:exit\n`)]));
    assert.throws(
      () => loadPfile(file, { checkFiles: false }),
      (e: unknown) => e instanceof ConfigError && e.line === 5 && e.problem.startsWith('byte 0xE9 at column 9 is not UTF-8'),
    );
  });
});

describe('PARAM keys', () => {
  test('an unknown key is refused and the known keys are listed', () => {
    assertError(pfile(['COLOUR blue']), 3, 'unknown key "COLOUR"; the PARAM keys are IPCKEY, MONITOR_INTERVAL');
  });

  test('a misspelt key gets a did-you-mean suggestion', () => {
    assertError(pfile(['MONITOR_INTERVALL 10']), 3, 'unknown key "MONITOR_INTERVALL"; did you mean MONITOR_INTERVAL?');
  });

  test('a key in lower case is suggested in capitals', () => {
    assertError(pfile(['restart_wait 10']), 3, 'did you mean RESTART_WAIT?');
  });

  test('a duplicate key is refused and the earlier line is named', () => {
    assertError(pfile(['MONITOR_INTERVAL 10', '', 'MONITOR_INTERVAL 20']), 5, 'MONITOR_INTERVAL is set twice (first on line 3)');
  });

  test('a key without a value is refused with an example', () => {
    assertError(pfile(['MONITOR_INTERVAL']), 3, 'MONITOR_INTERVAL has no value; write e.g. MONITOR_INTERVAL 10');
  });

  test('key=value is refused with the whitespace form to write instead', () => {
    assertError(pfile(['RESTART_WAIT=15']), 3, '"RESTART_WAIT=15" uses "="; separate the key and the value with blanks, e.g. RESTART_WAIT 15');
  });

  test('a missing IPCKEY is reported at the PARAM header', () => {
    assertError(lines('# app', PARAM, 'MONITOR_INTERVAL 10', PENT, entry()), 2, 'the PARAM section has no IPCKEY');
  });

  test('an IPCKEY that is not a number is refused', () => {
    assertError(lines(PARAM, 'IPCKEY 0x12zz', PENT, entry()), 2, 'IPCKEY "0x12zz" is not a number; write it in hex');
  });

  test('a negative IPCKEY is refused', () => {
    assertError(lines(PARAM, 'IPCKEY -5', PENT, entry()), 2, 'IPCKEY "-5" is not a number');
  });

  test('an IPCKEY of 0 is refused', () => {
    assertError(lines(PARAM, 'IPCKEY 0x0', PENT, entry()), 2, 'IPCKEY "0x0" must not be 0');
    assertError(lines(PARAM, 'IPCKEY 0', PENT, entry()), 2, 'IPCKEY must not be 0');
  });

  test('an IPCKEY above 32 bits is refused', () => {
    assertError(lines(PARAM, 'IPCKEY 0x100000000', PENT, entry()), 2, 'does not fit in 32 bits');
    assertError(lines(PARAM, 'IPCKEY 4294967296', PENT, entry()), 2, 'does not fit in 32 bits');
  });

  test('a decimal IPCKEY with a leading zero is refused as ambiguous', () => {
    assertError(lines(PARAM, 'IPCKEY 0123', PENT, entry()), 2, 'has a leading 0, which C tools read as octal');
  });

  test('a non-numeric interval is refused', () => {
    assertError(pfile(['MONITOR_INTERVAL ten']), 3, 'MONITOR_INTERVAL "ten" is not a number of seconds');
  });

  test('an interval with a unit is refused with the exact advice', () => {
    const e = parseError(pfile(['', '', '', '', 'MONITOR_INTERVAL 10s']));
    assert.equal(e.message, `${FILE}:7: MONITOR_INTERVAL "10s" is not a number of seconds; write e.g. MONITOR_INTERVAL 10`);
    assert.equal(e.exitCode, ExitCode.USAGE);
  });

  test('a negative timeout is refused', () => {
    assertError(pfile(['RESTART_WAIT -1']), 3, 'RESTART_WAIT "-1" is negative; write e.g. RESTART_WAIT 30');
  });

  test('a zero interval is refused', () => {
    assertError(pfile(['MONITOR_INTERVAL 0']), 3, 'MONITOR_INTERVAL "0" must be more than 0 seconds');
    assertError(pfile(['SCRIPT_TIMEOUT 0.0']), 3, 'SCRIPT_TIMEOUT "0.0" must be more than 0 seconds');
  });

  test('NaN, Infinity, exponents and signs are not numbers of seconds', () => {
    for (const v of ['NaN', 'Infinity', '1e3', '+5', '0x10', '5.', '1,5']) {
      assertError(pfile([`MSG_CHECK_INTERVAL ${v}`]), 3, `MSG_CHECK_INTERVAL ${JSON.stringify(v)} is not a number of seconds`);
    }
  });

  test('an interval longer than a Node timer can wait is refused', () => {
    assertError(pfile(['SCRIPT_TIMEOUT 3000000']), 3, 'is too long (at most 2147483 seconds');
  });

  test('a comment after a value is pointed out', () => {
    assertError(pfile(['MONITOR_INTERVAL 10 # seconds']), 3, 'comments must be on a line of their own');
  });

  test('SYSLOG accepts only on and off', () => {
    assertError(pfile(['SYSLOG yes']), 3, 'SYSLOG "yes" is neither on nor off; write SYSLOG on or SYSLOG off');
  });

  test('an unknown syslog facility is refused with the allowed list', () => {
    assertError(pfile(['SYSLOG_FACILITY security']), 3, 'SYSLOG_FACILITY "security" is not one of user, mail,');
    assertError(pfile(['SYSLOG_FACILITY deamon']), 3, 'SYSLOG_FACILITY "deamon" is unknown; did you mean daemon?');
    assertError(pfile(['SYSLOG_FACILITY LOCAL0']), 3, 'did you mean local0?');
  });

  test('relative paths for files of the daemon are refused', () => {
    assertError(pfile(['SHM_DUMP_FILE dump/app.dmp']), 3, 'SHM_DUMP_FILE "dump/app.dmp" is not an absolute path');
    assertError(pfile(['LOG_FILE app.log']), 3, 'LOG_FILE "app.log" is not an absolute path');
    assertError(pfile(['SYSLOG_SOCKET dev/log']), 3, 'SYSLOG_SOCKET "dev/log" is not an absolute path');
  });
});

describe('PENT entries', () => {
  test('a relative pname is refused with a way to find the full path', () => {
    assertError(pfile([], [entry('0:3:exit', 'java')]), 4, 'pname "java" is not an absolute path; write the full path (see: command -v java)');
  });

  test('an empty pname is refused', () => {
    assertError(pfile([], [entry('0:3:exit', '')]), 4, 'pname is empty; write an absolute path');
  });

  test('a relative restart script is refused', () => {
    assertError(pfile([], [entry('0:3:exit', '/usr/bin/java', 'start.sh')]), 4, 'restart_script "start.sh" is not an absolute path');
  });

  test('an empty restart script is refused', () => {
    assertError(pfile([], [entry('0:3:exit', '/usr/bin/java', '')]), 4, 'restart_script is empty');
  });

  test('a restart script that does not exist is refused', () => {
    const missing = path.join(TMP, 'missing.sh');
    assertError(pfile([], [entry('0:3:exit', '/usr/bin/java', missing)]), 4, `restart script "${missing}" does not exist`);
  });

  test('a restart script below a file that is not a directory does not exist', () => {
    assertError(pfile([], [entry('0:3:exit', '/usr/bin/java', `${SCRIPT}/x.sh`)]), 4, 'does not exist; create it or correct the path');
  });

  test('a restart script without execute permission is refused with the chmod to run', () => {
    assertError(pfile([], [entry('0:3:exit', '/usr/bin/java', NOT_EXECUTABLE)]), 4, `is not executable (or is on a noexec mount); run chmod +x ${NOT_EXECUTABLE}`);
  });

  test('a restart script that is a directory is refused', () => {
    assertError(pfile([], [entry('0:3:exit', '/usr/bin/java', DIRECTORY)]), 4, `restart script "${DIRECTORY}" is a directory`);
  });

  test('a restart script that is a device is not a regular file', () => {
    assertError(pfile([], [entry('0:3:exit', '/usr/bin/java', '/dev/null')]), 4, 'restart script "/dev/null" is not a regular file');
  });

  test('restart scripts are not looked at when checkFiles is false', () => {
    const p = parsePfile(pfile([], [entry('0:3:exit', '/usr/bin/java', '/nonexistent/start.sh')]), FILE, { checkFiles: false });
    assert.equal(p.pents[0].restartScript, '/nonexistent/start.sh');
  });

  test('an unknown retry-over action is refused with the allowed list', () => {
    assertError(pfile([], [entry('0:3:restart')]), 4, 'retry_over_action "restart" is not one of exit, none, group, shutdown, reboot, panic');
  });

  test('a misspelt retry-over action gets a suggestion', () => {
    assertError(pfile([], [entry('0:3:EXIT')]), 4, 'retry_over_action "EXIT" is unknown; did you mean exit?');
  });

  test('an entry with too few fields is refused with the format', () => {
    assertError(pfile([], ['/usr/bin/java:/x/start.sh:0:3']), 4, 'has 4 fields but needs at least 5; write pname:restart_script:grace:retry_count:retry_over_action[:options]');
  });

  test('a grace that is not a whole number is refused', () => {
    assertError(pfile([], [entry('1.5:3:exit')]), 4, 'grace "1.5" is not a whole number of seconds');
    assertError(pfile([], [entry(':3:exit')]), 4, 'grace "" is not a whole number of seconds');
  });

  test('a negative retry_count is refused', () => {
    assertError(pfile([], [entry('0:-1:exit')]), 4, 'retry_count "-1" is negative; write 0 or more restarts');
  });

  test('a duplicate entry is refused and the first one is named', () => {
    const e = entry('0:3:exit:include_strings=a');
    assertError(pfile([], [e, entry('0:0:none'), e]), 6, 'repeats the one on line 4');
  });

  test('the first bad entry is reported, with its physical line number', () => {
    assertError(pfile(['', '# x'], [entry(), '', '# next', entry('x:3:exit')]), 9, 'grace "x"');
  });
});

describe('PENT options', () => {
  test('an option without "=" is refused with the form to write', () => {
    assertError(pfile([], [entry('0:3:exit:apache')]), 4, 'option "apache" has no "="; write key=value, e.g. include_strings=apache');
  });

  test('an unknown option is refused with the known options', () => {
    assertError(pfile([], [entry('0:3:exit:colour=blue')]), 4, 'unknown option "colour"; the options are include_strings, exclude_strings, user, script_timeout, hang_timeout');
  });

  test('a misspelt option gets a suggestion', () => {
    assertError(pfile([], [entry('0:3:exit:includes_strings=a')]), 4, 'did you mean include_strings?');
  });

  test('an option with an empty value is refused', () => {
    assertError(pfile([], [entry('0:3:exit:user=')]), 4, 'option user has an empty value');
  });

  test('an option without a key is refused', () => {
    assertError(pfile([], [entry('0:3:exit:=apache')]), 4, 'option "=apache" has no key before "="');
  });

  test('an empty item between "&&" is refused', () => {
    assertError(pfile([], [entry('0:3:exit:include_strings=a&&b')]), 4, 'include_strings "a&&b" has an empty item');
  });

  test('a leading or trailing "&" is refused', () => {
    assertError(pfile([], [entry('0:3:exit:exclude_strings=&a')]), 4, 'exclude_strings "&a" has an empty item');
    assertError(pfile([], [entry('0:3:exit:exclude_strings=a&')]), 4, 'remove the extra "&"');
  });

  test('an empty item between commas is refused', () => {
    assertError(pfile([], [entry('0:3:exit:include_strings=a,,user=root')]), 4, 'have an empty item (two commas in a row');
    assertError(pfile([], [entry('0:3:exit:include_strings=a,')]), 4, 'have an empty item');
  });

  test('an option given twice is refused', () => {
    assertError(pfile([], [entry('0:3:exit:include_strings=a,include_strings=b')]), 4, 'option include_strings is given twice; keep one');
  });

  test('an unknown user is refused', () => {
    assertError(pfile([], [entry('0:3:exit:user=no_such_user_procsafe')]), 4, 'user "no_such_user_procsafe" does not exist on this host');
  });

  test('hang_timeout is read as seconds; 0 or a unit is refused with the option named', () => {
    assert.equal(parsePfile(pfile([], [entry('0:3:exit:hang_timeout=30')]), FILE).pents[0].hangTimeout, 30);
    assert.equal(parsePfile(pfile([], [entry('0:3:exit')]), FILE).pents[0].hangTimeout, null);
    assertError(pfile([], [entry('0:3:exit:hang_timeout=0')]), 4, 'hang_timeout "0" must be more than 0 seconds; write e.g. hang_timeout=30');
    assertError(pfile([], [entry('0:3:exit:hang_timeout=5s')]), 4, 'hang_timeout "5s" is not a number of seconds');
  });

  test('a script_timeout of 0 or with a unit is refused', () => {
    assertError(pfile([], [entry('0:3:exit:script_timeout=0')]), 4, 'script_timeout "0" must be more than 0 seconds; write e.g. script_timeout=60');
    assertError(pfile([], [entry('0:3:exit:script_timeout=1m')]), 4, 'script_timeout "1m" is not a number of seconds');
  });
});

describe('pfiles that are accepted', () => {
  test('the example of the specification is accepted as written', () => {
    const p = parsePfile(SPEC_EXAMPLE, '/etc/procsafe/tomcat.pfile', { checkFiles: false });
    assert.equal(p.path, '/etc/procsafe/tomcat.pfile');
    assert.deepEqual(p.param, {
      ...PARAM_DEFAULTS,
      ipckey: 0x1a2b3c4d,
      ipckeyText: '0x1a2b3c4d',
      msgCheckInterval: 5,
      monitorInterval: 10,
      shmDumpFile: '/var/opt/procsafe/dump/tomcat.dmp',
      initialWait: 10,
    });
    assert.deepEqual(p.pents, [
      {
        id: 1,
        line: 7,
        pname: '/usr/bin/java',
        restartScript: '/var/opt/procsafe/conf/tomcat_start.sh',
        grace: 86400,
        retryLimit: 3,
        retryOverAction: 'exit',
        includeStrings: ['apache', 'tomcat'],
        excludeStrings: [],
        user: null,
        uid: null,
        scriptTimeout: null,
        hangTimeout: null,
        optionsText: 'include_strings=apache&tomcat',
      },
    ]);
  });

  test('the example of the specification is accepted with its restart script checked', () => {
    const text = SPEC_EXAMPLE.replace('/var/opt/procsafe/conf/tomcat_start.sh', SCRIPT);
    const p = parsePfile(text, FILE);
    assert.equal(p.pents[0].restartScript, SCRIPT);
    assert.throws(() => parsePfile(SPEC_EXAMPLE, FILE), /tomcat_start\.sh" does not exist/);
  });

  test('the defaults fill every key that is not given', () => {
    const p = parsePfile(pfile([]), FILE);
    assert.deepEqual(p.param, { ...PARAM_DEFAULTS, ipckey: 0x1234, ipckeyText: '0x1234', initialWait: PARAM_DEFAULTS.monitorInterval });
    assert.equal(p.param.monitorInterval, 10);
    assert.equal(p.param.msgCheckInterval, 5);
    assert.equal(p.param.scriptTimeout, 300);
    assert.equal(p.param.restartWait, 30);
    assert.equal(p.param.syslog, true);
    assert.equal(p.param.syslogFacility, 'daemon');
    assert.equal(p.param.syslogSocket, '/dev/log');
    assert.equal(p.param.shmDumpFile, null);
    assert.equal(p.param.logFile, null);
  });

  test('INITIAL_WAIT defaults to MONITOR_INTERVAL, and may be set to 0', () => {
    assert.equal(parsePfile(pfile(['MONITOR_INTERVAL 0.5']), FILE).param.initialWait, 0.5);
    assert.equal(parsePfile(pfile(['INITIAL_WAIT 0', 'MONITOR_INTERVAL 3']), FILE).param.initialWait, 0);
  });

  test('every PARAM key is read', () => {
    const p = parsePfile(
      pfile([
        'MONITOR_INTERVAL 2',
        'MSG_CHECK_INTERVAL 1',
        'SHM_DUMP_FILE /var/opt/procsafe/dump/a.dmp',
        'LOG_FILE /var/log/procsafe/a.log',
        'SYSLOG off',
        'SYSLOG_FACILITY local3',
        'SYSLOG_SOCKET /run/systemd/journal/dev-log',
        'SCRIPT_TIMEOUT 0.25',
        'RESTART_WAIT 7.5',
        'INITIAL_WAIT 20',
        'METRICS_LISTEN 0.0.0.0:29101',
        'METRICS_TOKEN_FILE /etc/procsafe/metrics.token',
        'METRICS_ALLOW 192.0.2.0/24',
      ]),
      FILE,
    );
    assert.deepEqual(p.param, {
      ipckey: 0x1234,
      ipckeyText: '0x1234',
      monitorInterval: 2,
      msgCheckInterval: 1,
      shmDumpFile: '/var/opt/procsafe/dump/a.dmp',
      logFile: '/var/log/procsafe/a.log',
      syslog: false,
      syslogFacility: 'local3',
      syslogSocket: '/run/systemd/journal/dev-log',
      scriptTimeout: 0.25,
      restartWait: 7.5,
      initialWait: 20,
      metricsListen: '0.0.0.0:29101',
      metricsTokenFile: '/etc/procsafe/metrics.token',
      metricsAllow: ['192.0.2.0/24'],
    });
  });

  test('IPCKEY is read in hex and in decimal and its text is kept', () => {
    const key = (v: string) => parsePfile(lines(PARAM, `IPCKEY ${v}`, PENT, entry()), FILE).param;
    assert.deepEqual([key('0x1a2b3c4d').ipckey, key('0x1a2b3c4d').ipckeyText], [439041101, '0x1a2b3c4d']);
    assert.equal(key('0XFFFFFFFF').ipckey, 0xffffffff);
    assert.deepEqual([key('439041101').ipckey, key('439041101').ipckeyText], [439041101, '439041101']);
    assert.equal(key('4294967295').ipckey, 0xffffffff);
  });

  test('CRLF line endings are accepted and line numbers stay physical', () => {
    const text = pfile(['LOG_FILE /var/log/a.log'], [entry('0:3:exit:include_strings=a')]).replace(/\n/g, '\r\n');
    const p = parsePfile(text, FILE);
    assert.equal(p.param.logFile, '/var/log/a.log');
    assert.deepEqual(p.pents[0].includeStrings, ['a']);
    assert.equal(p.pents[0].line, 5);
    assertError(lines(PARAM, 'IPCKEY 1', 'SYSLOG maybe', PENT, entry()).replace(/\n/g, '\r\n'), 3, 'SYSLOG "maybe"');
  });

  test('a UTF-8 byte order mark before the first header is accepted', () => {
    assert.equal(parsePfile('\uFEFF' + pfile([]), FILE).param.ipckey, 0x1234);
  });

  test('tabs, runs of blanks and trailing whitespace are accepted', () => {
    const p = parsePfile(lines(' ##### PARAM #####\t', 'IPCKEY\t\t0x1234  ', 'MONITOR_INTERVAL \t 4\t', PENT, `  ${entry()} \t`), FILE);
    assert.equal(p.param.monitorInterval, 4);
    assert.equal(p.pents[0].pname, '/usr/bin/java');
    assert.equal(p.pents[0].retryOverAction, 'exit');
  });

  test('comments, blank lines and decorated headers are accepted anywhere', () => {
    const p = parsePfile(
      lines('#####################', '# tomcat', '#PARAM', '# PARAM #', '', '  # indented comment', 'IPCKEY 7', '##########', '##PENT##', '# entries', '', entry()),
      FILE,
    );
    assert.equal(p.param.ipckey, 7);
    assert.equal(p.pents[0].line, 12);
  });

  test('an options field may contain colons and equals signs in its values', () => {
    const options = 'include_strings=-Dport=8080:8443&http://localhost:8080/,exclude_strings=grep';
    const p = parsePfile(pfile([], [entry(`0:3:exit:${options}`)]), FILE);
    assert.equal(p.pents[0].optionsText, options);
    assert.deepEqual(p.pents[0].includeStrings, ['-Dport=8080:8443', 'http://localhost:8080/']);
    assert.deepEqual(p.pents[0].excludeStrings, ['grep']);
  });

  test('an entry without options has empty options, with or without a trailing colon', () => {
    for (const e of [entry('0:0:none'), entry('0:0:none:')]) {
      const pent = parsePfile(pfile([], [e]), FILE).pents[0];
      assert.equal(pent.optionsText, '');
      assert.deepEqual([pent.includeStrings, pent.excludeStrings, pent.user, pent.uid, pent.scriptTimeout], [[], [], null, null, null]);
    }
  });

  test('user is resolved to a uid, and a number is taken as a uid', () => {
    const p = parsePfile(pfile([], [entry('0:3:exit:user=root'), entry('0:3:exit:user=12345')]), FILE);
    assert.deepEqual([p.pents[0].user, p.pents[0].uid], ['root', 0]);
    assert.deepEqual([p.pents[1].user, p.pents[1].uid], ['12345', 12345]);
  });

  test('every option is read, in any order', () => {
    const pent = parsePfile(pfile([], [entry('5:2:none:script_timeout=1.5, user=root ,exclude_strings=x&y,include_strings=java')]), FILE).pents[0];
    assert.equal(pent.scriptTimeout, 1.5);
    assert.equal(pent.uid, 0);
    assert.deepEqual(pent.excludeStrings, ['x', 'y']);
    assert.deepEqual(pent.includeStrings, ['java']);
    assert.equal(pent.grace, 5);
    assert.equal(pent.retryLimit, 2);
    assert.equal(pent.retryOverAction, 'none');
  });

  test('entries are numbered among PENT lines and keep their physical line', () => {
    const actions = ['exit', 'none', 'group', 'shutdown', 'reboot', 'panic'];
    const p = parsePfile(pfile([], ['# first', ...actions.map((a, i) => entry(`0:${i}:${a}:include_strings=n${i}`))]), FILE);
    assert.deepEqual(
      p.pents.map((e) => [e.id, e.line, e.retryLimit, e.retryOverAction]),
      actions.map((a, i) => [i + 1, i + 5, i, a]),
    );
  });

  test('the same program may be watched twice with different options', () => {
    const p = parsePfile(pfile([], [entry('0:3:exit:include_strings=a'), entry('0:3:exit:include_strings=b')]), FILE);
    assert.equal(p.pents.length, 2);
  });

  test('a relative file name is resolved in Pfile.path', () => {
    assert.equal(parsePfile(pfile([]), 'app.pfile').path, path.resolve('app.pfile'));
  });

  test('the sample pfile shipped in etc/ is accepted', () => {
    const sample = path.resolve(__dirname, '..', '..', '..', 'etc', 'pfile.sample');
    const p = parsePfile(fs.readFileSync(sample, 'utf8'), sample, { checkFiles: false });
    assert.ok(p.pents.length >= 1);
  });
});

describe('loadPfile', () => {
  test('reads a pfile and returns its absolute path', () => {
    const file = writeFile('app.pfile', pfile([]));
    const p = loadPfile(path.relative(process.cwd(), file));
    assert.equal(p.path, file);
    assert.equal(p.pents[0].restartScript, SCRIPT);
  });

  test('errors name the absolute path of the file', () => {
    const file = writeFile('bad.pfile', lines(PARAM, 'IPCKEY 1', 'MONITOR_INTERVAL 10s', PENT, entry()));
    assert.throws(() => loadPfile(path.relative(process.cwd(), file)), {
      name: 'ConfigError',
      message: `${file}:3: MONITOR_INTERVAL "10s" is not a number of seconds; write e.g. MONITOR_INTERVAL 10`,
    });
  });

  test('passes checkFiles on to the parser', () => {
    const file = writeFile('other-host.pfile', SPEC_EXAMPLE);
    assert.throws(() => loadPfile(file), /does not exist/);
    assert.equal(loadPfile(file, { checkFiles: false }).pents.length, 1);
  });

  test('a missing file is a ConfigError without a line', () => {
    const missing = path.join(TMP, 'none.pfile');
    assert.throws(() => loadPfile(missing), (e: unknown) => {
      assert.ok(e instanceof ConfigError);
      assert.equal(e.line, null);
      assert.equal(e.file, missing);
      assert.match(e.message, /^\/.*none\.pfile: cannot read: no such file/);
      return true;
    });
  });

  test('a directory is not a pfile', () => {
    assert.throws(() => loadPfile(TMP), /cannot read: it is a directory/);
  });
});

describe('user lookup', () => {
  test('passwd lines are matched on the whole name', () => {
    const passwd = 'root:x:0:0::/root:/bin/sh\ntomcat2:x:1002:1002::/:/bin/false\ntomcat:x:1001:1001::/:/bin/false\n';
    assert.equal(uidFromPasswdText('tomcat', passwd), 1001);
    assert.equal(uidFromPasswdText('tom', passwd), null);
  });
});
