// The retry / grace policy of one entry, as pure functions over its counters.
// Kept apart from the transition table so that the escalation rule can be read (and
// changed) in one place, as in s6-permafailon.

export interface RetryConfig {
  /** restarts allowed within the grace window; the next failure is a retry-over. */
  retryLimit: number;
  /** seconds the process must stay up after its last restart for retry_count to go back to 0; 0 = never. */
  grace: number;
}

export interface RetryCounters {
  retryCount: number;
  /** CLOCK_MONOTONIC ms at which the process was seen up after its last restart; null when not up or never restarted. */
  upSinceMono: number | null;
}

/** A failure now is a retry-over when the allowed restarts are used up. */
export function isRetryOver(c: RetryCounters, cfg: RetryConfig): boolean {
  return c.retryCount >= cfg.retryLimit;
}

/** When retry_count goes back to 0 (monotonic ms), or null if it never will by itself. */
export function graceDeadline(c: RetryCounters, cfg: RetryConfig): number | null {
  if (cfg.grace <= 0 || c.retryCount === 0 || c.upSinceMono === null) return null;
  return c.upSinceMono + cfg.grace * 1000;
}

export function graceExpired(c: RetryCounters, cfg: RetryConfig, nowMono: number): boolean {
  const d = graceDeadline(c, cfg);
  return d !== null && nowMono >= d;
}
