// The measuring half of `npm run bench` (see run.ts): runs below bench/subreaper.
import { spawn, spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Poller } from './heal-poller';
import { argvKey, type CpuTimes, cpuPercent, findByKeys, machineBusyPercent, machineCpu, nowMs, readStat, sampleTree } from './proc';
import { fmtMs, rng, summarize } from './stats';
import {
  AdoptedServices,
  Background,
  MonitSut,
  ProcsafeSut,
  ROOT,
  SupervisordSut,
  Workspace,
  killPid,
  procsafe,
  sleep,
  snapshotProcsafe,
  type Sut,
} from './suts';
import { renderReport } from './report';
import type { HealRow, IdleRow, MassRow, PadminRow, Results, ScriptTimes } from './types';
import { BACKGROUND, HEAL_NS, IDLE_SECONDS, KILLS, MASS_N, MONIT30_KILLS, NS, ONLY, PADMIN_RUNS, QUICK, SCRIPT_RUNS, SEED, flags, wants, DIAGNOSTICS, NOSR_KILLS } from './cli';

const WRAPPER = Number(process.env.PROCSAFE_BENCH_SUBREAPER ?? 0) || null;

// ---- progress, cleanup -------------------------------------------------------------------

const t0 = nowMs();
function say(msg: string): void {
  const s = ((nowMs() - t0) / 1000).toFixed(0).padStart(5);
  process.stderr.write(`[${s}s] ${msg}\n`);
}

const work = mkdtempSync(join(tmpdir(), 'psbench-'));
const ws = new Workspace(work);
const background = new Background(ws);
const adopted = new AdoptedServices(ws, 'svc');
let current: Sut | null = null;
const serviceSets: AdoptedServices[] = [adopted];

function cleanup(): void {
  current?.abort();
  background.stop();
  for (const s of serviceSets) s.killAll();
  if (!flags.keep) rmSync(work, { recursive: true, force: true });
}

for (const sig of ['SIGINT', 'SIGTERM'] as const) {
  process.on(sig, () => {
    say(`${sig}: cleaning up`);
    cleanup();
    process.exit(130);
  });
}

// ---- the /proc poller thread -------------------------------------------------------------

const poller = new Poller((e) => {
  say(`poller thread failed: ${String(e)}`);
  cleanup();
  process.exit(1);
});
const rand = rng(SEED);

// ---- results -----------------------------------------------------------------------------

const results: Results = {
  startedAt: new Date().toISOString(),
  finishedAt: '',
  durationS: 0,
  command: `npm run bench${process.argv.length > 2 ? ' -- ' + process.argv.slice(2).join(' ') : ''}`,
  options: { quick: QUICK, only: ONLY, idleSeconds: IDLE_SECONDS, kills: KILLS, seed: SEED, background: BACKGROUND, monit30Kills: MONIT30_KILLS },
  machine: {},
  subreaper: { wrapperPid: WRAPPER, orphanParent: null, note: '' },
  script: null,
  heal: [],
  idle: [],
  mass: [],
  padmin: null,
  startup: [],
  load: { start: '', end: '' },
  errors: [],
};
const loadavg = (): string => readFileSync('/proc/loadavg', 'latin1').trim().split(' ').slice(0, 3).join(' ');

// ---- machine -----------------------------------------------------------------------------

function sh(cmd: string): string {
  const r = spawnSync('bash', ['-c', cmd], { encoding: 'utf8' });
  return `${r.stdout}${r.stderr}`.trim();
}

function machine(): Record<string, string> {
  return {
    nproc: sh('nproc'),
    cpu: sh("grep -m1 'model name' /proc/cpuinfo | cut -d: -f2-").trim(),
    memory: sh('free -h | sed -n 2p'),
    kernel: sh('uname -sr'),
    os: sh('. /etc/os-release && echo "$PRETTY_NAME"'),
    node: process.version,
    monit: sh('monit -V 2>/dev/null | head -1') || 'not installed',
    supervisord: sh('supervisord --version 2>/dev/null') || 'not installed',
    bash: sh('bash --version | head -1'),
    pid_max: sh('cat /proc/sys/kernel/pid_max'),
    procsafe: sh(`cd ${ROOT} && git describe --always --dirty 2>/dev/null && git status --porcelain src native | wc -l`).replace('\n', ', uncommitted files in src/ and native/: '),
  };
}

/** Who adopts an orphan made now: the subreaper wrapper, or PID 1. */
function orphanParent(): number | null {
  const r = spawnSync('bash', ['-c', '(exec -a psbench-orphan-probe sleep 30) </dev/null >/dev/null 2>&1 & echo $!'], { encoding: 'utf8' });
  const pid = Number(r.stdout.trim());
  if (!pid) return null;
  const ppid = readStat(pid)?.ppid ?? null;
  killPid(pid);
  return ppid;
}

async function setSubreaper(on: boolean): Promise<number | null> {
  if (WRAPPER === null) return orphanParent();
  process.kill(WRAPPER, on ? 'SIGUSR2' : 'SIGUSR1');
  for (let i = 0; i < 50; i++) {
    await sleep(10);
    const p = orphanParent();
    if (on ? p === WRAPPER : p !== WRAPPER) return p;
  }
  throw new Error(`the subreaper wrapper did not turn ${on ? 'on' : 'off'}`);
}

// ---- measurements ------------------------------------------------------------------------

async function scriptTimes(): Promise<ScriptTimes> {
  const exitT: number[] = [];
  const appearT: number[] = [];
  const bashT: number[] = [];
  const probeDir = join(work, 'probe');
  mkdirSync(probeDir, { recursive: true });
  for (let i = 0; i < SCRIPT_RUNS; i++) {
    const pname = join(probeDir, `probe${i}`);
    const { armed, result } = poller.request({
      kills: [],
      targets: [argvKey([pname, 'infinity'])],
      targetKill: [null],
      intervalMs: 1,
      timeoutMs: 5000,
      trackReap: false,
      reapTimeoutMs: 0,
    });
    await armed;
    const start = nowMs();
    // As pcheck runs it: detached (own process group), clean environment, output piped.
    const child = spawn(ws.restartScript, [], { detached: true, env: { PATH: '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin', PS_PNAME: pname }, stdio: ['ignore', 'pipe', 'pipe'] });
    child.stdout.resume();
    child.stderr.resume();
    const exited = await new Promise<number>((r) => child.once('exit', () => r(nowMs())));
    exitT.push(exited - start);
    const r = await result;
    const f = r.found[0];
    if (f) {
      appearT.push(f.at - start);
      killPid(f.pid);
    }
    await sleep(50);
  }
  for (let i = 0; i < SCRIPT_RUNS; i++) {
    const start = nowMs();
    const child = spawn('bash', ['-c', 'true'], { stdio: 'ignore' });
    bashT.push(await new Promise<number>((r) => child.once('exit', () => r(nowMs() - start))));
  }
  return { runs: SCRIPT_RUNS, spawnToExit: summarize(exitT), spawnToProcess: summarize(appearT), bashTrue: summarize(bashT) };
}

function healRow(sut: Sut, n: number, method: HealRow['method'], subreaper: boolean, note: string): HealRow {
  const empty = summarize([]);
  return {
    sut: sut.name,
    label: sut.label,
    n,
    subreaper,
    method,
    kills: 0,
    failed: 0,
    heal: [],
    zombie: [],
    down: [],
    up: [],
    healS: empty,
    zombieS: empty,
    downS: null,
    upS: null,
    note,
    machineBusyPct: NaN,
    background: 0,
    rssAfterMb: null,
  };
}

function finishHeal(row: HealRow, cpu0: CpuTimes): HealRow {
  row.machineBusyPct = machineBusyPercent(cpu0, machineCpu());
  row.healS = summarize(row.heal);
  row.zombieS = summarize(row.zombie);
  row.downS = row.down.length ? summarize(row.down) : null;
  row.upS = row.up.length ? summarize(row.up) : null;
  return row;
}

/** Kills a random service, waits for its replacement, pauses 200–700 ms (plus a random phase of monit's cycle), repeats. */
async function healSequential(sut: Sut, n: number, kills: number, subreaper = true, note = ''): Promise<HealRow> {
  const row = healRow(sut, n, 'sequential', subreaper, note);
  const cpu0 = machineCpu();
  say(`  heal: ${kills} kills of ${sut.name} at N=${n}${subreaper ? '' : ' (not a subreaper)'}`);
  for (let k = 0; k < kills; k++) {
    const i = Math.floor(rand() * n);
    const v = sut.victim(i);
    const { result } = poller.request({
      kills: [{ pid: v.pid, atMs: null }],
      targets: [v.key],
      targetKill: [0],
      intervalMs: 1,
      timeoutMs: sut.healTimeoutMs,
      trackReap: true,
      reapTimeoutMs: 3000,
    });
    const r = await result;
    row.kills++;
    const killAt = r.killAt[0] as number;
    const f = r.found[0];
    if (r.killError[0] !== null || !f) {
      row.failed++;
      results.errors.push(`${sut.name} N=${n}: kill ${k + 1} (pid ${v.pid}): ${r.killError[0] ?? `no new process within ${sut.healTimeoutMs} ms`}`);
      await sleep(1000);
      sut.refresh();
      continue;
    }
    row.heal.push(f.at - killAt);
    const reaped = r.reapedAt[0];
    if (reaped !== null) row.zombie.push(reaped - killAt);
    sut.replaced(i, f.pid);
    const log = sut.log;
    if (log) {
      const d = await log.waitFor(() => log.downByPid.get(v.pid), 5000);
      const u = await log.waitFor(() => log.upByPid.get(f.pid), 5000);
      if (d !== null) row.down.push(d - killAt);
      if (u !== null) row.up.push(u - killAt);
    }
    // The pause counts from the heal: time spent waiting for the reap (PID 1 takes ~1.5 s) is part of it.
    const pause = 200 + rand() * 500 + (sut.cycleMs > 0 ? rand() * sut.cycleMs : 0);
    await sleep(Math.max(0, f.at + pause - nowMs()));
  }
  return finishHeal(row, cpu0);
}

/** For a slow cycle (monit at 30 s): `count` different services killed at random moments of
 *  one cycle-long window, each watched for its replacement. The phase of a kill within the
 *  cycle is what its latency depends on, so this samples it as sequential kills would, in one cycle. */
async function healStaggered(sut: Sut, n: number, count: number): Promise<HealRow> {
  const row = healRow(sut, n, 'staggered', true, `${count} kills at random moments of one ${sut.cycleMs / 1000} s window`);
  const cpu0 = machineCpu();
  say(`  heal: ${count} staggered kills of ${sut.name} at N=${n} over ${sut.cycleMs / 1000} s`);
  const chosen: number[] = [];
  while (chosen.length < Math.min(count, n)) {
    const i = Math.floor(rand() * n);
    if (!chosen.includes(i)) chosen.push(i);
  }
  const base = nowMs() + 50;
  const victims = chosen.map((i) => sut.victim(i));
  const { result } = poller.request({
    kills: victims.map((v) => ({ pid: v.pid, atMs: base + rand() * sut.cycleMs })),
    targets: victims.map((v) => v.key),
    targetKill: victims.map((_, j) => j),
    intervalMs: 1,
    timeoutMs: sut.healTimeoutMs,
    trackReap: true,
    reapTimeoutMs: 3000,
  });
  const r = await result;
  victims.forEach((v, j) => {
    row.kills++;
    const f = r.found[j];
    const killAt = r.killAt[j];
    if (!f || killAt === null) {
      row.failed++;
      results.errors.push(`${sut.name} N=${n}: staggered kill of pid ${v.pid}: ${r.killError[j] ?? 'no new process'}`);
      return;
    }
    row.heal.push(f.at - killAt);
    const reaped = r.reapedAt[j];
    if (reaped !== null) row.zombie.push(reaped - killAt);
    sut.replaced(chosen[j], f.pid);
  });
  if (row.failed > 0) sut.refresh();
  return finishHeal(row, cpu0);
}

async function idle(sut: Sut, n: number, bg: number): Promise<IdleRow> {
  await sleep(1000); // let start-up work (first scans, background forks) settle
  const root = sut.pid as number;
  const exclude = (pid: number) => sut.isService(pid);
  const m0 = machineCpu();
  const a = sampleTree(root, exclude);
  await sleep(IDLE_SECONDS * 1000);
  const b = sampleTree(root, exclude);
  const row: IdleRow = {
    sut: sut.name,
    label: sut.label,
    n,
    background: bg,
    seconds: (b.at - a.at) / 1000,
    cpuPct: cpuPercent(a, b),
    rssMb: b.rssKb / 1024,
    procs: b.count,
    machineBusyPct: machineBusyPercent(m0, machineCpu()),
  };
  say(
    `  idle ${sut.name} N=${n} bg=${bg}: ${row.cpuPct.toFixed(2)} % CPU, ${row.rssMb.toFixed(1)} MB RSS ` +
      `(${row.procs} processes in its tree; machine ${row.machineBusyPct.toFixed(1)} % busy)`,
  );
  return row;
}

/** Heals at scale (issue 14): N services among BACKGROUND unrelated processes, then the
 *  supervisor's RSS once this warm-up is done. */
async function healAmongBackground(sut: Sut, n: number): Promise<void> {
  const took = await background.start(BACKGROUND);
  say(`  started ${BACKGROUND} background processes in ${(took / 1000).toFixed(1)} s`);
  try {
    await sleep(1000);
    const row = await healSequential(sut, n, KILLS, true, `${BACKGROUND} background processes`);
    row.background = BACKGROUND;
    await sleep(1000);
    row.rssAfterMb = sampleTree(sut.pid as number, (pid) => sut.isService(pid)).rssKb / 1024;
    say(`  ${sut.name} RSS after ${row.kills} heals at N=${n} + ${BACKGROUND} bg: ${row.rssAfterMb.toFixed(1)} MB`);
    results.heal.push(row);
  } finally {
    await background.stopAndSettle();
  }
  await sleep(500);
}

async function idleBoth(sut: Sut, n: number): Promise<void> {
  results.idle.push(await idle(sut, n, 0));
  const took = await background.start(BACKGROUND);
  say(`  started ${BACKGROUND} background processes in ${(took / 1000).toFixed(1)} s`);
  try {
    results.idle.push(await idle(sut, n, BACKGROUND));
  } finally {
    await background.stopAndSettle();
  }
  await sleep(500);
}

/** Kills all n services as fast as possible; every replacement is watched for (10 ms polls). */
async function massKill(sut: Sut, n: number, stateFile: boolean, note = ''): Promise<MassRow> {
  say(`  mass kill: ${n} services of ${sut.name}${stateFile ? '' : ' (no SHM_DUMP_FILE)'}`);
  const cpu0 = machineCpu();
  const idx = Array.from({ length: n }, (_, i) => i);
  const victims = idx.map((i) => sut.victim(i));
  const exclude = (pid: number) => sut.isService(pid);
  const tree0 = sampleTree(sut.pid as number, exclude);
  const { result } = poller.request({
    kills: victims.map((v) => ({ pid: v.pid, atMs: null })),
    targets: victims.map((v) => v.key),
    targetKill: idx,
    intervalMs: 10,
    timeoutMs: 180000,
    trackReap: false,
    reapTimeoutMs: 0,
  });
  const r = await result;
  const killed = r.killAt.filter((t): t is number => t !== null);
  const heal: number[] = [];
  victims.forEach((_, j) => {
    const f = r.found[j];
    const k = r.killAt[j];
    if (f && k !== null) {
      heal.push(f.at - k);
      sut.replaced(j, f.pid);
    }
  });
  const row: MassRow = {
    sut: sut.name,
    label: sut.label,
    n,
    stateFile,
    killSpanMs: Math.max(...killed) - Math.min(...killed),
    detected: null,
    down: [],
    downS: null,
    downStampS: null,
    firstDownMs: null,
    lastDownMs: null,
    healed: heal.length,
    heal,
    healS: summarize(heal),
    upLogged: null,
    upS: null,
    note,
    machineBusyPct: NaN,
    supervisorCpuS: NaN,
    spanS: NaN,
  };
  const log = sut.log;
  if (log) {
    await log.waitFor(() => (victims.every((v) => log.downByPid.has(v.pid)) ? true : null), 60000);
    const newPids = r.found.map((f) => f?.pid ?? -1);
    await log.waitFor(() => (newPids.every((p) => log.upByPid.has(p)) ? true : null), 20000);
    const stamps: number[] = [];
    const arrivals: number[] = [];
    victims.forEach((v, j) => {
      const d = log.downByPid.get(v.pid);
      const st = log.downStampByPid.get(v.pid);
      const k = r.killAt[j];
      if (d !== undefined && k !== null) row.down.push(d - k);
      if (st !== undefined && k !== null) stamps.push(st - k);
      if (d !== undefined) arrivals.push(d);
    });
    const firstKill = Math.min(...killed);
    row.downStampS = summarize(stamps);
    row.firstDownMs = arrivals.length ? Math.min(...arrivals) - firstKill : null;
    row.lastDownMs = arrivals.length ? Math.max(...arrivals) - firstKill : null;
    const up: number[] = [];
    r.found.forEach((f, j) => {
      const u = f ? log.upByPid.get(f.pid) : undefined;
      const k = r.killAt[j];
      if (u !== undefined && k !== null) up.push(u - k);
    });
    // Anything not logged Up: what pcheck said about it, and what runs under its name.
    let reported = 0;
    victims.forEach((v, j) => {
      const f = r.found[j];
      if (!f || log.upByPid.has(f.pid) || reported++ >= 5) return;
      const said = log.lines.filter((l) => l.text.includes(`${v.pname} `) || l.text.includes(`(${v.pname})`)).map((l) => l.text.replace(/^.*?: /, ''));
      const running = findByKeys(new Set([v.key])).get(v.key) ?? [];
      results.errors.push(
        `${sut.name} mass kill: ${v.pname} (killed pid ${v.pid}) came back as pid ${f.pid} (seen ${(f.at - (r.killAt[j] ?? 0)).toFixed(1)} ms after its kill) ` +
          `but pcheck logged no Up for that pid; now running: [${running.join(', ')}]; pcheck said: ${said.join(' | ')}`,
      );
    });
    row.detected = row.down.length;
    row.downS = summarize(row.down);
    row.upLogged = up.length;
    row.upS = summarize(up);
  }
  row.machineBusyPct = machineBusyPercent(cpu0, machineCpu());
  const tree1 = sampleTree(sut.pid as number, exclude);
  row.spanS = (tree1.at - tree0.at) / 1000;
  row.supervisorCpuS = (cpuPercent(tree0, tree1) / 100) * row.spanS;
  if (row.healed < n) sut.refresh();
  say(
    `  mass kill ${sut.name}: killed ${killed.length} in ${row.killSpanMs.toFixed(1)} ms; ` +
      `${row.detected ?? '-'} Down (p99 ${fmtMs(row.downS?.p99)} ms); ${row.healed} back in /proc (max ${fmtMs(row.healS.max)} ms)`,
  );
  return row;
}

async function padminTimes(sut: ProcsafeSut, n: number): Promise<PadminRow> {
  say(`  padmin show pent x${PADMIN_RUNS} against ${n} entries`);
  const times: number[] = [];
  let ok = 0;
  for (let i = 0; i < PADMIN_RUNS; i++) {
    const start = nowMs();
    const child = spawn(procsafe.padmin, ['-f', sut.pfile, '-c', 'show pent'], { env: { ...process.env, PROCSAFE_RUN_DIR: ws.runDir }, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => (out += d));
    child.stderr.resume();
    const code = await new Promise<number | null>((r) => child.once('close', (c) => r(c)));
    times.push(nowMs() - start);
    const blocks = out.split('\n').filter((l) => l.startsWith('pent_id')).length;
    if (code === 0 && blocks === n) ok++;
    else results.errors.push(`padmin run ${i + 1}: exit ${code}, ${blocks} blocks`);
    await sleep(100);
  }
  const node: number[] = [];
  for (let i = 0; i < 10; i++) {
    const start = nowMs();
    const child = spawn(process.execPath, ['-e', '0'], { stdio: 'ignore' });
    node.push(await new Promise<number>((r) => child.once('exit', () => r(nowMs() - start))));
  }
  return { n, runs: PADMIN_RUNS, ok, times, s: summarize(times), nodeStart: summarize(node) };
}

// ---- the run -----------------------------------------------------------------------------

async function withSut<T>(sut: Sut, n: number, body: (s: Sut) => Promise<T>): Promise<T | null> {
  say(`start ${sut.name} with N=${n}`);
  current = sut;
  const t = nowMs();
  try {
    await sut.start(n);
    results.startup.push({ sut: sut.name, label: sut.label, n, ms: sut.startedIn });
    say(`  ${sut.name} up (pid ${sut.pid}) in ${(sut.startedIn / 1000).toFixed(1)} s (${((nowMs() - t) / 1000).toFixed(1)} s with its services)`);
    return await body(sut);
  } catch (e) {
    const m = `${sut.name} N=${n}: ${e instanceof Error ? e.message : String(e)}`;
    say(`ERROR ${m}`);
    results.errors.push(m);
    return null;
  } finally {
    await sut.stop();
    current = null;
  }
}

async function adoptedPhase(n: number): Promise<void> {
  const suts: Sut[] = [];
  if (wants('procsafe')) suts.push(new ProcsafeSut(ws, 'pidfd', adopted), new ProcsafeSut(ws, 'poll', adopted));
  // monit's first cycle over 1,000 `matching` checks takes minutes (each check without a known
  // pid rescans the whole process table): at N=1000 only `set daemon 1` is run.
  if (wants('monit')) suts.push(new MonitSut(ws, 1000, adopted), ...(n >= 1000 ? [] : [new MonitSut(ws, 30000, adopted)]));
  for (const sut of suts) {
    await withSut(sut, n, async (s) => {
      // monit at 30 s: idle cost at N=100 only: per cycle it does what monit at 1 s does, and
      // more windows would add minutes to the run.
      if (s.cycleMs < 30000 || n === 100) await idleBoth(s, n);
      if (HEAL_NS.includes(n)) {
        if (s.cycleMs >= 30000) results.heal.push(await healStaggered(s, n, MONIT30_KILLS));
        else results.heal.push(await healSequential(s, n, KILLS));
      }
      if (n === MASS_N && s instanceof ProcsafeSut) {
        await healAmongBackground(s, n);
        if (s.mode === 'pidfd') results.padmin = await padminTimes(s, n);
        results.mass.push(await massKill(s, n, true));
      }
    });
  }
  if (wants('procsafe') && n === MASS_N && DIAGNOSTICS) {
    // Diagnostic: the same mass kill without a state file (each state change rewrites and fsyncs it).
    const diag = new ProcsafeSut(ws, 'pidfd', adopted, { stateFile: false, suffix: '-nostate' });
    await withSut(diag, n, async (s) => {
      await sleep(1000);
      results.mass.push(await massKill(s, n, false, 'diagnostic: no SHM_DUMP_FILE'));
    });
  }
  if (wants('procsafe') && n === 10) await noSubreaperRow();
  const gone = adopted.killAll();
  if (gone > 0) await sleep(300);
}

/** procsafe pidfd, N=10, with orphans adopted by PID 1 instead of the bench's subreaper. */
async function noSubreaperRow(): Promise<void> {
  if (WRAPPER === null) return;
  const svcs = new AdoptedServices(ws, 'svc-nosr');
  serviceSets.push(svcs);
  const parent = await setSubreaper(false);
  say(`subreaper off: orphans now go to pid ${parent}`);
  try {
    const sut = new ProcsafeSut(ws, 'pidfd', svcs, { stateFile: true, suffix: '-nosubreaper' });
    await withSut(sut, 10, async (s) => {
      const ppid = readStat(svcs.pid(0))?.ppid;
      results.heal.push(await healSequential(s, 10, NOSR_KILLS, false, `orphans adopted by pid ${ppid} (PID 1 reaps them late), not by the bench`));
    });
  } finally {
    svcs.killAll();
    const back = await setSubreaper(true);
    say(`subreaper on again: orphans go to pid ${back}`);
  }
}

async function supervisordPhase(n: number): Promise<void> {
  if (!wants('supervisord')) return;
  const sut = new SupervisordSut(ws);
  await withSut(sut, n, async (s) => {
    await idleBoth(s, n);
    if (HEAL_NS.includes(n)) results.heal.push(await healSequential(s, n, KILLS));
    if (n === MASS_N) results.mass.push(await massKill(s, n, false, 'reference: its own children'));
  });
}

async function main(): Promise<number> {
  snapshotProcsafe(join(work, 'procsafe'));
  results.machine = machine();
  results.load.start = loadavg();
  results.subreaper.orphanParent = orphanParent();
  results.subreaper.note =
    WRAPPER === null
      ? 'bench ran without its subreaper: orphans were adopted (and reaped late) by PID 1'
      : `bench ran below bench/subreaper (pid ${WRAPPER}); orphans adopted by pid ${results.subreaper.orphanParent}`;
  say(`work dir ${work}; seed ${SEED}; ${results.subreaper.note}`);
  for (const [tool, what] of [['monit', 'monit'], ['supervisord', 'supervisord']] as const) {
    if (wants(what) && results.machine[tool] === 'not installed') {
      results.errors.push(`${tool} is not installed (apt-get install -y ${tool === 'monit' ? 'monit' : 'supervisor'}); skipped`);
    }
  }
  say(`restart script standalone x${SCRIPT_RUNS}`);
  results.script = await scriptTimes();
  for (const n of NS) {
    await adoptedPhase(n);
    await supervisordPhase(n);
  }
  return 0;
}

function save(): string {
  results.finishedAt = new Date().toISOString();
  results.load.end = loadavg();
  results.durationS = (nowMs() - t0) / 1000;
  const dir = join(ROOT, 'bench', 'results');
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'latest.json'), JSON.stringify(results, null, 2) + '\n');
  const md = renderReport(results);
  writeFileSync(join(dir, 'latest.md'), md);
  return md;
}

export function runBench(): Promise<void> {
  return main()
    .then(
      (code) => code,
      (e: unknown) => {
        results.errors.push(`bench failed: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}`);
        return 1;
      },
    )
    .then(async (code) => {
      await poller.close();
      cleanup();
      const md = save();
      process.stdout.write(md);
      say(`done in ${((nowMs() - t0) / 60000).toFixed(1)} min; bench/results/latest.json and latest.md written`);
      process.exit(code);
    })
    .catch((e: unknown) => {
      process.stderr.write(`bench: ${String(e)}\n`);
      process.exit(1);
    });
}

