// The METRICS_* PARAM keys of `pcheck -f` (off by default: a ProcessSaver pfile is unchanged).
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { PARAM_DEFAULTS, parsePfile } from '../../src/config/pfile';
import { ExitCode } from '../../src/errors';
import { configError } from './config-error';

const FILE = '/etc/procsafe/test.pfile';
/** PARAM on line 1, IPCKEY on 2, `params` from line 3. */
const pfile = (...params: string[]): string => ['##### PARAM #####', 'IPCKEY 0x1234', ...params, '##### PENT #####', '/usr/bin/java:/bin/true:0:3:exit', ''].join('\n');
const parse = (text: string) => parsePfile(text, FILE, { checkFiles: false });

const error = (text: string) => configError(() => parse(text));

describe('METRICS_LISTEN, METRICS_TOKEN_FILE, METRICS_ALLOW', () => {
  test('are off by default: a ProcessSaver pfile serves no metrics', () => {
    const p = parse(pfile()).param;
    assert.deepEqual([p.metricsListen, p.metricsTokenFile, p.metricsAllow], [null, null, null]);
    assert.equal(PARAM_DEFAULTS.metricsListen, null);
  });

  test('are read together: a loopback address with a token file, or any address with an allow list', () => {
    const local = parse(pfile('METRICS_LISTEN 127.0.0.1:29101', 'METRICS_TOKEN_FILE /etc/procsafe/metrics.token')).param;
    assert.deepEqual([local.metricsListen, local.metricsTokenFile, local.metricsAllow], ['127.0.0.1:29101', '/etc/procsafe/metrics.token', null]);
    const lan = parse(pfile('METRICS_LISTEN 0.0.0.0:29101', 'METRICS_TOKEN_FILE /t/m.token', 'METRICS_ALLOW 127.0.0.1, 192.0.2.0/24')).param;
    assert.deepEqual(lan.metricsAllow, ['127.0.0.1', '192.0.2.0/24']);
  });

  test('METRICS_LISTEN needs METRICS_TOKEN_FILE, and a non-loopback address needs METRICS_ALLOW (exit 2, at the line)', () => {
    let e = error(pfile('METRICS_LISTEN 127.0.0.1:29101'));
    assert.equal(e.exitCode, ExitCode.USAGE);
    assert.equal(e.line, 3);
    assert.match(e.problem, /METRICS_LISTEN needs METRICS_TOKEN_FILE: the bearer token Prometheus sends .*; add e\.g\. METRICS_TOKEN_FILE \/etc\/procsafe\/metrics\.token/);
    e = error(pfile('METRICS_TOKEN_FILE /t/m.token', 'METRICS_LISTEN 0.0.0.0:29101'));
    assert.equal(e.line, 4);
    assert.match(e.problem, /METRICS_LISTEN "0\.0\.0\.0:29101": 0\.0\.0\.0:29101 is reachable from other machines, so say which clients may connect: add METRICS_ALLOW 127\.0\.0\.1, 192\.0\.2\.20/);
  });

  test('a token file or an allow list without METRICS_LISTEN is refused: it would serve nothing', () => {
    const e = error(pfile('METRICS_ALLOW 127.0.0.1'));
    assert.equal(e.line, 3);
    assert.match(e.problem, /METRICS_ALLOW is set but METRICS_LISTEN is not, so nothing serves \/metrics; add e\.g\. METRICS_LISTEN 127\.0\.0\.1:29101/);
  });

  test('bad values name the key and say what to write', () => {
    assert.match(error(pfile('METRICS_LISTEN 29101')).problem, /METRICS_LISTEN "29101": only a port; write host:port/);
    assert.match(error(pfile('METRICS_TOKEN_FILE metrics.token')).problem, /METRICS_TOKEN_FILE "metrics\.token" is not an absolute path/);
    assert.match(error(pfile('METRICS_ALLOW 10.0.0.0/40')).problem, /METRICS_ALLOW "10\.0\.0\.0\/40": the prefix length "40" is not from 0 to 32/);
    assert.match(error(pfile('METRICS_LISTEN=127.0.0.1:1')).problem, /uses "="; separate the key and the value with blanks, e\.g\. METRICS_LISTEN 127\.0\.0\.1:1/);
  });
});
