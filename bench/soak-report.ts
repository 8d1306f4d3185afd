// The pure half of `npm run soak`: its result types, the check of pcheck's LOG_FILE against
// the kills that were made, the growth fit of the samples, and the markdown report.
// No processes, no clock: everything here is a function of its arguments.
import { table } from './report';
import { fmtMs, type Summary } from './stats';

export interface SoakOptions {
  /** pfile entries, each its own argv[0] and restart script run. */
  entries: number;
  /** kill/heal cycles (one cycle = one SIGKILL of a watched process and its heal). */
  cycles: number;
  /** unrelated `sleep` processes in the table throughout. */
  background: number;
  /** watched processes killed at once (distinct entries). */
  batch: number;
  deathWatch: 'pidfd' | 'poll';
  seed: number;
  /** sample pcheck every this many cycles, and at least every sampleSeconds. */
  sampleEvery: number;
  sampleSeconds: number;
  /** share of the cycles left out of the growth fit. */
  warmup: number;
  /** the /proc poller's period while a batch heals, ms. */
  pollMs: number;
  /** pause after a batch's last Up line before a sample, so that pcheck's state-file write
   *  (an fd open during its fsync) is over: the samples are of pcheck at rest. */
  settleMs: number;
  /** run a copy of the build (others may rebuild dist/ meanwhile). */
  snapshot: boolean;
  keep: boolean;
}

/** pcheck's own process, read from /proc between two batches (all heals logged). */
export interface Sample {
  /** s since the first kill (negative: before it). */
  at: number;
  cycles: number;
  rssKb: number;
  fds: number;
  /** fds by kind (pidfd, proc, socket, pipe, file, anon_inode:…), to tell what changed. */
  fdKinds: Record<string, number>;
  threads: number;
  /** pcheck's utime + stime (all its threads), s. */
  cpuS: number;
  /** cutime + cstime: the restart scripts it waited for, s. */
  childCpuS: number;
}

/** What each entry went through: the pid pcheck found at start-up, then each kill. */
export interface EntryHistory {
  pname: string;
  startPid: number;
  killed: number[];
  /** the replacement of killed[k], as seen in /proc (null: never seen). */
  healedAs: (number | null)[];
}

export interface LogCheck {
  lines: number;
  down: number;
  tryRestart: number;
  up: number;
  graceReset: number;
  /** a kill that landed while the entry's restart script still ran: its script starts when that one ends */
  queued: number;
  setPidFail: number;
  retryOver: number;
  /** Start/Stop pcheck, SIGTERM Catch. */
  lifecycle: number;
  other: number;
  otherSamples: string[];
  /** entries whose Down pids, Try-to-restart count or Up pids differ from what happened. */
  entriesMismatched: number;
  mismatches: string[];
}

export interface StateCheck {
  entries: number;
  restartCountSum: number;
  /** entries whose restart_count differs from their kills, or not AVAIL. */
  mismatched: number;
  mismatches: string[];
}

export interface Growth {
  warmupCycles: number;
  window: { fromCycles: number; toCycles: number; samples: number };
  rss: { startKb: number; afterWarmupKb: number; endKb: number; maxKb: number; slopeKbPer1000: number; fitGrowthKb: number; residualSdKb: number; boundKb: number; ok: boolean };
  /** firstMin / lastMin: the lowest count in the first and the last quarter of the window. */
  fds: { start: number; afterWarmup: number; end: number; min: number; max: number; firstMin: number; lastMin: number; slopePer1000: number; ok: boolean };
  /** death-watch fds at rest, one per watched process: pidfds, or open /proc/PID/stat (poll). */
  watchFds: { afterWarmup: number; end: number; min: number; max: number };
  threads: { start: number; end: number; max: number };
  cpuSPer1000: number;
  childCpuSPer1000: number;
  bounds: string;
}

export interface SoakResults {
  startedAt: string;
  finishedAt: string;
  durationS: number;
  command: string;
  options: SoakOptions;
  machine: Record<string, string>;
  setup: { backgroundS: number; pcheckStartS: number; processesInTable: number; pcheckPid: number };
  /** reusedPid: replacements that got a pid that was in /proc when the batch began (freed
   *  and reused meanwhile), found by the poller's slower pass: their latency is an upper bound. */
  run: { kills: number; healed: number; failed: number; reusedPid: number; batches: number; wallS: number; machineBusyPct: number; loadStart: string; loadEnd: string };
  /** kill → a new process with the same argv in /proc. */
  healMs: Summary;
  /** kill → pcheck's `Down` / `Up` line read from its stdout. */
  downMs: Summary;
  upMs: Summary;
  heal: number[];
  samples: Sample[];
  growth: Growth | null;
  logCheck: LogCheck | null;
  stateCheck: StateCheck | null;
  errors: string[];
}

// ---- pcheck's LOG_FILE ---------------------------------------------------------------------

const PREFIX_RE = /^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d{3} pcheck\[\d+\]: /;
const DOWN_RE = /^Process \[(.+) , pid=(\d+|-----)\] Down$/;
const TRY_RE = /^Try to restart \((.+)\)$/;
const UP_RE = /^\((.+) ,pid=(\d+)\) Up$/;
const GRACE_RE = /^\((.+)\) up for \d+s: retry_count reset to 0$/;
const FAIL_RE = /^Set pid fail \((.+)\)$/;
/** a kill that lands while the entry's restart script still runs: its restart is queued, or (when the
 *  killed process was found during the script) decided when the script ends — both expected in a soak */
const QUEUED_RE = /^\((.+)\) (the previous restart script still runs: this one starts when it ends|pid=\d+ exited while its restart script still ran: what runs when the script has ended decides)$/;
const LIFECYCLE_RE = /^(Start pcheck |Stop pcheck!!$|SIGTERM Catch |Closed \d+ descriptor\(s\) inherited from pcheck's parent)/;

interface Seen {
  down: number[];
  tries: number;
  up: number[];
}

const same = (a: readonly number[], b: readonly number[]) => a.length === b.length && a.every((v, i) => v === b[i]);
const short = (a: readonly (number | null)[]) => (a.length <= 6 ? `[${a.join(',')}]` : `[${a.slice(0, 3).join(',')},…,${a.slice(-3).join(',')}] (${a.length})`);

/** Every kill must show as exactly one Down (its pid), one Try to restart and one Up (the new pid), in order, per entry. */
export function checkLog(text: string, entries: readonly EntryHistory[]): LogCheck {
  const c: LogCheck = { lines: 0, down: 0, tryRestart: 0, up: 0, graceReset: 0, queued: 0, setPidFail: 0, retryOver: 0, lifecycle: 0, other: 0, otherSamples: [], entriesMismatched: 0, mismatches: [] };
  const seen = new Map<string, Seen>(entries.map((e) => [e.pname, { down: [], tries: 0, up: [] }]));
  const other = (m: string) => {
    c.other++;
    if (c.otherSamples.length < 10) c.otherSamples.push(m);
  };
  for (const line of text.split('\n')) {
    if (line === '') continue;
    c.lines++;
    const msg = line.replace(PREFIX_RE, '');
    let m: RegExpExecArray | null;
    if ((m = DOWN_RE.exec(msg))) {
      c.down++;
      seen.get(m[1])?.down.push(Number(m[2]));
    } else if ((m = TRY_RE.exec(msg))) {
      c.tryRestart++;
      const s = seen.get(m[1]);
      if (s) s.tries++;
    } else if ((m = UP_RE.exec(msg))) {
      c.up++;
      seen.get(m[1])?.up.push(Number(m[2]));
    } else if (GRACE_RE.test(msg)) c.graceReset++;
    else if (QUEUED_RE.test(msg)) c.queued++;
    else if (FAIL_RE.test(msg)) c.setPidFail++;
    else if (msg.includes('RETRY_OVER')) c.retryOver++;
    else if (LIFECYCLE_RE.test(msg)) c.lifecycle++;
    else other(msg);
  }
  for (const e of entries) {
    const s = seen.get(e.pname) as Seen;
    const wantUp = [e.startPid, ...e.healedAs.filter((p): p is number => p !== null)];
    const bad: string[] = [];
    if (!same(s.down, e.killed)) bad.push(`Down pids ${short(s.down)} vs killed ${short(e.killed)}`);
    if (s.tries !== e.killed.length) bad.push(`${s.tries} Try to restart vs ${e.killed.length} kills`);
    if (!same(s.up, wantUp)) bad.push(`Up pids ${short(s.up)} vs start + healed ${short(wantUp)}`);
    if (bad.length === 0) continue;
    c.entriesMismatched++;
    if (c.mismatches.length < 20) c.mismatches.push(`${e.pname}: ${bad.join('; ')}`);
  }
  return c;
}

// ---- padmin show pent --------------------------------------------------------------------

/** `padmin -c 'show pent'` blocks as key → value maps. */
export function parseShowPent(out: string): Record<string, string>[] {
  return out
    .split(/\n\s*\n/)
    .map((block) => Object.fromEntries(block.split('\n').map((l) => /^(\S+)\s*= (.*)$/.exec(l)).filter((m): m is RegExpExecArray => m !== null).map((m) => [m[1], m[2]])))
    .filter((b) => 'pname' in b);
}

/** restart_count of each entry must equal its kills, and every entry be AVAIL. */
export function checkState(blocks: readonly Record<string, string>[], entries: readonly EntryHistory[]): StateCheck {
  const byName = new Map(blocks.map((b) => [b.pname, b]));
  const r: StateCheck = { entries: blocks.length, restartCountSum: 0, mismatched: 0, mismatches: [] };
  for (const e of entries) {
    const b = byName.get(e.pname);
    const count = Number(b?.restart_count ?? NaN);
    if (Number.isFinite(count)) r.restartCountSum += count;
    if (b && count === e.killed.length && b.proc_sts === 'AVAIL') continue;
    r.mismatched++;
    if (r.mismatches.length < 20) r.mismatches.push(b ? `${e.pname}: restart_count ${b.restart_count} vs ${e.killed.length} kills, proc_sts ${b.proc_sts}` : `${e.pname}: not in show pent`);
  }
  return r;
}

// ---- growth --------------------------------------------------------------------------------

/** Least-squares slope of y over x, and the standard deviation of the residuals. */
export function fitLine(xs: readonly number[], ys: readonly number[]): { slope: number; residualSd: number } {
  const n = xs.length;
  if (n < 2) return { slope: NaN, residualSd: NaN };
  const mx = xs.reduce((a, b) => a + b, 0) / n;
  const my = ys.reduce((a, b) => a + b, 0) / n;
  let sxy = 0;
  let sxx = 0;
  for (let i = 0; i < n; i++) {
    sxy += (xs[i] - mx) * (ys[i] - my);
    sxx += (xs[i] - mx) ** 2;
  }
  const slope = sxx > 0 ? sxy / sxx : 0;
  const ss = xs.reduce((a, x, i) => a + (ys[i] - (my + slope * (x - mx))) ** 2, 0);
  return { slope, residualSd: Math.sqrt(ss / n) };
}

/** RSS may grow, over the whole fitted window, by this share of its size after warm-up (V8's heap breathes). */
export const RSS_BOUND_SHARE = 0.05;
/** fds: the fitted growth over the window must stay under one descriptor, and the lowest
 *  count of the last quarter of the window must not exceed that of the first quarter (a
 *  sample may catch a transient fd, e.g. the state file during its fsync; a leak lifts the floor). */
export const FD_BOUND = 1;

export function growth(samples: readonly Sample[], warmupCycles: number): Growth | null {
  const after = samples.filter((s) => s.cycles >= warmupCycles);
  if (samples.length === 0 || after.length < 2) return null;
  const first = samples[0];
  const w = after[0];
  const end = after[after.length - 1];
  const xs = after.map((s) => s.cycles);
  const rssFit = fitLine(xs, after.map((s) => s.rssKb));
  const fdFit = fitLine(xs, after.map((s) => s.fds));
  const span = end.cycles - w.cycles;
  const fitGrowthKb = rssFit.slope * span;
  const boundKb = RSS_BOUND_SHARE * w.rssKb;
  const fds = after.map((s) => s.fds);
  const quarter = Math.max(1, Math.floor(after.length / 4));
  const watchFds = after.map((s) => (s.fdKinds.pidfd ?? 0) + (s.fdKinds.proc ?? 0));
  const per1000 = (v: number) => (span > 0 ? (v / span) * 1000 : NaN);
  return {
    warmupCycles,
    window: { fromCycles: w.cycles, toCycles: end.cycles, samples: after.length },
    rss: {
      startKb: first.rssKb,
      afterWarmupKb: w.rssKb,
      endKb: end.rssKb,
      maxKb: Math.max(...after.map((s) => s.rssKb)),
      slopeKbPer1000: rssFit.slope * 1000,
      fitGrowthKb,
      residualSdKb: rssFit.residualSd,
      boundKb,
      ok: fitGrowthKb <= boundKb,
    },
    fds: {
      start: first.fds,
      afterWarmup: w.fds,
      end: end.fds,
      min: Math.min(...fds),
      max: Math.max(...fds),
      firstMin: Math.min(...fds.slice(0, quarter)),
      lastMin: Math.min(...fds.slice(-quarter)),
      slopePer1000: fdFit.slope * 1000,
      ok: fdFit.slope * span < FD_BOUND && Math.min(...fds.slice(-quarter)) <= Math.min(...fds.slice(0, quarter)),
    },
    watchFds: { afterWarmup: watchFds[0], end: watchFds[watchFds.length - 1], min: Math.min(...watchFds), max: Math.max(...watchFds) },
    threads: { start: first.threads, end: end.threads, max: Math.max(...samples.map((s) => s.threads)) },
    cpuSPer1000: per1000(end.cpuS - w.cpuS),
    childCpuSPer1000: per1000(end.childCpuS - w.childCpuS),
    bounds:
      `after the first ${warmupCycles} cycles (warm-up), least-squares fit over ${after.length} samples: ` +
      `"no growth" = fitted RSS growth over the window ≤ ${RSS_BOUND_SHARE * 100} % of RSS after warm-up ` +
      `and fitted fd growth < ${FD_BOUND} with the lowest fd count of the window's last quarter ≤ that of its first quarter`,
  };
}

/** Every kill healed and logged once, counters right, no growth: the run's verdict. */
export function passed(r: SoakResults): boolean {
  return (
    r.errors.length === 0 &&
    r.run.kills === r.options.cycles &&
    r.run.healed === r.run.kills &&
    r.logCheck !== null &&
    r.logCheck.entriesMismatched === 0 &&
    r.logCheck.setPidFail + r.logCheck.retryOver + r.logCheck.other === 0 &&
    r.stateCheck !== null &&
    r.stateCheck.mismatched === 0 &&
    r.growth !== null &&
    r.growth.rss.ok &&
    r.growth.fds.ok
  );
}

// ---- markdown ------------------------------------------------------------------------------

const mb = (kb: number) => `${(kb / 1024).toFixed(1)} MB`;
const n = (v: number) => v.toLocaleString('en');
const ok = (b: boolean) => (b ? 'yes' : '**NO**');

export function renderSoak(r: SoakResults): string {
  const o = r.options;
  const m = r.machine;
  const g = r.growth;
  const l = r.logCheck;
  const s = r.stateCheck;
  const out: string[] = [];
  out.push(`# procsafe soak — ${r.startedAt.slice(0, 16).replace('T', ' ')} UTC\n`);
  out.push(
    `\`${r.command}\` — ${(r.durationS / 60).toFixed(1)} min in all, ${(r.run.wallS / 60).toFixed(1)} min of kills; seed ${o.seed}; ` +
      `death watch ${o.deathWatch}; batches of ${o.batch} kills; /proc polled every ${o.pollMs} ms while a batch heals.  \n` +
      `${m.nproc} × ${m.cpu}; ${m.memory}; kernel ${m.kernel}; node ${m.node}; pid_max ${m.pid_max}; ulimit -u ${m.ulimit_u}; procsafe ${m.procsafe}.  \n` +
      `Host busy ${r.run.machineBusyPct.toFixed(0)} % of all cores during the kills (this soak, pcheck, and anyone else); load average ${r.run.loadStart} → ${r.run.loadEnd}.\n`,
  );
  const rows: string[][] = [
    ['kill/heal cycles', `${n(r.run.kills)} in ${n(r.run.batches)} batches of ${o.batch}`],
    ['pfile entries', n(o.entries)],
    ['other processes in the table', `${n(o.background)} background \`sleep\`s; ${n(r.setup.processesInTable)} processes in /proc at the start`],
    ['healed (new process in /proc)', `${n(r.run.healed)} / ${n(r.run.kills)}${r.run.reusedPid > 0 ? ` (${r.run.reusedPid} on a reused pid, seen ≥ 2 s late)` : ''}`],
    ['heal latency p50 / p90 / p99 / max, ms', `${fmtMs(r.healMs.p50)} / ${fmtMs(r.healMs.p90)} / ${fmtMs(r.healMs.p99)} / ${fmtMs(r.healMs.max)}`],
    ['kill → `Down` logged p50 / p99, ms', `${fmtMs(r.downMs.p50)} / ${fmtMs(r.downMs.p99)}`],
    ['kill → `Up` logged p50 / p99 / max, ms', `${fmtMs(r.upMs.p50)} / ${fmtMs(r.upMs.p99)} / ${fmtMs(r.upMs.max)}`],
  ];
  if (g) {
    rows.push(
      ['pcheck RSS start / after warm-up / end (max)', `${mb(g.rss.startKb)} / ${mb(g.rss.afterWarmupKb)} / ${mb(g.rss.endKb)} (${mb(g.rss.maxKb)})`],
      ['RSS slope after warm-up', `${g.rss.slopeKbPer1000.toFixed(1)} kB per 1,000 cycles (fitted growth ${(g.rss.fitGrowthKb / 1024).toFixed(2)} MB, bound ${mb(g.rss.boundKb)}; residual SD ${mb(g.rss.residualSdKb)})`],
      ['pcheck open fds start / after warm-up / end (min–max after warm-up)', `${g.fds.start} / ${g.fds.afterWarmup} / ${g.fds.end} (${g.fds.min}–${g.fds.max})`],
      [`of them death-watch fds (${o.deathWatch === 'poll' ? 'open /proc/PID/stat' : 'pidfds'}) after warm-up / end (min–max)`, `${g.watchFds.afterWarmup} / ${g.watchFds.end} (${g.watchFds.min}–${g.watchFds.max})`],
      ['fd slope after warm-up', `${g.fds.slopePer1000.toFixed(3)} per 1,000 cycles`],
      ['pcheck threads start / end (max)', `${g.threads.start} / ${g.threads.end} (${g.threads.max})`],
      ['pcheck CPU per 1,000 heals (after warm-up)', `${g.cpuSPer1000.toFixed(2)} s; restart scripts ${g.childCpuSPer1000.toFixed(2)} s`],
      ['no growth (RSS / fds)', `${ok(g.rss.ok)} / ${ok(g.fds.ok)}`],
    );
  }
  if (l) {
    rows.push(
      ['log lines vs kills: `Down` / `Try to restart` / `Up` (less start-up)', `${n(l.down)} / ${n(l.tryRestart)} / ${n(l.up - o.entries)} vs ${n(r.run.kills)} kills`],
      ['entries whose log differs from their kills', `${l.entriesMismatched} of ${n(o.entries)}`],
      ['`Set pid fail` / `RETRY_OVER` / unexpected lines', `${l.setPidFail} / ${l.retryOver} / ${l.other}`],
      ['grace resets logged', n(l.graceReset)],
      ['kills while the entry\'s restart script still ran (its next script waited for it)', n(l.queued)],
    );
  }
  if (s) rows.push(['`show pent` restart_count sum vs kills (entries off)', `${n(s.restartCountSum)} vs ${n(r.run.kills)} (${s.mismatched})`]);
  rows.push(['verdict', passed(r) ? 'every kill healed and logged once; no growth' : '**FAILED** (see below)']);
  out.push(table(['figure', 'value'], rows));
  out.push(
    `Set-up: ${n(o.background)} background processes started in ${r.setup.backgroundS.toFixed(1)} s; pcheck saw all ${n(o.entries)} entries ` +
      `${r.setup.pcheckStartS.toFixed(1)} s after its start. Samples: ${r.samples.length} (every ${o.sampleEvery} cycles or ${o.sampleSeconds} s, between batches, ${o.settleMs} ms after the last Up).` +
      (g ? ` Growth: ${g.bounds}.` : '') +
      '\n',
  );
  const problems = [...r.errors, ...(l?.mismatches ?? []), ...(l?.otherSamples.map((x) => `unexpected log line: ${x}`) ?? []), ...(s?.mismatches ?? [])];
  if (problems.length > 0) out.push(`## Problems\n\n${problems.map((e) => `- ${e}`).join('\n')}\n`);
  return out.join('\n');
}
