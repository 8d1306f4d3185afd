// Which process carries a program on when its watched process dies (SPEC §10 "never two
// copies"), and which are its orphaned workers. Pure: the daemon reads /proc and passes facts.
//
// A daemon that forks is one program: the process that stays is the one to watch. But the
// workers of a master (nginx's `worker process`, apache's children) are not the program,
// though they run the same file: apache's children even keep the master's argv and session.
// What tells them apart is how the dead process left them:
// - a daemonizing child leaves the session (setsid(): nginx, apache, rsyslogd, dbus), or
// - it stays in the session with the dead process's argv[0] and is its one fresh fork: the
//   parent exited right after forking it, or once it was ready (the second fork of a double
//   fork, a fork without setsid). A master killed while it runs leaves workers that are older,
//   or several (apache starts 2 to 5).
// Another matching process in another session (the program started by hand meanwhile) is also
// the program carrying on: it is adopted rather than started twice.

/** A fork this recent when its parent died is the daemonizing step, not a worker: a parent
 *  exits right after that fork, or once its child says it is ready (rsyslogd, dbus: up to a
 *  few seconds of start-up work); the window covers that, detection and a busy loop. */
export const FORK_WINDOW_MS = 5000;

export interface DeadProcess {
  pid: number;
  argv0: string | null;
  /** its session; null when unknown (then nothing counts as its worker, nor does 0 or 1: the
   *  kernel's and init's sessions are nobody's program) */
  sid: number | null;
}

/** A live process matching the entry, with its session and age, read at the death. */
export interface Candidate {
  pid: number;
  startTime: number;
  argv0: string;
  sid: number;
  /** ms since it started */
  ageMs: number;
}

export interface AfterDeath {
  successor: { pid: number; startTime: number } | null;
  /** processes of the entry left in the dead process's session (none when there is a successor) */
  workers: { pid: number; startTime: number }[];
}

function older(a: Candidate, b: Candidate): boolean {
  return a.startTime !== b.startTime ? a.startTime < b.startTime : a.pid < b.pid;
}

/** `forks` false: the dead process did not exit, pcheck killed it (a hang): none of its forks
 *  carries it on. */
export function afterDeath(dead: DeadProcess, pname: string, candidates: readonly Candidate[], forks = true): AfterDeath {
  const others = candidates.filter((c) => c.pid !== dead.pid);
  const inSession = dead.sid === null || dead.sid <= 1 ? [] : others.filter((c) => c.sid === dead.sid);
  const outside = others.filter((c) => !inSession.includes(c));
  const sameArgv = inSession.filter((c) => c.argv0 === pname || (dead.argv0 !== null && c.argv0 === dead.argv0));
  const fresh = forks && sameArgv.length === 1 && sameArgv[0].ageMs <= FORK_WINDOW_MS ? sameArgv : [];
  let best: Candidate | null = null;
  for (const c of [...outside, ...fresh]) if (best === null || older(c, best)) best = c;
  if (best !== null) return { successor: { pid: best.pid, startTime: best.startTime }, workers: [] };
  return { successor: null, workers: inSession.map((c) => ({ pid: c.pid, startTime: c.startTime })) };
}
