// One queue of restart scripts for the whole process, whatever pfile they belong to: at most
// MAX_CONCURRENT_SCRIPTS run at once (a mass death must not fork-bomb the host), and they start
// a few per loop turn, after the burst of events that asked for them has been handled (so a
// mass death logs every Down first).
import type { EntryRuntime } from './entry-runtime';

/** Restart scripts running at once; more wait in the queue. */
export const MAX_CONCURRENT_SCRIPTS = 32;
const SCRIPTS_PER_TURN = 4;

/** Whose scripts they are: its state file names the scripts that started (persistNow). */
export interface ScriptOwner {
  persistNow(): void;
}

interface Job {
  owner: ScriptOwner;
  rt: EntryRuntime;
  start: () => void;
}

export class ScriptQueue {
  private readonly jobs: Job[] = [];
  private running = 0;
  private drainPending = false;
  private closed = false;

  /** Queues a script; it starts in a later loop turn (drain), or at the end of a batch of deaths (drainNow). */
  push(owner: ScriptOwner, rt: EntryRuntime, start: () => void): void {
    if (this.closed) return;
    this.jobs.push({ owner, rt, start });
    this.drain();
  }

  /** A script started by a job has exited: room for the next. */
  started(): void {
    this.running++;
  }

  exited(): void {
    this.running--;
    this.drain();
  }

  /** Starts queued scripts in a later loop turn: a fork costs milliseconds, and the death events
   *  of a mass kill must be read (and logged Down) in between, not after 32 forks. */
  drain(): void {
    if (this.drainPending || this.closed) return;
    this.drainPending = true;
    setImmediate(() => this.drainNow());
  }

  /** A drain is due (the deaths of this turn queued scripts). */
  get pending(): boolean {
    return this.drainPending;
  }

  /** Starts up to SCRIPTS_PER_TURN queued scripts now. */
  drainNow(): void {
    this.drainPending = false;
    const owners = new Set<ScriptOwner>();
    let n = 0;
    while (this.running < MAX_CONCURRENT_SCRIPTS && this.jobs.length > 0 && !this.closed && n < SCRIPTS_PER_TURN) {
      const job = this.jobs.shift()!;
      job.start();
      owners.add(job.owner);
      n++;
    }
    // name the new scripts in the state files now, before they can start the program: a pcheck
    // started after this one is killed then waits for them instead of running them again
    for (const o of owners) o.persistNow();
    if (this.jobs.length > 0 && this.running < MAX_CONCURRENT_SCRIPTS) this.drain();
  }

  /** Takes the owner's queued scripts out (its pfile stops or is removed); returns their entries. */
  drop(owner: ScriptOwner): EntryRuntime[] {
    const mine = this.jobs.filter((j) => j.owner === owner);
    for (const j of mine) this.jobs.splice(this.jobs.indexOf(j), 1);
    return mine.map((j) => j.rt);
  }

  /** pcheck stops: nothing starts from here on. */
  close(): void {
    this.closed = true;
  }
}
