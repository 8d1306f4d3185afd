import { after, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { loadFailsafeConfig, parseFailsafeConfig, type IniOptions } from '../../src/config/ini';
import { ALERT_EVENTS } from '../../src/config/ini-schema';
import { MONITOR_TYPES, type FailsafeConfig, type MonitorConfig } from '../../src/core/failsafe-model';
import { ConfigError, ExitCode } from '../../src/errors';

const FILE = '/etc/procsafe/test.ini';
const SAMPLE = path.join(__dirname, '..', '..', '..', 'etc', 'procsafe.ini.sample');
const TMP = fs.mkdtempSync(path.join(os.tmpdir(), 'procsafe-ini-'));
after(() => fs.rmSync(TMP, { recursive: true, force: true }));

function writeFile(name: string, text: string, mode = 0o644): string {
  const file = path.join(TMP, name);
  fs.writeFileSync(file, text, { mode });
  fs.chmodSync(file, mode); // writeFileSync's mode is filtered by the umask
  return file;
}

const SCRIPT = writeFile('start.sh', '#!/bin/sh\nexit 0\n', 0o755);
const STOP = writeFile('stop.sh', '#!/bin/sh\nexit 0\n', 0o755);
const NOT_EXECUTABLE = writeFile('plain.sh', '#!/bin/sh\nexit 0\n', 0o644);
const PFILE = writeFile('web.pfile', `##### PARAM #####\nIPCKEY 0x1234\n##### PENT #####\n/usr/bin/java:${SCRIPT}:0:3:group\n`);
const BAD_PFILE = writeFile('bad.pfile', `##### PARAM #####\nIPCKEY zzz\n##### PENT #####\n/usr/bin/java:${SCRIPT}:0:3:group\n`);

/** Joins lines with \n; line N of the result is argument N. */
function lines(...ls: string[]): string {
  return ls.join('\n') + '\n';
}

const NO_FILES: IniOptions = { checkFiles: false };

function parse(text: string, opts: IniOptions = NO_FILES): FailsafeConfig {
  return parseFailsafeConfig(text, FILE, opts);
}

function parseError(text: string, opts: IniOptions = NO_FILES): ConfigError {
  try {
    parse(text, opts);
  } catch (e) {
    if (e instanceof ConfigError) return e;
    throw e;
  }
  return assert.fail('expected a ConfigError, but the file was accepted');
}

function assertError(text: string, line: number | null, fragment: string, opts: IniOptions = NO_FILES): ConfigError {
  const e = parseError(text, opts);
  assert.equal(e.line, line, `wrong line in: ${e.message}`);
  assert.ok(e.problem.includes(fragment), `expected ${JSON.stringify(fragment)} in: ${e.message}`);
  return e;
}

/** A valid file: a group on lines 1-2, an http monitor on 4-7; `extra` starts on line 8. */
function withBase(...extra: string[]): string {
  return lines('[group:web]', 'start = "/opt/web/start.sh --port 8080"', '', '[monitor:web_http]', 'type = http', 'url = http://127.0.0.1/health', 'target = web', ...extra);
}

/** A group on lines 1-2, then a monitor section of `type` on line 4, its type on 5; `keys` from line 6. */
function monitor(type: string, ...keys: string[]): string {
  return lines('[group:web]', 'final_action = none', '', '[monitor:m]', `type = ${type}`, ...keys);
}

function monitorOf(cfg: FailsafeConfig, name: string): MonitorConfig {
  const m = cfg.monitors.find((x) => x.name === name);
  assert.ok(m, `no monitor ${name}`);
  return m;
}

describe('the sample file', () => {
  test('etc/procsafe.ini.sample parses without checking the host and shows every monitor type', () => {
    const cfg = loadFailsafeConfig(SAMPLE, NO_FILES);
    assert.equal(cfg.path, SAMPLE);
    assert.deepEqual(cfg.groups.map((g) => g.name), ['web', 'db']);
    assert.deepEqual([...new Set(cfg.monitors.map((m) => m.type))].sort(), [...MONITOR_TYPES].sort());
    assert.ok(cfg.alert !== null && cfg.web !== null);
    assert.equal(cfg.schedules.length, 2);
  });
});

describe('a full valid configuration', () => {
  const text = lines(
    '; FailSafe configuration for web01',
    '[daemon]',
    'name = web01',
    'run_dir = /run/procsafe',
    'state_file = /var/lib/procsafe/failsafe.state',
    'log_file = /var/log/procsafe/failsafe.log',
    'syslog = off',
    'max_final_actions = 2',
    'final_action_window = 2h',
    '',
    '[group:web]',
    `start = "${SCRIPT} --port 8080 --name 'my site' --tag=\\"x;y\\""`,
    `stop = ${STOP}`,
    'start_timeout = 2m',
    'stop_timeout = 30   ; seconds',
    `pfile = ${PFILE}`,
    'activation_retries = 2',
    'final_action = reboot',
    '',
    '[group:db]',
    '',
    '[monitor:web_http]',
    'type = http',
    'url = "https://127.0.0.1:8443/health#top"',
    'expect_status = 204',
    'expect_body = OK',
    'target = web',
    'timing = active',
    'interval = 5',
    'timeout = 2.5',
    'retries = 2',
    'start_wait = 30',
    'restart_threshold = 3',
    'grace = 1h',
    'final_action = stop_group',
    '',
    '[monitor:check]',
    'type = custom',
    `command = "${SCRIPT} --quiet"`,
    'mode = async',
    '',
    '[monitor:db_mem]',
    'type = resource',
    'pname = /usr/bin/postgres',
    'include_strings = main&-p 5432',
    'rss_mb = 512.5',
    'target = db',
    '',
    '[alert]',
    'events = down, final_action',
    'mail_to = ops@example.com,oncall@example.com',
    'mail_from = procsafe@example.com',
    'smtp_host = mail.example.com',
    'smtp_port = 587',
    'webhook_url = https://hooks.example.com/x',
    '',
    '[web]',
    'listen = [::1]:8080',
    'token_file = /etc/procsafe/web.token',
    '',
    '[schedule:nightly]',
    'cron = 0 */15 4 1-15,20 * 1-5',
    'action = suspend_monitor web_http 10m',
    '[schedule:weekly]',
    'cron = 0 3 * * 0',
    'action = restart_group db',
  );

  test('every section and key becomes the model, with the host checked', () => {
    const cfg = parse(text, {});
    assert.deepEqual(cfg, {
      path: FILE,
      daemon: { name: 'web01', runDir: '/run/procsafe', stateFile: '/var/lib/procsafe/failsafe.state', logFile: '/var/log/procsafe/failsafe.log', syslog: false, maxFinalActions: 2, finalActionWindow: 7200 },
      groups: [
        {
          name: 'web',
          start: [SCRIPT, '--port', '8080', '--name', 'my site', '--tag=x;y'],
          stop: [STOP],
          startTimeout: 120,
          stopTimeout: 30,
          pfile: PFILE,
          activationRetries: 2,
          finalAction: 'reboot',
        },
        { name: 'db', start: null, stop: null, startTimeout: 60, stopTimeout: 60, pfile: null, activationRetries: 0, finalAction: 'none' },
      ],
      monitors: [
        {
          name: 'web_http',
          target: 'web',
          timing: 'active',
          interval: 5,
          timeout: 2.5,
          retries: 2,
          startWait: 30,
          restartThreshold: 3,
          grace: 3600,
          finalAction: 'stop_group',
          type: 'http',
          url: 'https://127.0.0.1:8443/health#top',
          expectStatus: 204,
          expectBody: 'OK',
        },
        {
          name: 'check',
          target: null,
          timing: 'always',
          interval: 10,
          timeout: 10,
          retries: 0,
          startWait: 0,
          restartThreshold: 1,
          grace: 300,
          finalAction: 'none',
          type: 'custom',
          command: [SCRIPT, '--quiet'],
          mode: 'async',
        },
        {
          name: 'db_mem',
          target: 'db',
          timing: 'always',
          interval: 10,
          timeout: 10,
          retries: 0,
          startWait: 0,
          restartThreshold: 1,
          grace: 300,
          finalAction: 'none',
          type: 'resource',
          pname: '/usr/bin/postgres',
          includeStrings: ['main', '-p 5432'],
          cpuPercent: null,
          rssMb: 512.5,
          samples: 3,
        },
      ],
      alert: {
        events: ['down', 'final_action'],
        mailTo: ['ops@example.com', 'oncall@example.com'],
        mailFrom: 'procsafe@example.com',
        smtpHost: 'mail.example.com',
        smtpPort: 587,
        webhookUrl: 'https://hooks.example.com/x',
      },
      web: { listen: '[::1]:8080', tokenFile: '/etc/procsafe/web.token', allow: null, fleet: [], fleetIntervalSec: 5 },
      schedules: [
        { name: 'nightly', cron: '0 */15 4 1-15,20 * 1-5', action: { kind: 'suspend_monitor', monitor: 'web_http', durationSec: 600 } },
        { name: 'weekly', cron: '0 3 * * 0', action: { kind: 'restart_group', group: 'db' } },
      ],
    });
  });

  test('loadFailsafeConfig reads the file and reports its absolute path', () => {
    const file = writeFile('full.ini', text);
    assert.equal(loadFailsafeConfig(file).path, file);
  });

  test('CRLF line endings and a byte-order mark change nothing', () => {
    assert.deepEqual(parse('\uFEFF' + text.replace(/\n/g, '\r\n'), {}), parse(text, {}));
  });
});

describe('defaults', () => {
  test('a group and a monitor alone get every default, and the daemon is named after the host', () => {
    const cfg = parse(lines('[group:app]', '[monitor:ping]', 'type = ping', 'host = gw.example.com'));
    assert.deepEqual(cfg.daemon, { name: os.hostname(), runDir: null, stateFile: null, logFile: null, syslog: true, maxFinalActions: 1, finalActionWindow: 3600 });
    assert.deepEqual(cfg.groups[0], {
      name: 'app',
      start: null,
      stop: null,
      startTimeout: 60,
      stopTimeout: 60,
      pfile: null,
      activationRetries: 0,
      finalAction: 'none',
    });
    assert.deepEqual(monitorOf(cfg, 'ping'), {
      name: 'ping',
      target: null,
      timing: 'always',
      interval: 10,
      timeout: 10,
      retries: 0,
      startWait: 0,
      restartThreshold: 1,
      grace: 300,
      finalAction: 'none',
      type: 'ping',
      host: 'gw.example.com',
    });
    assert.equal(cfg.alert, null);
    assert.equal(cfg.web, null);
    assert.deepEqual(cfg.schedules, []);
  });

  test('an empty [daemon] still takes the host name', () => {
    assert.equal(parse(lines('[daemon]', '[group:app]')).daemon.name, os.hostname());
  });

  test('type-specific defaults: http status 200, custom sync, resource 3 samples, stall 1000 ms every second', () => {
    const cfg = parse(
      lines(
        '[monitor:h]', 'type = http', 'url = http://localhost/',
        '[monitor:c]', 'type = custom', 'command = /bin/true',
        '[monitor:r]', 'type = resource', 'pname = /usr/bin/java', 'cpu_percent = 90',
        '[monitor:s]', 'type = stall',
        '[monitor:d]', 'type = disk', 'write_dir = /var/tmp',
      ),
    ); // prettier-ignore
    assert.deepEqual(monitorOf(cfg, 'h'), { ...monitorOf(cfg, 'h'), expectStatus: 200, expectBody: null });
    assert.deepEqual(monitorOf(cfg, 'c'), { ...monitorOf(cfg, 'c'), mode: 'sync' });
    assert.deepEqual(monitorOf(cfg, 'r'), { ...monitorOf(cfg, 'r'), includeStrings: [], cpuPercent: 90, rssMb: null, samples: 3 });
    assert.deepEqual(monitorOf(cfg, 's'), { ...monitorOf(cfg, 's'), maxDelayMs: 1000, interval: 1, timeout: 10 });
    assert.deepEqual(monitorOf(cfg, 'd'), { ...monitorOf(cfg, 'd'), path: null, writeDir: '/var/tmp' });
  });

  test('[alert] defaults to every event and port 25; [web] defaults to 127.0.0.1:29003', () => {
    const cfg = parse(withBase('[alert]', 'webhook_url = http://hooks.local/x', '[web]'));
    assert.deepEqual(cfg.alert, { events: [...ALERT_EVENTS], mailTo: [], mailFrom: null, smtpHost: null, smtpPort: 25, webhookUrl: 'http://hooks.local/x' });
    assert.deepEqual(cfg.web, { listen: '127.0.0.1:29003', tokenFile: null, allow: null, fleet: [], fleetIntervalSec: 5 });
  });
});

describe('values as ini reads them', () => {
  test('a comment after a plain value is dropped; escaped \\; and \\# stay in the value', () => {
    const cfg = parse(withBase('expect_body = a\\;b\\#c   # the body', 'interval = 15 ; seconds'));
    assert.deepEqual(monitorOf(cfg, 'web_http'), { ...monitorOf(cfg, 'web_http'), expectBody: 'a;b#c', interval: 15 });
  });

  test('single quotes are stripped and keep the inside as written', () => {
    const cfg = parse(withBase(`expect_body = 'say "hi"'`));
    assert.equal((monitorOf(cfg, 'web_http') as { expectBody: string }).expectBody, 'say "hi"');
  });

  test('true, false and null are read back as the words written', () => {
    const cfg = parse(withBase('expect_body = true', '[daemon]', 'syslog = false', 'name = null'));
    assert.equal((monitorOf(cfg, 'web_http') as { expectBody: string }).expectBody, 'true');
    assert.deepEqual(cfg.daemon, { ...cfg.daemon, syslog: false, name: 'null' });
  });

  test('durations take s, m, h and d', () => {
    const cfg = parse(withBase('interval = 45s', 'timeout = 1.5', 'grace = 1d', 'start_wait = 0'));
    const m = monitorOf(cfg, 'web_http');
    assert.deepEqual([m.interval, m.timeout, m.grace, m.startWait], [45, 1.5, 86400, 0]);
  });

  test('a command value may hold ";" and "#" when quoted whole', () => {
    const cfg = parse(lines('[group:web]', `start = "/opt/web/start.sh --color '#fff' --sep=';'"`));
    assert.deepEqual(cfg.groups[0].start, ['/opt/web/start.sh', '--color', '#fff', '--sep=;']);
  });
});

describe('errors: layout', () => {
  test('an unknown section suggests the closest one', () => {
    assertError(lines('[group:web]', '[deamon]', 'name = x'), 2, 'section [deamon]: unknown section; did you mean [daemon]?');
  });

  test('an unknown section kind with a name suggests the kind with that name', () => {
    assertError(lines('[grup:web]'), 1, 'did you mean [group:web]?');
  });

  test('an unknown section far from any lists every section', () => {
    assertError(lines('[group:web]', '[database]'), 2, 'the sections are [daemon], [group:NAME], [monitor:NAME], [alert], [web], [schedule:NAME]');
  });

  test('a blank or a dot instead of the colon is pointed out', () => {
    assertError(lines('[group:web]', '[monitor web_http]'), 2, 'write [monitor:web_http] (a colon between the kind and the name)');
    assertError(lines('[group.web]'), 1, 'write [group:web]');
  });

  test('a named section without a name, a singleton with one, and a name with bad characters are refused', () => {
    assertError(lines('[group]'), 1, 'a group needs a name; write [group:NAME]');
    assertError(lines('[group:web]', '[web:main]'), 2, 'web takes no name; write [web]');
    assertError(lines('[group:my web]'), 1, 'the name "my web" may contain only letters, digits');
  });

  test('a repeated section is refused, naming the first one', () => {
    assertError(lines('[group:web]', 'stop = /bin/true', '', '[group:web]', 'start = /bin/true'), 4, '[group:web] appears twice (first on line 1)');
  });

  test('a repeated key is refused, naming the first one', () => {
    assertError(withBase('interval = 5', 'timeout = 3', 'interval = 6'), 10, '[monitor:web_http] interval is set twice (first on line 8)');
  });

  test('blanks around the colon of a header do not make a second section of the same name', () => {
    assertError(lines('[group:web]', '[group : web]'), 2, '[group:web] appears twice (first on line 1)');
  });

  test('names with dots stay flat (ini alone would nest [group:web.v2] inside [group:web])', () => {
    const cfg = parse(lines('[group:web]', 'stop = /bin/true', '[group:web.v2]', 'stop = /bin/false'));
    assert.deepEqual(
      cfg.groups.map((g) => [g.name, g.stop]),
      [['web', ['/bin/true']], ['web.v2', ['/bin/false']]],
    );
  });

  test('a key before any section is refused', () => {
    assertError(lines('name = web01', '[group:web]'), 1, '"name = web01" is outside any section');
  });

  test('a line without "=" is refused', () => {
    assertError(withBase('retries'), 8, '"retries" has no "="; write key = value');
  });

  test('a comment after a section header is refused', () => {
    assertError(lines('[group:web] ; the site'), 1, 'a comment after a section header; put the comment on a line of its own');
  });

  test('a file with no groups and no monitors is refused', () => {
    assertError(lines('[daemon]', 'name = x'), 1, 'defines no [group:NAME] and no [monitor:NAME]');
    assertError('', null, 'defines no [group:NAME]');
  });
});

describe('errors: keys', () => {
  test('an unknown key suggests the closest key of its section', () => {
    assertError(withBase('intervall = 5'), 8, '[monitor:web_http] has no key "intervall"; did you mean interval?');
  });

  test('an unknown key far from any lists the keys of the section', () => {
    assertError(lines('[group:web]', 'command_line = /bin/true'), 2, 'its keys are start, stop, start_timeout');
  });

  test('a key put in the wrong section names the section it belongs in', () => {
    assertError(lines('[group:web]', '[daemon]', 'listen = 127.0.0.1:80'), 3, '[daemon] has no key "listen"; it belongs in [web]');
    assertError(lines('[daemon]', 'pfile = /etc/x.pfile', '[group:g]'), 2, 'it belongs in [group:NAME] or [monitor:NAME] with type = process');
  });

  test('keys that name properties of every JavaScript object are unknown keys like any other', () => {
    assertError(lines('[group:web]', 'toString = x'), 2, '[group:web] has no key "toString"');
    assertError(lines('[group:web]', '__proto__ = x'), 2, '[group:web] has no key "__proto__"');
    assertError(monitor('tcp', 'constructor = x'), 6, '[monitor:m] has no key "constructor"');
  });

  test('a key of another monitor type names the type it belongs to', () => {
    assertError(monitor('tcp', 'host = db', 'port = 5432', 'url = http://db/'), 8, 'url is a key of http monitors, but this monitor has type = tcp');
    assertError(monitor('http', 'url = http://x/', 'host = db'), 7, 'host is a key of tcp and ping monitors');
  });

  test('a monitor without a type is refused at its header', () => {
    assertError(lines('[group:web]', '[monitor:m]', 'target = web'), 2, '[monitor:m] has no type; add type = process | pid | http');
  });

  test('a misspelt type key is reported as such, not as a missing type', () => {
    assertError(lines('[monitor:m]', 'tpye = http'), 2, 'did you mean type?');
  });

  test('an unknown monitor type suggests the closest', () => {
    assertError(monitor('htpp', 'url = http://x/'), 5, '[monitor:m] type = "htpp": not a known value; did you mean http?');
  });

  test('a missing required key is refused at the header, with an example', () => {
    assertError(monitor('http', 'target = web'), 4, '[monitor:m] has no url; add e.g. url = http://127.0.0.1:8080/health (http monitors need it)');
    assertError(lines('[schedule:s]', 'cron = 0 4 * * *', '[group:g]'), 1, '[schedule:s] has no action');
  });

  test('an empty value is refused', () => {
    assertError(withBase('expect_body ='), 8, '[monitor:web_http] expect_body: no value');
  });
});

describe('errors: values', () => {
  test('a duration that is not a number is refused', () => {
    assertError(withBase('interval = ten'), 8, '[monitor:web_http] interval = "ten": not a duration; write seconds (e.g. 60)');
  });

  test('a negative count is refused', () => {
    assertError(withBase('retries = -1'), 8, 'retries = "-1": negative; write 0 or more');
  });

  test('a negative duration and a zero interval are refused', () => {
    assertError(withBase('start_wait = -5'), 8, 'start_wait = "-5": negative');
    assertError(withBase('interval = 0'), 8, 'interval = "0": must be more than 0');
  });

  test('a duration beyond what a timer can hold is refused', () => {
    assertError(withBase('grace = 30d'), 8, 'too long; at most 2147483 seconds');
  });

  test('a count that is not whole is refused', () => {
    assertError(withBase('restart_threshold = 1.5'), 8, 'restart_threshold = "1.5": not a whole number; write e.g. restart_threshold = 1');
  });

  test('a bad enum value suggests the closest allowed one, or lists them', () => {
    assertError(withBase('final_action = reboots'), 8, 'final_action = "reboots": not a known value; did you mean reboot?');
    assertError(withBase('timing = sometimes'), 8, 'timing = "sometimes": not a known value; write one of always, active');
  });

  test('a bad on/off is refused', () => {
    assertError(lines('[daemon]', 'syslog = maybe', '[group:g]'), 2, 'syslog = "maybe": neither on nor off; write syslog = on or syslog = off');
  });

  test('a relative path is refused', () => {
    assertError(lines('[daemon]', 'state_file = var/state', '[group:g]'), 2, 'state_file = "var/state": not an absolute path');
  });

  test('a port out of range is refused', () => {
    assertError(monitor('tcp', 'host = 127.0.0.1', 'port = 70000'), 7, 'port = "70000": out of range; write a whole number from 1 to 65535');
    assertError(monitor('tcp', 'host = 127.0.0.1', 'port = 0'), 7, 'from 1 to 65535');
  });

  test('an http monitor with another URL scheme is refused', () => {
    assertError(monitor('http', 'url = ftp://files.example.com/'), 6, 'url = "ftp://files.example.com/": the scheme "ftp" is not supported; write an http:// or https:// URL');
  });

  test('an expected status outside 100-599 is refused', () => {
    assertError(withBase('expect_status = 99'), 8, 'from 100 to 599');
  });

  test('a host written as a URL is refused', () => {
    assertError(monitor('ping', 'host = http://gw/'), 6, 'a URL, not a host');
  });

  test('a bad listen address is refused', () => {
    assertError(withBase('[web]', 'listen = 29003'), 9, 'listen = "29003": only a port; write host:port');
    assertError(withBase('[web]', 'listen = 127.0.0.1:99999'), 9, 'the port "99999" is not from 1 to 65535');
    assertError(withBase('[web]', 'listen = ::1:8080'), 9, 'put an IPv6 address in brackets');
    assertError(withBase('[web]', 'listen = :8080'), 9, 'no host; write 127.0.0.1:PORT (this machine only) or 0.0.0.0:PORT');
  });

  test('an unknown alert event suggests the closest', () => {
    assertError(withBase('[alert]', 'events = down, restrat', 'webhook_url = http://h/'), 9, '"restrat" is not a known item; did you mean restart?');
  });

  test('a bad mail address is refused', () => {
    assertError(withBase('[alert]', 'mail_to = ops', 'smtp_host = localhost'), 9, '"ops": not a mail address');
  });

  test('an empty item in an include_strings list is refused', () => {
    assertError(monitor('resource', 'pname = /usr/bin/java', 'include_strings = a&&b', 'rss_mb = 100'), 7, 'an empty item (two "&" in a row');
  });
});

describe('errors: quoting', () => {
  test('an unquoted command with ";" is refused with the ini explanation and the quoted form', () => {
    assertError(
      lines('[group:web]', 'start = /opt/web/start.sh; /opt/web/warm.sh'),
      2,
      '[group:web] start: the value is cut at ";" because ini treats ";" and "#" as the start of a comment; quote the whole command: start = "/opt/web/start.sh; /opt/web/warm.sh"',
    );
  });

  test('an unquoted command with "#" is refused even when it looks like a comment', () => {
    assertError(lines('[group:web]', 'stop = /opt/web/stop.sh --color #fff'), 2, 'stop: the value is cut at "#"');
    assertError(monitor('custom', 'command = /opt/check.sh # quick'), 6, 'command: the value is cut at "#"');
  });

  test('a plain value cut in the middle by "#" is refused with the quoted form', () => {
    assertError(withBase('[alert]', 'webhook_url = http://h/x#frag'), 9, 'webhook_url: the value is cut at "#" because ini treats ";" and "#" as the start of a comment; quote the whole value: webhook_url = "http://h/x#frag"');
  });

  test('a comment after a quoted value is refused because ini would keep the quotes', () => {
    assertError(withBase('expect_body = "OK" ; the body'), 8, 'a comment after a quoted value makes ini keep the quotes');
  });

  test('a double-quoted value that is not valid JSON is refused', () => {
    assertError(withBase('expect_body = "C:\\data"'), 8, 'is not a valid double-quoted value');
  });

  test('an unterminated quote inside a command is refused', () => {
    assertError(lines('[group:web]', `start = "/opt/web/start.sh --name 'my site"`), 2, "[group:web] start = \"/opt/web/start.sh --name 'my site\": the ' opened at character 26 is never closed");
  });

  test('a shell pipeline in a command is refused', () => {
    assertError(monitor('custom', 'command = "/bin/ps aux | /bin/grep java"'), 6, 'commands run without a shell; put pipelines in a script and name the script here');
  });

  test('a relative command path is refused', () => {
    assertError(lines('[group:web]', 'start = nginx'), 2, 'start = "nginx": the program "nginx" is not an absolute path');
  });
});

describe('errors: rules between keys and sections', () => {
  test('a target naming a missing group suggests the closest group', () => {
    assertError(lines('[group:web]', '[monitor:m]', 'type = stall', 'target = wbe'), 4, '[monitor:m] target = "wbe": there is no [group:wbe]; did you mean web?');
  });

  test('a target in a file without groups says so', () => {
    assertError(lines('[monitor:m]', 'type = stall', 'target = web'), 3, 'the file defines no groups');
  });

  test('timing = active without a target is refused', () => {
    assertError(lines('[monitor:m]', 'type = stall', 'timing = active'), 3, 'an active monitor runs only while its target group is online, but this monitor has no target');
  });

  test('final_action = stop_group without a target is refused', () => {
    assertError(lines('[monitor:m]', 'type = stall', 'final_action = stop_group'), 3, 'there is no group to stop');
  });

  test('a disk monitor with neither path nor write_dir is refused', () => {
    assertError(monitor('disk', 'interval = 60'), 4, '[monitor:m] is a disk monitor with neither path nor write_dir');
  });

  test('a resource monitor with neither cpu_percent nor rss_mb is refused', () => {
    assertError(monitor('resource', 'pname = /usr/bin/java'), 4, 'neither cpu_percent nor rss_mb');
  });

  test('mail_to without smtp_host, and an alert section that sends nowhere, are refused', () => {
    assertError(withBase('[alert]', 'mail_to = ops@example.com'), 9, 'mail_to is set but smtp_host is not');
    assertError(withBase('[alert]', 'events = down'), 8, '[alert] sends alerts nowhere');
  });

  test('two groups with the same pfile are refused', () => {
    assertError(lines('[group:a]', 'pfile = /etc/p.pfile', '[group:b]', 'pfile = /etc/p.pfile'), 4, 'this pfile is already in [group:a]');
  });

  test("a process monitor targeting another group than the pfile's is refused, naming the right one", () => {
    assertError(
      lines('[group:web]', 'pfile = /etc/p.pfile', '[group:db]', '[monitor:m]', 'type = process', 'pfile = /etc/p.pfile', 'target = db'),
      7,
      '[monitor:m] target = "db": the pfile "/etc/p.pfile" belongs to [group:web], whose restart heals its entries (and whose state they follow); write target = web',
    );
    assert.equal(parse(lines('[group:web]', 'pfile = /etc/p.pfile', '[monitor:m]', 'type = process', 'pfile = /etc/p.pfile', 'target = web')).monitors[0].target, 'web');
  });

  test('two process monitors on one pfile are refused (the second would never fire)', () => {
    assertError(
      lines('[monitor:a]', 'type = process', 'pfile = /etc/p.pfile', '[monitor:b]', 'type = process', 'pfile = /etc/p.pfile'),
      6,
      '[monitor:b] pfile = "/etc/p.pfile": [monitor:a] already watches this pfile',
    );
  });

  test("a monitor named GROUP-pfile beside a group with a pfile is refused: it would hide the one procsafe adds", () => {
    assertError(
      lines('[group:web]', 'pfile = /etc/p.pfile', '[monitor:web-pfile]', 'type = tcp', 'host = 127.0.0.1', 'port = 80', 'target = web'),
      3,
      '[monitor:web-pfile]: procsafe names the process monitor it adds for the pfile of [group:web] web-pfile, so this section would hide it; rename this monitor, or make it that pfile\'s process monitor (type = process, pfile = /etc/p.pfile)',
    );
    // as that pfile's own process monitor, the name is fine: procsafe adds none
    const c = parse(lines('[group:web]', 'pfile = /etc/p.pfile', '[monitor:web-pfile]', 'type = process', 'pfile = /etc/p.pfile', 'target = web'));
    assert.deepEqual(c.monitors.map((m) => m.name), ['web-pfile']);
  });
});

describe('errors: schedules', () => {
  const schedule = (cron: string, action = 'restart_group web'): string => withBase('[schedule:s]', `cron = ${cron}`, `action = ${action}`);

  test('a cron expression with the wrong number of fields is refused', () => {
    assertError(schedule('0 4 * *'), 9, 'cron = "0 4 * *": it has 4 fields; write 5 fields');
  });

  test('a cron field out of range is refused, naming the field', () => {
    assertError(schedule('0 25 * * *'), 9, 'field 2 (hour) "25": 25 is out of range; use 0-23');
    assertError(schedule('0 0 4 * * 8'), 9, 'field 6 (day of week) "8"');
  });

  test('a date that never occurs is refused; 29 February is fine', () => {
    assertError(schedule('0 0 30 2 *'), 9, 'cron = "0 0 30 2 *": it never runs: no date has day of month 30 in month 2');
    assertError(schedule('0 0 31 4,6 *'), 9, 'fix the day-of-month or month field');
    assert.equal(parse(schedule('0 0 29 2 *')).schedules[0].cron, '0 0 29 2 *');
    // either day field may match: Mondays in February exist
    assert.equal(parse(schedule('0 0 30 2 1')).schedules.length, 1);
  });

  test('cron names, backward ranges, zero steps and macros are refused', () => {
    assertError(schedule('0 4 * * mon'), 9, 'write numbers');
    assertError(schedule('0 10-2 * * *'), 9, 'the range 10-2 runs backwards');
    assertError(schedule('*/0 * * * *'), 9, 'a step of 0 never advances');
    assertError(schedule('@daily'), 9, 'macros such as @daily are not supported');
  });

  test('a schedule naming a missing group is refused', () => {
    assertError(schedule('0 4 * * *', 'restart_group db'), 10, 'action = "restart_group db": there is no [group:db]; the groups are web');
  });

  test('a schedule naming a missing monitor suggests the closest', () => {
    assertError(schedule('0 4 * * *', 'suspend_monitor web_htp 600'), 10, 'there is no [monitor:web_htp]; did you mean web_http?');
  });

  test('an unknown schedule action suggests the closest, and a bad duration is refused', () => {
    assertError(schedule('0 4 * * *', 'restart_grp web'), 10, 'unknown action "restart_grp"; did you mean restart_group?');
    assertError(schedule('0 4 * * *', 'suspend_monitor web_http soon'), 10, 'not a duration');
  });
});

describe('errors: the host (checkFiles)', () => {
  const group = (key: string, value: string): string => lines('[group:web]', `${key} = ${value}`);

  test('a program that does not exist is refused', () => {
    assertError(group('start', `"${TMP}/missing.sh --now"`), 2, `the program "${TMP}/missing.sh" does not exist`, {});
  });

  test('a program that is not executable is refused with the chmod to run', () => {
    assertError(group('stop', NOT_EXECUTABLE), 2, `is not executable (or is on a noexec mount); run chmod +x ${NOT_EXECUTABLE}`, {});
  });

  test('a directory as program is refused', () => {
    assertError(monitor('custom', `command = ${TMP}`), 6, 'is a directory', {});
  });

  test('syntax errors come before host errors, wherever they are', () => {
    assertError(lines('[group:web]', `start = ${TMP}/missing.sh`, '[monitor:m]', 'type = stal'), 4, 'did you mean stall?', {});
  });

  test('without checkFiles a missing program is accepted', () => {
    assert.deepEqual(parse(group('start', `${TMP}/missing.sh`)).groups[0].start, [`${TMP}/missing.sh`]);
  });

  test('a pfile that does not exist is refused at the ini line', () => {
    assertError(group('pfile', `${TMP}/missing.pfile`), 2, '[group:web] pfile = ', {});
    assertError(group('pfile', `${TMP}/missing.pfile`), 2, 'the pfile does not exist', {});
  });

  test("a group's pfile with an error reports the pfile's own file, line and problem", () => {
    const e = parseError(group('pfile', BAD_PFILE), {});
    assert.equal(e.file, BAD_PFILE);
    assert.equal(e.line, 2);
    assert.ok(e.problem.includes('IPCKEY "zzz" is not a number'), e.message);
  });

  test("a process monitor's pfile is checked the same way", () => {
    const e = parseError(monitor('process', `pfile = ${BAD_PFILE}`), {});
    assert.equal(e.file, BAD_PFILE);
    assert.equal(e.line, 2);
  });
});

describe('the error itself', () => {
  test('is a ConfigError with exit code 2 and the message FILE:LINE: problem', () => {
    const e = assertError(withBase('retries = x'), 8, 'not a whole number');
    assert.equal(e.exitCode, ExitCode.USAGE);
    assert.equal(e.file, FILE);
    assert.ok(e.message.startsWith(`${FILE}:8: [monitor:web_http] retries = "x": `), e.message);
  });

  test('a byte that is not UTF-8 (a Latin-1 é in a path) is refused with its line and column; in a comment it is fine', () => {
    const body = Buffer.concat([
      Buffer.from('; caf'),
      Buffer.from([0xe9]), // Latin-1 "é" in a comment: harmless
      Buffer.from('\n[group:web]\nstart = "/opt/caf'),
      Buffer.from([0xe9]),
      Buffer.from('/start.sh"\n'),
    ]);
    const file = path.join(TMP, 'latin1.ini');
    fs.writeFileSync(file, body);
    assert.throws(
      () => loadFailsafeConfig(file, NO_FILES),
      (e: unknown) => e instanceof ConfigError && e.line === 3 && e.problem.startsWith('byte 0xE9 at column 18 is not UTF-8') && e.problem.includes('save it as UTF-8'),
    );
    fs.writeFileSync(file, Buffer.concat([Buffer.from('; caf'), Buffer.from([0xe9]), Buffer.from('\n[group:web]\nstart = "/opt/caf\u00e9/start.sh"\n')]));
    assert.deepEqual(loadFailsafeConfig(file, NO_FILES).groups[0].start, ['/opt/café/start.sh']);
  });

  test('loadFailsafeConfig of a missing file says so without a line', () => {
    const file = path.join(TMP, 'nope.ini');
    assert.throws(
      () => loadFailsafeConfig(file),
      (e: unknown) => e instanceof ConfigError && e.line === null && e.file === file && e.problem.includes('no such file; check the path given with --config'),
    );
  });
});
