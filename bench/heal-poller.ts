// Worker thread: kills processes and watches /proc for their replacements.
//
// The main thread keeps its event loop free to timestamp pcheck's log lines the moment they
// arrive; this thread does the kills (at the requested monotonic times) and polls /proc
// every `intervalMs` in a synchronous loop (Atomics.wait sleeps), so neither disturbs the
// other. A replacement is a pid that was not in /proc when the request arrived (the
// baseline) and whose command line equals a target's. Targets may repeat (supervisord runs N
// identical `sleep infinity`): each new pid then satisfies one of them.
// With many processes and a fast pid churn (the soak), a replacement may get a pid that was in
// the baseline (freed and reused since): `reusedAfterMs` then also looks at baseline pids.
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { Worker, parentPort } from 'node:worker_threads';

export interface PollRequest {
  id: number;
  /** processes to SIGKILL; atMs is an absolute CLOCK_MONOTONIC time in ms, null = at once. */
  kills: { pid: number; atMs: number | null }[];
  /** command lines (argv joined by NUL) to find as new processes, one per target. */
  targets: string[];
  /** kills[targetKill[i]] must have happened before target i counts (null: no such kill). */
  targetKill: (number | null)[];
  intervalMs: number;
  /** give up this long after the last kill (or after arming when nothing is killed). */
  timeoutMs: number;
  /** also record when each killed pid leaves /proc (is reaped), for up to reapTimeoutMs. */
  trackReap: boolean;
  reapTimeoutMs: number;
  /** Only for targets whose command lines are unique (no other live process has one): when a
   *  target is still missing this long after the last kill, also match the pids of the
   *  baseline (but not the killed ones), every reusedAfterMs / 2; such finds are `reused`, and
   *  their time is late by up to that period. Off when undefined. */
  reusedAfterMs?: number;
}

export interface PollArmed {
  type: 'armed';
  id: number;
  at: number;
}

export interface PollResult {
  type: 'result';
  id: number;
  killAt: (number | null)[];
  killError: (string | null)[];
  found: ({ pid: number; at: number; reused?: boolean } | null)[];
  reapedAt: (number | null)[];
  polls: number;
}

const now = (): number => Number(process.hrtime.bigint()) / 1e6;
const sleeper = new Int32Array(new SharedArrayBuffer(4));

function cmdline(name: string): string | null {
  try {
    const raw = readFileSync(`/proc/${name}/cmdline`, 'latin1');
    return raw.endsWith('\0') ? raw.slice(0, -1) : raw;
  } catch {
    return null;
  }
}

function run(req: PollRequest): PollResult {
  const baseline = new Set(readdirSync('/proc'));
  const armedAt = now();
  parentPort?.postMessage({ type: 'armed', id: req.id, at: armedAt } satisfies PollArmed);

  const killAt: (number | null)[] = req.kills.map(() => null);
  const killError: (string | null)[] = req.kills.map(() => null);
  const reapedAt: (number | null)[] = req.kills.map(() => null);
  const found: PollResult['found'] = req.targets.map(() => null);
  const claimed = new Set<string>();
  /** key -> indices of targets not found yet */
  const open = new Map<string, number[]>();
  req.targets.forEach((k, i) => open.set(k, [...(open.get(k) ?? []), i]));
  let unfound = req.targets.length;
  const order = req.kills.map((k, i) => ({ i, at: k.atMs ?? armedAt })).sort((a, b) => a.at - b.at);
  let nextKill = 0;
  const lastKillAt = order.length > 0 ? order[order.length - 1].at : armedAt;
  const deadline = Math.max(armedAt, lastKillAt) + req.timeoutMs;
  let reapDeadline = Infinity;
  let polls = 0;
  let nextReusedPass = 0;

  /** pid `name` is the replacement of the first open target with its command line, if any. */
  const claim = (name: string, reused: boolean) => {
    if (claimed.has(name)) return;
    const c = name.charCodeAt(0);
    if (c < 0x30 || c > 0x39) return;
    const key = cmdline(name);
    if (key === null) return;
    const idx = open.get(key);
    if (!idx) return;
    const at = now();
    const j = idx.findIndex((ti) => {
      const k = req.targetKill[ti];
      return k === null || killAt[k] !== null;
    });
    if (j < 0) return;
    const ti = idx.splice(j, 1)[0];
    found[ti] = reused ? { pid: Number(name), at, reused } : { pid: Number(name), at };
    claimed.add(name);
    unfound--;
  };

  for (;;) {
    let t = now();
    while (nextKill < order.length && order[nextKill].at <= t) {
      const { i } = order[nextKill++];
      killAt[i] = now();
      try {
        process.kill(req.kills[i].pid, 'SIGKILL');
      } catch (e) {
        killError[i] = (e as NodeJS.ErrnoException).code ?? String(e);
      }
    }
    if (unfound > 0) {
      polls++;
      for (const name of readdirSync('/proc')) {
        if (!baseline.has(name)) claim(name, false);
      }
    }
    if (unfound > 0 && req.reusedAfterMs !== undefined && now() >= Math.max(nextReusedPass, lastKillAt + req.reusedAfterMs)) {
      const killed = new Set(req.kills.map((k) => String(k.pid)));
      for (const name of readdirSync('/proc')) {
        if (baseline.has(name) && !killed.has(name)) claim(name, true);
      }
      nextReusedPass = now() + req.reusedAfterMs / 2;
    }
    if (req.trackReap) {
      for (let i = 0; i < req.kills.length; i++) {
        if (killAt[i] !== null && reapedAt[i] === null && !existsSync(`/proc/${req.kills[i].pid}`)) reapedAt[i] = now();
      }
    }
    t = now();
    const allKilled = nextKill >= order.length;
    const allReaped = !req.trackReap || reapedAt.every((r, i) => r !== null || killError[i] !== null);
    if (allKilled && unfound === 0) {
      if (allReaped) break;
      if (reapDeadline === Infinity) reapDeadline = t + req.reapTimeoutMs;
      if (t >= reapDeadline) break;
    }
    if (t >= deadline) break;
    let wait = req.intervalMs;
    if (nextKill < order.length) wait = Math.min(wait, Math.max(0, order[nextKill].at - t));
    if (wait > 0) Atomics.wait(sleeper, 0, 0, wait);
  }
  return { type: 'result', id: req.id, killAt, killError, found, reapedAt, polls };
}

parentPort?.on('message', (req: PollRequest) => {
  parentPort?.postMessage(run(req));
});

// ---- the main thread's side (importing this file there starts nothing) --------------------

/** One poller thread; each request answers "armed" (baseline taken) and later its result. */
export class Poller {
  private readonly worker = new Worker(join(__dirname, 'heal-poller.js'));
  private seq = 0;
  private readonly waiting = new Map<number, { armed: (a: PollArmed) => void; result: (r: PollResult) => void }>();

  constructor(onError: (e: Error) => void) {
    this.worker.on('message', (m: PollArmed | PollResult) => {
      const w = this.waiting.get(m.id);
      if (!w) return;
      if (m.type === 'armed') w.armed(m);
      else {
        this.waiting.delete(m.id);
        w.result(m);
      }
    });
    this.worker.on('error', onError);
  }

  request(req: Omit<PollRequest, 'id'>): { armed: Promise<PollArmed>; result: Promise<PollResult> } {
    const id = ++this.seq;
    let armed!: (a: PollArmed) => void;
    let result!: (r: PollResult) => void;
    const a = new Promise<PollArmed>((r) => (armed = r));
    const r = new Promise<PollResult>((res) => (result = res));
    this.waiting.set(id, { armed, result });
    this.worker.postMessage({ ...req, id } satisfies PollRequest);
    return { armed: a, result: r };
  }

  async close(): Promise<void> {
    await this.worker.terminate();
  }
}
