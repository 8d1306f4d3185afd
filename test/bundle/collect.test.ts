// `padmin collect-logs`: the tar.gz is read back by the system's GNU tar — its listing, the
// masked ini, the untouched pfile, status.json, a large file byte for byte, a name longer
// than ustar's 100 bytes, and the MANIFEST noting what was missing or left out.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { bundleBaseName, collectLogs, withRotated } from '../../src/bundle/collect';
import { maskIni, MASK } from '../../src/bundle/mask';

function tar(...args: string[]): { out: string; err: string; status: number | null; raw: Buffer } {
  const r = spawnSync('tar', args, { maxBuffer: 64 * 1024 * 1024 });
  return { out: r.stdout.toString('utf8'), err: r.stderr.toString('utf8'), status: r.status, raw: r.stdout };
}

const INI = `; procsafe test
[daemon]
name = web01
state_file = /var/lib/procsafe/failsafe.state

[alert]
events = retry_over, final_action
mail_to = ops@example.com
smtp_host = localhost
smtp_password = hunter2   
webhook_url = "https://hooks.example.com/services/T0/B0/XYZ?channel=ops"

[web]
listen = 127.0.0.1:29003
token_file = /etc/procsafe/web.token
token = abcdef
api_key=k3y
`;

const PFILE = `##### PARAM #####
IPCKEY 0x1a2b3c4d
SHM_DUMP_FILE /var/lib/procsafe/web.state
##### PENT #####
/usr/bin/java 1 /etc/restart.sh 3 exit
`;

describe('collect-logs', () => {
  let dir = '';
  let out = '';
  let big: Buffer;
  const now = new Date(2026, 10, 23, 18, 0, 1);
  const root = 'procsafe-logs-web01-20261123-180001';
  let files: Record<string, string> = {};

  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'procsafe-bundle-'));
    const deep = join(dir, 'a-rather-long-directory-name-for-testing', 'and-another-one-below-it-to-pass-100-bytes', 'x'.repeat(60));
    mkdirSync(deep, { recursive: true });
    big = randomBytes(3 * 1024 * 1024 + 17);
    files = {
      log: join(dir, 'procsafe.log'),
      log1: join(dir, 'procsafe.log.1'),
      log2: join(dir, 'procsafe.log.2.gz'),
      state: join(dir, 'web.state'),
      ini: join(dir, 'procsafe.ini'),
      pfile: join(dir, 'web.pfile'),
      token: join(dir, 'web.token'),
      missing: join(dir, 'no-such.log'),
      big: join(dir, 'big.log'),
      deep: join(deep, 'deep.log'),
    };
    writeFileSync(files.log, '2026-11-23 17:40:39.997 pcheck[9325]: Process [/usr/bin/java , pid=9390] Down\n');
    writeFileSync(files.log1, 'older\n');
    writeFileSync(files.log2, 'oldest (pretend gz)\n');
    writeFileSync(files.state, '{"version":1,"entries":[]}\n');
    writeFileSync(files.ini, INI);
    writeFileSync(files.pfile, PFILE);
    writeFileSync(files.token, 'the-web-token\n');
    writeFileSync(files.big, big);
    writeFileSync(files.deep, 'deep\n');
    out = join(dir, 'bundle.tar.gz');
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('names the bundle directory after the short host name and the local time', () => {
    assert.equal(bundleBaseName('web01.example.com', now), root);
  });

  it('finds the rotated siblings of a log file', async () => {
    assert.deepEqual(await withRotated(files.log), [files.log, files.log1, files.log2]);
  });

  it('writes a 0600 tar.gz that tar lists, with secrets masked, status.json and a MANIFEST of what is missing', async () => {
    const status = JSON.stringify({ server: { name: 'web01' }, groups: [] }, null, 2);
    const logs = await withRotated(files.log);
    const r = await collectLogs({ out, files: [...logs, files.state, files.ini, files.pfile, files.token, files.missing, files.big, files.deep, dir], statusJson: status, now, host: 'web01.example.com', version: '0.1.0' });
    assert.equal(r.path, out);
    assert.equal(statSync(out).mode & 0o777, 0o600);

    const list = tar('tzf', out);
    assert.equal(list.status, 0, list.err);
    assert.equal(list.err, '');
    const want = [files.log, files.log1, files.log2, files.state, files.ini, files.pfile, files.big, files.deep].map((f) => `${root}${f}`);
    want.push(`${root}/status.json`, `${root}/MANIFEST.txt`);
    assert.deepEqual(list.out.trim().split('\n'), want);
    assert.deepEqual(r.entries, want);

    const ini = tar('xzf', out, '-O', `${root}${files.ini}`).out;
    assert.match(ini, /^smtp_password = \*{8} {3}$/m);
    assert.match(ini, /^token = \*{8}$/m);
    assert.match(ini, /^api_key=\*{8}$/m);
    assert.match(ini, /^webhook_url = "https:\/\/hooks\.example\.com\/\*{8}"$/m);
    assert.match(ini, /^token_file = \/etc\/procsafe\/web\.token$/m);
    assert.match(ini, /^mail_to = ops@example\.com$/m);
    assert.match(ini, /^; procsafe test$/m);
    for (const secret of ['hunter2', 'abcdef', 'k3y', 'XYZ', 'channel=ops']) assert.ok(!ini.includes(secret), secret);

    assert.equal(tar('xzf', out, '-O', `${root}${files.pfile}`).out, PFILE, 'the pfile (IPCKEY) is copied as it is');
    assert.equal(tar('xzf', out, '-O', `${root}/status.json`).out, status + '\n');
    const bigBack = tar('xzf', out, '-O', `${root}${files.big}`).raw;
    assert.equal(createHash('sha256').update(bigBack).digest('hex'), createHash('sha256').update(big).digest('hex'));
    assert.equal(tar('xzf', out, '-O', `${root}${files.deep}`).out, 'deep\n');

    const manifest = tar('xzf', out, '-O', `${root}/MANIFEST.txt`).out;
    assert.match(manifest, /^host: +web01\.example\.com$/m);
    assert.match(manifest, /^version: procsafe 0\.1\.0$/m);
    assert.ok(manifest.includes(`  ${files.missing}: missing (no such file)`), manifest);
    assert.ok(manifest.includes(`  ${files.token}: left out: a secret itself (token or key file)`), manifest);
    assert.ok(manifest.includes(`  ${dir}: left out: not a regular file (a directory)`), manifest);
    assert.ok(manifest.includes(`  ${files.ini}: ${Buffer.byteLength(ini)} bytes, masked: [alert] smtp_password, [alert] webhook_url, [web] token, [web] api_key`), manifest);
    assert.ok(manifest.includes(`  ${files.big}: ${big.length} bytes`), manifest);
    assert.ok(!tar('tzf', out).out.includes('web.token'));
  });

  it('notes a missing status (no daemon) and still writes the bundle', async () => {
    const o = join(dir, 'nostatus.tar.gz');
    const r = await collectLogs({ out: o, files: [files.log], statusJson: null, now, host: 'web01' });
    assert.deepEqual(r.entries, [`${root}${files.log}`, `${root}/MANIFEST.txt`]);
    assert.match(tar('xzf', o, '-O', `${root}/MANIFEST.txt`).out, /^ {2}status\.json: missing: no daemon answered padmin status --json$/m);
  });

  it('masks only secret ini keys, keeps paths and ids, and leaves a URL without secrets alone', () => {
    const { text, masked } = maskIni('[web]\ntoken_file = /etc/t\npassword=\nsecret = "x y"\n[alert]\nwebhook_url = http://127.0.0.1:8080/\nIPCKEY = 0x1\n');
    assert.equal(text, `[web]\ntoken_file = /etc/t\npassword=\nsecret = ${MASK}\n[alert]\nwebhook_url = http://127.0.0.1:8080/\nIPCKEY = 0x1\n`);
    assert.deepEqual(masked, ['[web] secret']);
  });
});
