// One queue of restart scripts for the whole process, whatever pfile they belong to: at most
// MAX_CONCURRENT_SCRIPTS run at once (a mass death must not fork-bomb the host), and they start
// a few per loop turn, after the burst of events that asked for them has been handled (so a
// mass death logs every Down first).
import type { EntryRuntime } from './entry-runtime';

/** Restart scripts running at once; more wait in the queue. */
export const MAX_CONCURRENT_SCRIPTS = 32;
const SCRIPTS_PER_TURN = 4;

/** Whose scripts they are: its state file has the entries' RESTARTING before their scripts
 *  start, and names the scripts once they have. */
export interface ScriptOwner {
  /** a write is due: do it now */
  flushState(): void;
  persistSoon(): void;
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

  /** pcheck stops: no script starts. */
  get stopped(): boolean {
    return this.closed;
  }

  /** A drain is due (the deaths of this turn queued scripts). */
  get pending(): boolean {
    return this.drainPending;
  }

  /** Starts up to SCRIPTS_PER_TURN queued scripts now. */
  drainNow(): void {
    this.drainPending = false;
    const n = this.closed ? 0 : Math.max(0, Math.min(SCRIPTS_PER_TURN, MAX_CONCURRENT_SCRIPTS - this.running, this.jobs.length));
    const batch = this.jobs.splice(0, n);
    const owners = new Set(batch.map((j) => j.owner));
    // the entries' RESTARTING is on disk before their scripts start (a pcheck started after
    // this one is killed must not run them again)
    for (const o of owners) o.flushState();
    for (const job of batch) job.start();
    // name the new scripts in the state file, so that such a pcheck waits for them (until then
    // it finds them by path and PS_PNAME): in the next turn, with its deaths, one write a turn
    for (const o of owners) o.persistSoon();
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
