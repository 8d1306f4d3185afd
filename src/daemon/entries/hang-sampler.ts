// hang_timeout (SPEC §10 "Hung processes"): about every second, the state letter of each watched
// process whose entry has the option is read (one stat read each) and handed to its entry
// machine as a `sample`; the machine decides (stopped or in D that long: Hang, SIGKILL). One
// sampler for every entry set; it runs only while some entry has the option.
import type { EntryEvent } from '../../core/entry-model';
import { readStat } from '../../proc/proc-stat';
import type { EntryRuntime } from './entry-runtime';

const HANG_SAMPLE_MS = 1000;

/** An entry set, as the sampler sees it. */
export interface Sampled {
  /** its entries with hang_timeout */
  sampled(): readonly EntryRuntime[];
  dispatch(rt: EntryRuntime, e: EntryEvent): void;
}

export class HangSampler {
  private readonly sets = new Set<Sampled>();
  private timer: NodeJS.Timeout | null = null;
  private closed = false;

  add(s: Sampled): void {
    this.sets.add(s);
  }

  remove(s: Sampled): void {
    this.sets.delete(s);
  }

  /** An entry with hang_timeout was adopted: sample from now on. */
  arm(): void {
    if (this.timer !== null || this.closed) return;
    if (![...this.sets].some((s) => s.sampled().length > 0)) return;
    this.timer = setInterval(() => this.sample(), HANG_SAMPLE_MS);
  }

  private sample(): void {
    let any = false;
    for (const set of this.sets) {
      for (const rt of set.sampled()) {
        any = true;
        const { procSts, pid, startTime } = rt.state;
        if (procSts !== 'AVAIL' || pid === null) continue;
        const st = readStat(pid);
        if (st !== null && st.startTime === startTime) set.dispatch(rt, { type: 'sample', state: st.state });
      }
    }
    if (!any && this.timer !== null) {
      clearInterval(this.timer); // a reload took the option away
      this.timer = null;
    }
  }

  close(): void {
    this.closed = true;
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
  }
}
