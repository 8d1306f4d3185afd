// Field case 8: two pfiles with the same SHM_DUMP_FILE were accepted; the two pchecks overwrote
// each other's state, and padmin showed one pfile's entry under the other with an invented
// retry_over_act. A pcheck now claims its state file at start (flock on PATH.lock, which records
// the holder): a second pcheck is refused with exit 2 naming the other pfile; padmin never shows
// a state file written for another pfile as this one's.
import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { PCHECK, Sandbox, kill, sandboxes, waitFor, type Pcheck } from '../helpers/harness';
import { FailsafeSandbox } from '../helpers/failsafe';
import type { StateSnapshot } from '../../src/state/state-file';

const { box, cleanup } = sandboxes();
const extra: Sandbox[] = [];
after(() => {
  cleanup();
  extra.forEach((b) => b.cleanup());
});

/** A sandbox with one running service and a pfile whose state file is `state`. */
async function pfileWithState(sb: Sandbox, state: string, name: string): Promise<{ pfile: string; pname: string }> {
  const svc = sb.service(name);
  await sb.startService(svc);
  return { pfile: sb.pfile({ param: { SHM_DUMP_FILE: state }, pents: [`${svc.pname}:${svc.script}:0:3:exit`] }), pname: svc.pname };
}

/** The state file as last written (it is replaced atomically), or an empty one before the first write. */
/** Two sandboxes whose pfiles A and B name the same state file (in A's directory). */
async function sharing() {
  const [a, b] = [box(), box()];
  const state = join(a.dir, 'shared.dmp');
  return { a, b, state, A: await pfileWithState(a, state, 'a'), B: await pfileWithState(b, state, 'b') };
}

const snapshot = (state: string): StateSnapshot =>
  existsSync(state) ? (JSON.parse(readFileSync(state, 'utf8')) as StateSnapshot) : ({ entries: [] } as unknown as StateSnapshot);

function pcheckSync(sb: Sandbox, pfile: string, env: Record<string, string> = {}) {
  return spawnSync(process.execPath, [PCHECK, '-f', pfile], { env: sb.env(env), encoding: 'utf8', timeout: 10_000 });
}

describe('two pfiles with the same SHM_DUMP_FILE', () => {
  it('the second pcheck is refused at start: exit 2, naming the other pfile and its pcheck; the first keeps its state file', async () => {
    const { a, b, state, A, B } = await sharing();
    const pc = a.pcheck(A.pfile);
    await pc.waitLine(`(${A.pname} ,pid=`);
    await waitFor(() => snapshot(state).pcheckPid === pc.pid, 5000, 'the state file');
    const r = pcheckSync(b, B.pfile);
    assert.equal(r.status, 2, r.stdout + r.stderr);
    assert.equal(
      r.stderr,
      `pcheck: ${B.pfile}: SHM_DUMP_FILE ${state} is used by the pcheck pid ${pc.pid} of pfile ${A.pfile}; two pchecks cannot share a state file: give each pfile its own SHM_DUMP_FILE\n`,
    );
    assert.deepEqual(snapshot(state).entries.map((e) => e.pname), [A.pname], 'the state file is still the first pfile’s');
    assert.equal(a.showPent(A.pfile)[0].proc_sts, 'AVAIL');
  });

  it('without the native addon (no flock) the record of the live holder is enough to refuse', async () => {
    const { a, b, A, B } = await sharing();
    const pc = a.pcheck(A.pfile, [], { PROCSAFE_NATIVE: 'off' });
    await pc.waitLine(`(${A.pname} ,pid=`);
    const r = pcheckSync(b, B.pfile, { PROCSAFE_NATIVE: 'off' });
    assert.equal(r.status, 2, r.stdout + r.stderr);
    assert.match(r.stderr, new RegExp(`is used by the pcheck pid ${pc.pid} of pfile ${A.pfile}`));
  });

  it('two pchecks started at the same instant: exactly one runs, the other is refused (five rounds)', async () => {
    for (let round = 0; round < 5; round++) {
      const [a, b] = [box(), box()];
      const state = join(a.dir, 'shared.dmp');
      const A = await pfileWithState(a, state, 'a');
      const B = await pfileWithState(b, state, 'b');
      const both = [a.pcheck(A.pfile), b.pcheck(B.pfile)];
      let timer: NodeJS.Timeout | undefined;
      const neither = new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error('both pchecks still run after 15 s: neither was refused')), 15_000)));
      const refused = await Promise.race([...both.map((pc, i) => pc.exited.then((code) => ({ i, code }))), neither]).finally(() => clearTimeout(timer));
      assert.equal(refused.code, 2);
      const runner: Pcheck = both[1 - refused.i];
      await runner.waitLine('Start pcheck');
      await new Promise((r) => setTimeout(r, 300));
      assert.equal(runner.child.exitCode, null, 'the other one runs');
      await waitFor(() => snapshot(state).pcheckPid === runner.pid, 5000, 'the state file of the one that runs');
      kill(runner.pid, 'SIGTERM');
      await runner.exited;
    }
  });

  it('once the first pcheck has stopped, the other pfile takes the state file over (a renamed pfile), saying so', async () => {
    const a = box();
    const state = join(a.dir, 'state.dmp');
    const A = await pfileWithState(a, state, 'a');
    const first = a.pcheck(A.pfile);
    await first.waitLine(`(${A.pname} ,pid=`);
    kill(first.pid, 'SIGTERM');
    assert.equal(await first.exited, 0);
    const renamed = join(a.dir, 'renamed.pfile');
    renameSync(A.pfile, renamed);
    const pc = a.pcheck(renamed);
    await pc.waitLine(`State file ${state} was written by the pcheck of pfile ${A.pfile}, which no longer runs: this pfile takes it over`);
    await pc.waitLine(`(${A.pname} ,pid=`);
    await waitFor(() => snapshot(state).pfile === renamed, 5000, 'the state file to name the renamed pfile');
  });

  it('padmin does not show a state file written for another pfile: it says whose it is and exits 3', async () => {
    const { a, b, state, A, B } = await sharing();
    const pc = a.pcheck(A.pfile);
    await pc.waitLine(`(${A.pname} ,pid=`);
    kill(pc.pid, 'SIGTERM');
    await pc.exited;
    const r = b.padmin(B.pfile, 'show pent');
    assert.equal(r.code, 3);
    assert.equal(r.stdout, '', 'no entry shown');
    assert.match(r.stderr, new RegExp(`the state file ${state} was written by the pcheck of pfile ${A.pfile}, not of ${B.pfile}: not shown`));
    // its own pfile still gets it
    const own = a.padmin(A.pfile, 'show pent');
    assert.equal(own.code, 3);
    assert.match(own.stdout, new RegExp(`pname\\s+= ${A.pname}`));
  });

  it('a reload that names a state file another pcheck holds is refused; the old one stays claimed', async () => {
    const [a, b] = [box(), box()];
    const A = await pfileWithState(a, join(a.dir, 'a.dmp'), 'a');
    const B = await pfileWithState(b, join(b.dir, 'b.dmp'), 'b');
    const pa = a.pcheck(A.pfile);
    const pb = b.pcheck(B.pfile);
    await pa.waitLine(`(${A.pname} ,pid=`);
    await pb.waitLine(`(${B.pname} ,pid=`);
    const svc = { pname: B.pname, script: join(b.dir, 'start-b.sh') };
    b.pfile({ param: { SHM_DUMP_FILE: join(a.dir, 'a.dmp') }, pents: [`${svc.pname}:${svc.script}:0:3:exit`] });
    const r = b.padmin(B.pfile, 'reload');
    assert.equal(r.code, 1);
    assert.match(r.stderr, new RegExp(`is used by the pcheck pid ${pa.pid} of pfile ${A.pfile}`));
    assert.equal(snapshot(join(a.dir, 'a.dmp')).pcheckPid, pa.pid);
  });

  it('a pcheck killed with SIGKILL leaves no lock behind, even while the program its script started runs', async () => {
    const sb = box();
    const svc = sb.service('k');
    const pfile = sb.pfile({ param: { INITIAL_WAIT: 0.3 }, pents: [`${svc.pname}:${svc.script}:0:3:exit`] });
    const first = sb.pcheck(pfile);
    await first.waitLine(`Try to restart (${svc.pname})`); // missing at start: started by its script
    await first.waitLine(`(${svc.pname} ,pid=`);
    kill(first.pid, 'SIGKILL');
    await first.exited;
    const second = sb.pcheck(pfile);
    await second.waitLine(`(${svc.pname} ,pid=`);
    assert.equal(second.child.exitCode, null);
    assert.equal(sb.pidsOf(svc).length, 1);
  });

  it('FailSafe mode: two groups whose pfiles share a state file are refused at start; added by a reload, the second is left out and pcheck runs on', async () => {
    const sb = new FailsafeSandbox();
    extra.push(sb);
    const state = join(sb.dir, 'shared.dmp');
    const start = sb.script('start.sh', 'exit 0');
    const pfiles = ['a', 'b'].map((g, i) => {
      const file = join(sb.dir, `${g}.pfile`);
      writeFileSync(file, `##### PARAM #####\nIPCKEY 0x${(sb.ipckey + i + 1).toString(16)}\nSYSLOG off\nSHM_DUMP_FILE ${state}\n##### PENT #####\n${sb.dir}/${g}:${start}:0:3:none\n`);
      return file;
    });
    const groups = (n: number) => pfiles.slice(0, n).map((f, i) => `[group:${'ab'[i]}]\nstart = "${start}"\npfile = ${f}\n`).join('\n');
    sb.ini(groups(2));
    const refused = sb.failsafe();
    assert.equal(await refused.exited, 2);
    assert.match(refused.stderr, new RegExp(`${pfiles[1]}: SHM_DUMP_FILE ${state} is used by the pcheck pid ${refused.pid} of pfile ${pfiles[0]}`));

    sb.ini(groups(1));
    const pc = sb.failsafe();
    await sb.until('group a online', (v) => v.groups.some((g) => g.name === 'a' && g.state === 'Online'));
    sb.ini(groups(2));
    assert.equal(sb.admin('reload').code, 0);
    await pc.waitLine(`pfile='${pfiles[1]}' is not watched: ${pfiles[1]}: SHM_DUMP_FILE ${state} is used by`);
    await sb.until('group b online', (v) => v.groups.some((g) => g.name === 'b' && g.state === 'Online'));
    assert.equal(pc.child.exitCode, null, 'pcheck runs on');
    assert.deepEqual(sb.status().pfiles.map((p) => p.path), [pfiles[0]]);
  });
});

