// Small helpers shared by the probes: one deadline per check, and wording for details.

/** A signal that fires when the caller aborts or when timeoutMs has passed, whichever is
 *  first, and which of the two it was (the detail says "timed out" or "aborted"). */
export interface Deadline {
  readonly signal: AbortSignal;
  /** null while neither has happened. */
  why(): 'timeout' | 'aborted' | null;
  /** clears the timer and the listener on the caller's signal; call it in a finally. */
  dispose(): void;
}

/** Longest delay setTimeout accepts; longer ones fire at once. */
const MAX_TIMER_MS = 2 ** 31 - 1;

export function deadline(outer: AbortSignal, timeoutMs: number): Deadline {
  const ac = new AbortController();
  let why: 'timeout' | 'aborted' | null = null;
  const fire = (w: 'timeout' | 'aborted'): void => {
    if (why !== null) return;
    why = w;
    ac.abort(new Error(w));
  };
  const onAbort = (): void => fire('aborted');
  if (outer.aborted) fire('aborted');
  else outer.addEventListener('abort', onAbort, { once: true });
  const timer = setTimeout(() => fire('timeout'), clampTimer(timeoutMs));
  return {
    signal: ac.signal,
    why: () => why,
    dispose: () => {
      clearTimeout(timer);
      outer.removeEventListener('abort', onAbort);
    },
  };
}

export function clampTimer(ms: number): number {
  return Math.min(Math.max(Number.isFinite(ms) ? ms : MAX_TIMER_MS, 1), MAX_TIMER_MS);
}

/** Resolves when `p` settles or the signal fires, whichever is first: I/O that cannot be
 *  cancelled (a read stuck on a dead disk) goes on in the background, but the check ends. */
export function raceSignal<T>(p: Promise<T>, signal: AbortSignal): Promise<{ done: true; value: T } | { done: false }> {
  if (signal.aborted) return Promise.resolve({ done: false });
  return new Promise((resolve, reject) => {
    const onAbort = (): void => resolve({ done: false });
    signal.addEventListener('abort', onAbort, { once: true });
    p.then(
      (value) => {
        signal.removeEventListener('abort', onAbort);
        resolve({ done: true, value });
      },
      (err: unknown) => {
        signal.removeEventListener('abort', onAbort);
        reject(err instanceof Error ? err : new Error(String(err)));
      },
    );
  });
}

/** "ENOENT", "EACCES", or the message: short enough for one status line. */
export function errText(err: unknown): string {
  const e = err as NodeJS.ErrnoException | null;
  if (e && typeof e.code === 'string' && /^E[A-Z0-9]+$/.test(e.code)) return e.code;
  if (e instanceof Error) return e.message;
  return String(err);
}

/** Milliseconds since a performance.now() reading, rounded for a detail line. */
export function since(startedMs: number): number {
  return Math.round(performance.now() - startedMs);
}

/** What a check says when its deadline fired before it had an answer. */
export function notInTime(why: 'timeout' | 'aborted' | null, timeoutMs: number, what: string): string {
  return why === 'aborted' ? `check aborted while ${what}` : `timed out after ${Math.round(timeoutMs)} ms ${what}`;
}

export type OneResult<T> =
  | { state: 'done'; value: T }
  /** the deadline fired first; the I/O goes on in the background. */
  | { state: 'late' }
  /** the I/O of an earlier call has not returned: nothing new was started. */
  | { state: 'stuck'; sinceMs: number };

/**
 * File I/O on a dead device or a hung NFS/FUSE mount cannot be cancelled: the syscall
 * holds one thread of libuv's pool (4 by default, shared with every fs call and DNS
 * lookup of the daemon) until the kernel returns. So a probe runs at most one such I/O
 * at a time: a check that finds the previous one still pending says so and starts none.
 */
export class OneAtATime {
  private pendingSince: number | null = null;

  async run<T>(io: () => Promise<T>, signal: AbortSignal): Promise<OneResult<T>> {
    if (this.pendingSince !== null) return { state: 'stuck', sinceMs: performance.now() - this.pendingSince };
    const mine = performance.now();
    this.pendingSince = mine;
    const running = io().finally(() => {
      if (this.pendingSince === mine) this.pendingSince = null;
    });
    running.catch(() => {}); // a failure after the check stopped waiting for it
    const r = await raceSignal(running, signal);
    return r.done ? { state: 'done', value: r.value } : { state: 'late' };
  }
}
