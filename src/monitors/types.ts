// The probe of a FailSafe monitor (SPEC §8): the part that checks one thing once. The
// FailSafe daemon owns everything around it: scheduling (interval, start_wait, timing),
// counting failures (retries) and recovery. A probe keeps only what its check needs from
// one call to the next (a CPU baseline, a running async command).

export interface ProbeResult {
  ok: boolean;
  /** one line for the log and padmin status: what was seen */
  detail: string;
  /** optional: Warning instead of Error (e.g. a slow answer) */
  warning?: boolean;
}

export interface Probe {
  /** one check; must settle within timeoutMs (abort your I/O on the signal); never throws — errors are { ok:false, detail } */
  check(signal: AbortSignal, timeoutMs: number): Promise<ProbeResult>;
  /** release timers, children, sockets */
  close(): void;
}
