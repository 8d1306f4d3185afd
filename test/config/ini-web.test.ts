// [web] allow and [fleet:NAME]: who may use the web page, and the other servers it shows.
import { describe, test } from 'node:test';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import assert from 'node:assert/strict';
import { parseFailsafeConfig } from '../../src/config/ini';
import { isLoopbackHost, parseCidr } from '../../src/config/net-access';
import { ExitCode } from '../../src/errors';
import { configError } from './config-error';

const FILE = '/etc/procsafe/test.ini';
/** A group on line 1; `more` from line 2. */
const ini = (...more: string[]): string => ['[group:app]', ...more].join('\n') + '\n';
const parse = (text: string) => parseFailsafeConfig(text, FILE, { checkFiles: false });

const error = (text: string) => configError(() => parse(text));

describe('[web] allow', () => {
  test('takes addresses and CIDR blocks of IPv4 and IPv6, in a comma-separated list', () => {
    const cfg = parse(ini('[web]', 'listen = 0.0.0.0:29003', 'allow = 127.0.0.1, 192.0.2.0/24, 2001:db8::/32, ::1'));
    assert.deepEqual(cfg.web?.allow, ['127.0.0.1', '192.0.2.0/24', '2001:db8::/32', '::1']);
  });

  test('is null (loopback clients only) when absent on a loopback listen address', () => {
    for (const listen of ['127.0.0.1:29003', '127.0.0.2:8080', '[::1]:29003', 'localhost:29003']) {
      assert.equal(parse(ini('[web]', `listen = ${listen}`)).web?.allow, null, listen);
    }
  });

  test('refuses to start on a non-loopback address without allow: exit 2, at the listen line, saying what to add', () => {
    for (const listen of ['0.0.0.0:29003', '[::]:29003', '192.0.2.5:29003', 'web01.example.com:29003']) {
      const e = error(ini('[web]', `listen = ${listen}`));
      assert.equal(e.exitCode, ExitCode.USAGE);
      assert.equal(e.line, 3, e.message);
      assert.match(e.problem, /is reachable from other machines, so say which clients may connect: add allow = 127\.0\.0\.1, 192\.0\.2\.10/);
    }
  });

  test('names the bad item of the list and says what to write', () => {
    assert.match(error(ini('[web]', 'allow = 127.0.0.1, 10.0.0.0/33')).problem, /"10\.0\.0\.0\/33": the prefix length "33" is not from 0 to 32; write e\.g\. 10\.0\.0\.0\/24/);
    assert.match(error(ini('[web]', 'allow = lan')).problem, /"lan": "lan" is not an IP address/);
    assert.match(error(ini('[web]', 'allow = 127.0.0.1,,::1')).problem, /an empty item/);
  });

  test('parseCidr and isLoopbackHost', () => {
    assert.deepEqual(parseCidr('10.1.2.3'), { address: '10.1.2.3', prefix: 32, family: 'ipv4' });
    assert.deepEqual(parseCidr('2001:db8::/48'), { address: '2001:db8::', prefix: 48, family: 'ipv6' });
    assert.equal(typeof parseCidr('::1/129'), 'string');
    assert.deepEqual(['127.0.0.1', '127.9.9.9', '::1', '[::1]', 'localhost', '::ffff:127.0.0.1'].map(isLoopbackHost), [true, true, true, true, true, true]);
    assert.deepEqual(['0.0.0.0', '::', '192.0.2.1', 'example.com', '128.0.0.1'].map(isLoopbackHost), [false, false, false, false, false]);
  });
});

describe('[fleet:NAME]', () => {
  test('lists the other servers in file order, each with its URL and token file', () => {
    const cfg = parse(
      ini('[web]', '[fleet:web02]', 'url = http://192.0.2.12:29003/', 'token_file = /etc/procsafe/fleet/web02.token', '[fleet:db01]', 'url = https://db01.example.com/procsafe/', 'token_file = /etc/procsafe/fleet/db01.token'),
    );
    assert.deepEqual(cfg.web?.fleet, [
      { name: 'web02', url: 'http://192.0.2.12:29003/', tokenFile: '/etc/procsafe/fleet/web02.token' },
      { name: 'db01', url: 'https://db01.example.com/procsafe/', tokenFile: '/etc/procsafe/fleet/db01.token' },
    ]);
  });

  test('needs url and token_file, and no password in the URL', () => {
    assert.match(error(ini('[web]', '[fleet:web02]', 'url = http://192.0.2.12:29003/')).problem, /\[fleet:web02\] has no token_file; add e\.g\. token_file = /);
    assert.match(error(ini('[web]', '[fleet:web02]', 'token_file = /t')).problem, /\[fleet:web02\] has no url/);
    const e = error(ini('[web]', '[fleet:web02]', 'url = http://admin:secret@192.0.2.12:29003/', 'token_file = /t'));
    assert.equal(e.line, 4);
    assert.match(e.problem, /no user or password in the URL; the server's token goes in token_file/);
    assert.match(error(ini('[web]', '[fleet:web02]', 'url = ftp://x/', 'token_file = /t')).problem, /write an http:\/\/ or https:\/\/ URL/);
  });

  test('is read every [web] fleet_interval: 5 s by default, a duration', () => {
    assert.equal(parse(ini('[web]')).web?.fleetIntervalSec, 5);
    assert.equal(parse(ini('[web]', 'fleet_interval = 1m')).web?.fleetIntervalSec, 60);
    assert.match(error(ini('[web]', 'fleet_interval = 0')).problem, /must be more than 0/);
  });

  test('a pfile of FailSafe mode may not have METRICS_LISTEN: /metrics is on [web] there', () => {
    const dir = mkdtempSync(join(tmpdir(), 'procsafe-ini-web-'));
    try {
      const pfile = join(dir, 'app.pfile');
      writeFileSync(pfile, '##### PARAM #####\nIPCKEY 0x1234\nMETRICS_LISTEN 127.0.0.1:29101\nMETRICS_TOKEN_FILE /t/m.token\n##### PENT #####\n/usr/bin/app:/bin/true:0:3:group\n');
      const e = configError(() => parseFailsafeConfig(ini(`pfile = ${pfile}`, '[web]'), FILE));
      assert.equal(e.line, 2);
      assert.match(e.problem, /its METRICS_LISTEN is for pcheck -f alone; in FailSafe mode \/metrics is served by \[web\]: remove the METRICS_\* keys/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test('is shown on the web page, so it needs [web]', () => {
    const e = error(ini('[fleet:web02]', 'url = http://192.0.2.12:29003/', 'token_file = /t'));
    assert.equal(e.line, 2);
    assert.match(e.problem, /the other servers are shown on the web page, and this file has no \[web\]; add \[web\]/);
  });
});
