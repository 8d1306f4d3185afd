// What pcheck --config does at start with a [web] port that is taken and a state_file whose
// directory is missing: one clear line and exit 2 with nothing started (docs/exit-codes.md);
// the state directory created as systemd's StateDirectory= would (mode 0700).
import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { failsafeSocketPath } from '../../src/control/protocol';
import { FailsafeSandbox } from '../helpers/failsafe';
import { kill, waitFor } from '../helpers/harness';

describe('pcheck --config at start', () => {
  const sb = new FailsafeSandbox();
  after(() => sb.cleanup());

  it('a [web] port already in use: one line naming the key and what to do, exit 2, no group started', async () => {
    const taken = createServer();
    await new Promise<void>((r) => taken.listen(0, '127.0.0.1', r));
    const port = (taken.address() as { port: number }).port;
    try {
      const started = join(sb.dir, 'started');
      const start = sb.script('start.sh', `touch ${started}`);
      sb.ini(`[group:app]\nstart = "${start}"\n\n[web]\nlisten = 127.0.0.1:${port}\ntoken_file = ${join(sb.dir, 'web.token')}\n`);
      const pc = sb.failsafe(['--rehearse']);
      assert.equal(await pc.exited, 2);
      assert.equal(
        pc.stderr,
        `pcheck: [web] listen = 127.0.0.1:${port}: cannot listen for the web page: the address is already in use (another pcheck, or another program: ss -ltnp 'sport = :${port}'); stop it, or set [web] listen to a free port\n`,
      );
      assert.equal(existsSync(started), false, 'no group was started');
      assert.equal(existsSync(failsafeSocketPath(sb.runDir)), false, 'the control socket is gone');
      assert.match(pc.lines.at(-1)!.text, /pcheck\[\d+\]: \[web\] listen = .*already in use/);
      assert.equal(pc.count('internal error'), 0);
    } finally {
      taken.close();
    }
  });

  it('a state_file whose directory does not exist: the directory is created (0700) and the alert log goes there', async () => {
    const stateDir = join(sb.dir, 'var', 'lib', 'procsafe');
    const start = sb.script('start.sh', 'exit 0');
    sb.ini(`[group:app]\nstart = "${start}"\n`);
    writeFileSync(sb.iniPath, readFileSync(sb.iniPath, 'utf8').replace('[daemon]\n', `[daemon]\nstate_file = ${stateDir}/failsafe.state\n`));
    const pc = sb.failsafe(['--rehearse']);
    await pc.waitLine(`State directory ${stateDir} created (mode 0700) for [daemon] state_file`);
    assert.equal(statSync(stateDir).mode & 0o777, 0o700);
    await sb.until('app Online', (s) => s.groups[0].state === 'Online');
    assert.equal(sb.admin('group', 'restart', 'app').code, 0);
    await waitFor(() => existsSync(join(stateDir, 'alerts.log')) && readFileSync(join(stateDir, 'alerts.log'), 'utf8').includes('group_restart'), 5000, 'the alert log');
    assert.equal(pc.count('cannot'), 0);
    kill(pc.pid, 'SIGTERM');
    assert.equal(await pc.exited, 0);
  });

  it('a state_file under a regular file is refused with what to do, exit 2', async () => {
    const file = join(sb.dir, 'not-a-dir');
    writeFileSync(file, '');
    const start = sb.script('start.sh', 'exit 0');
    sb.ini(`[group:app]\nstart = "${start}"\n`);
    writeFileSync(sb.iniPath, readFileSync(sb.iniPath, 'utf8').replace('[daemon]\n', `[daemon]\nstate_file = ${file}/failsafe.state\n`));
    const pc = sb.failsafe(['--rehearse']);
    assert.equal(await pc.exited, 2);
    assert.match(pc.stderr, new RegExp(`^pcheck: .*procsafe\\.ini: \\[daemon\\] state_file = ${file}/failsafe\\.state: the state directory ${file} is not a directory; remove what is there or choose another state_file\\n$`));
  });
});
