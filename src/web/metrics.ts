// `GET /metrics`: the StatusView and a few timings in the Prometheus text exposition format
// 0.0.4, written by hand (no client library): HELP and TYPE before each family's samples,
// label values escaped, one family per name.
import type { StatusView } from '../views/status-view';
import { GROUP_STATES, MONITOR_STATUSES } from '../core/failsafe-model';
import { PROC_STATES } from '../core/states';

/** Upper bounds (seconds) of the latency histograms: 1 ms to 60 s (a heal includes the restart script and RESTART_WAIT). */
export const LATENCY_BUCKETS: readonly number[] = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60];

/** A Prometheus histogram: cumulative bucket counts, a sum and a count. Never reset. */
export class Histogram {
  readonly bounds: readonly number[];
  private readonly counts: number[];
  private total = 0;
  private n = 0;

  constructor(bounds: readonly number[] = LATENCY_BUCKETS) {
    for (let i = 1; i < bounds.length; i++) {
      if (!(bounds[i] > bounds[i - 1])) throw new Error('histogram bounds must increase');
    }
    this.bounds = [...bounds];
    this.counts = bounds.map(() => 0);
  }

  /** Records one value (seconds). Negative or non-finite values are ignored. */
  observe(seconds: number): void {
    if (!Number.isFinite(seconds) || seconds < 0) return;
    this.n++;
    this.total += seconds;
    const i = this.bounds.findIndex((b) => seconds <= b);
    if (i >= 0) this.counts[i]++;
  }

  get count(): number {
    return this.n;
  }
  get sum(): number {
    return this.total;
  }

  /** Cumulative counts per upper bound, ending with +Inf (= count). */
  buckets(): { le: number; count: number }[] {
    let acc = 0;
    const out = this.bounds.map((le, i) => ({ le, count: (acc += this.counts[i]) }));
    out.push({ le: Infinity, count: this.n });
    return out;
  }
}

/**
 * The daemon's own event-loop lag: a timer every `intervalMs` notes how late it fires; the
 * largest lateness since the last read is reported (seconds). A scrape every 15 s thus
 * reports the worst stall of the last 15 s, even one that began right after the last read
 * (perf_hooks' monitorEventLoopDelay drops the first interval after a reset).
 */
export class LoopLagMeter {
  private last = performance.now();
  private max = 0;
  private readonly timer: NodeJS.Timeout;

  constructor(private readonly intervalMs = 25) {
    this.timer = setInterval(() => {
      const now = performance.now();
      this.max = Math.max(this.max, now - this.last - this.intervalMs);
      this.last = now;
    }, intervalMs);
    this.timer.unref();
  }

  /** the largest lateness (seconds) since the previous call, counting a stall still going on. */
  takeMaxSeconds(): number {
    const now = performance.now();
    const ongoing = now - this.last - this.intervalMs;
    const max = Math.max(0, this.max, ongoing);
    this.max = 0;
    return max / 1000;
  }

  stop(): void {
    clearInterval(this.timer);
  }
}

/** Where the latency figures of one pfile come from (its pfile daemon). */
export interface TimingSource {
  pfile: string;
  /** heal times (s) since the last call: loss noticed → the restarted process found */
  takeHealTimes(): number[];
  /** detection bounds (s) since the last call: death → loss noticed (poll death watch only) */
  takeDetectionTimes(): number[];
}

/** The detection and heal histograms, one of each per pfile (never reset while the daemon runs). */
export class LatencyHistograms {
  readonly detection = new Map<string, Histogram>();
  readonly heal = new Map<string, Histogram>();

  /** Takes the new figures of each source (call before each render). */
  collect(sources: Iterable<TimingSource>): void {
    for (const s of sources) {
      for (const v of s.takeHealTimes()) this.of(this.heal, s.pfile).observe(v);
      for (const v of s.takeDetectionTimes()) this.of(this.detection, s.pfile).observe(v);
    }
  }

  of(map: Map<string, Histogram>, pfile: string): Histogram {
    let h = map.get(pfile);
    if (h === undefined) map.set(pfile, (h = new Histogram()));
    return h;
  }
}

export interface MetricsExtra {
  /** `failsafe` (pcheck --config) or `pfile` (pcheck -f): the `mode` label of procsafe_info */
  mode: 'failsafe' | 'pfile';
  loopLagSeconds: number;
  latency: LatencyHistograms;
}

/** A label value in the exposition format: backslash, double quote and line feed escaped. */
export function escapeLabelValue(v: string): string {
  return v.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n');
}

/** HELP text: backslash and line feed escaped. */
function escapeHelp(v: string): string {
  return v.replace(/\\/g, '\\\\').replace(/\n/g, '\\n');
}

/** A sample value: Go's ParseFloat accepts JS's number syntax; infinities are spelled +Inf/-Inf. */
export function formatValue(n: number): string {
  if (Number.isNaN(n)) return 'NaN';
  if (n === Infinity) return '+Inf';
  if (n === -Infinity) return '-Inf';
  return String(n);
}

type Labels = [string, string | number][];

class Writer {
  private readonly lines: string[] = [];
  private readonly seen = new Set<string>();

  family(name: string, type: 'gauge' | 'counter' | 'histogram', help: string): void {
    if (this.seen.has(name)) throw new Error(`metric family ${name} written twice`);
    this.seen.add(name);
    this.lines.push(`# HELP ${name} ${escapeHelp(help)}`, `# TYPE ${name} ${type}`);
  }

  sample(name: string, labels: Labels, value: number): void {
    const l = labels.length === 0 ? '' : `{${labels.map(([k, v]) => `${k}="${escapeLabelValue(String(v))}"`).join(',')}}`;
    this.lines.push(`${name}${l} ${formatValue(value)}`);
  }

  /** One histogram family, one series set per label set. */
  histograms(name: string, help: string, series: [Labels, Histogram][]): void {
    this.family(name, 'histogram', help);
    for (const [labels, h] of series) {
      for (const b of h.buckets()) this.sample(`${name}_bucket`, [...labels, ['le', formatValue(b.le)]], b.count);
      this.sample(`${name}_sum`, labels, h.sum);
      this.sample(`${name}_count`, labels, h.count);
    }
  }

  text(): string {
    return this.lines.join('\n') + '\n';
  }
}

/** The whole exposition (ends with a line feed). Families with no series still get HELP/TYPE. Names: docs/api.md. */
export function renderMetrics(v: StatusView, extra: MetricsExtra): string {
  const w = new Writer();
  const entries = v.pfiles.flatMap((p) => p.entries.map((e) => ({ p, e, labels: [['pfile', p.path], ['pent_id', e.pent_id], ['pname', e.pname]] as Labels })));

  w.family('procsafe_info', 'gauge', 'Always 1: the server name, the procsafe version, the mode (failsafe or pfile) and whether OS actions are rehearsed.');
  w.sample('procsafe_info', [['server', v.server.name], ['version', v.server.version], ['mode', extra.mode], ['rehearse', v.server.rehearse ? 'true' : 'false']], 1);
  w.family('procsafe_start_time_seconds', 'gauge', 'When the daemon started (Unix time, seconds).');
  w.sample('procsafe_start_time_seconds', [], v.server.startedAt / 1000);

  w.family('procsafe_entry_up', 'gauge', '1 if the pfile entry is AVAIL (its process is running), else 0.');
  for (const x of entries) w.sample('procsafe_entry_up', x.labels, x.e.proc_sts === 'AVAIL' ? 1 : 0);
  w.family('procsafe_entry_state', 'gauge', 'The entry state (proc_sts), one series per state, 1 for the current one.');
  for (const x of entries) for (const s of PROC_STATES) w.sample('procsafe_entry_state', [...x.labels, ['state', s]], x.e.proc_sts === s ? 1 : 0);
  w.family('procsafe_entry_monitoring', 'gauge', '1 if monitoring of the entry is on (monitor_sts), 0 if off.');
  for (const x of entries) w.sample('procsafe_entry_monitoring', x.labels, x.e.monitor_sts === 'on' ? 1 : 0);
  w.family('procsafe_entry_restarts_total', 'counter', 'Restarts of the entry (restart_count; padmin reset pent sets it back to 0).');
  for (const x of entries) w.sample('procsafe_entry_restarts_total', x.labels, x.e.restart_count);
  w.family('procsafe_entry_retries', 'gauge', 'Restarts within the current grace window (the retry_count of padmin show pent).');
  for (const x of entries) w.sample('procsafe_entry_retries', x.labels, x.e.retry_count);
  w.family('procsafe_entry_retry_limit', 'gauge', 'Restarts allowed before retry-over (the pfile retry_count field).');
  for (const x of entries) w.sample('procsafe_entry_retry_limit', x.labels, x.e.retry_limit);

  w.family('procsafe_monitor_status', 'gauge', 'The monitor status, one series per status, 1 for the current one.');
  for (const m of v.monitors) for (const s of MONITOR_STATUSES) w.sample('procsafe_monitor_status', [['monitor', m.name], ['group', m.target ?? ''], ['status', s]], m.status === s ? 1 : 0);
  w.family('procsafe_monitor_failures', 'gauge', 'Consecutive failures of the monitor (recovery starts at retries + 1).');
  for (const m of v.monitors) w.sample('procsafe_monitor_failures', [['monitor', m.name]], m.failures);
  w.family('procsafe_monitor_group_restarts', 'gauge', 'Group restarts done by the monitor since its counters were last reset.');
  for (const m of v.monitors) w.sample('procsafe_monitor_group_restarts', [['monitor', m.name]], m.groupRestarts);
  w.family('procsafe_monitor_restart_threshold', 'gauge', "Group restarts allowed before the monitor's final action.");
  for (const m of v.monitors) w.sample('procsafe_monitor_restart_threshold', [['monitor', m.name]], m.restartThreshold);
  w.family('procsafe_monitor_final_action_done', 'gauge', "1 once the monitor's final action has been done (until its counters reset).");
  for (const m of v.monitors) w.sample('procsafe_monitor_final_action_done', [['monitor', m.name]], m.finalActionDone ? 1 : 0);

  w.family('procsafe_group_state', 'gauge', 'The group state, one series per state, 1 for the current one.');
  for (const g of v.groups) for (const s of GROUP_STATES) w.sample('procsafe_group_state', [['group', g.name], ['state', s]], g.state === s ? 1 : 0);
  w.family('procsafe_group_restarts_total', 'counter', 'Restarts of the group (stop then start scripts), as padmin status counts them.');
  for (const g of v.groups) w.sample('procsafe_group_restarts_total', [['group', g.name]], g.restarts);

  // one series set per pfile, from the first scrape on (a rate() needs the zero)
  const per = (map: Map<string, Histogram>): [Labels, Histogram][] => {
    for (const p of v.pfiles) extra.latency.of(map, p.path);
    return [...map].map(([pfile, h]) => [[['pfile', pfile]], h]);
  };
  w.histograms('procsafe_detection_seconds', 'Death of a watched process to its loss being noticed (upper bound; observed with the poll death watch only: a pidfd is a kernel event, late by at most the event loop lag).', per(extra.latency.detection));
  w.histograms('procsafe_heal_seconds', 'Time from the loss of a process being noticed to its restarted process being found.', per(extra.latency.heal));

  w.family('procsafe_event_loop_lag_seconds', 'gauge', 'The largest event-loop delay of the daemon since the previous scrape.');
  w.sample('procsafe_event_loop_lag_seconds', [], extra.loopLagSeconds);
  return w.text();
}
