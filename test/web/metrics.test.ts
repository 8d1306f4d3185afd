// /metrics: the hand-written Prometheus text, read back by a real parser
// (parse-prometheus-text-format, prom2json's shape) and by the format's strict rules.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import parsePrometheusTextFormat from 'parse-prometheus-text-format';
import { Histogram, LATENCY_BUCKETS, LatencyHistograms, LoopLagMeter, escapeLabelValue, renderMetrics } from '../../src/web/metrics';
import { strictParse } from './prom-check';
import { sampleStatus } from './fixture';

const PFILE = '/etc/procsafe/web.pfile';

function render(): string {
  const latency = new LatencyHistograms();
  latency.collect([{ pfile: PFILE, takeDetectionTimes: () => [0.0004, 0.002, 0.002, 0.03], takeHealTimes: () => [0.015, 0.4, 12] }]);
  return renderMetrics(sampleStatus(), { mode: 'failsafe', loopLagSeconds: 0.0125, latency });
}

describe('metrics', () => {
  it('the exposition is parsed by a Prometheus text-format parser into the expected families and types', () => {
    const families = parsePrometheusTextFormat(render());
    const types = Object.fromEntries(families.map((f) => [f.name, f.type]));
    assert.deepEqual(types, {
      procsafe_info: 'GAUGE',
      procsafe_start_time_seconds: 'GAUGE',
      procsafe_entry_up: 'GAUGE',
      procsafe_entry_state: 'GAUGE',
      procsafe_entry_monitoring: 'GAUGE',
      procsafe_entry_restarts_total: 'COUNTER',
      procsafe_entry_retries: 'GAUGE',
      procsafe_entry_retry_limit: 'GAUGE',
      procsafe_monitor_status: 'GAUGE',
      procsafe_monitor_failures: 'GAUGE',
      procsafe_monitor_group_restarts: 'GAUGE',
      procsafe_monitor_restart_threshold: 'GAUGE',
      procsafe_monitor_final_action_done: 'GAUGE',
      procsafe_group_state: 'GAUGE',
      procsafe_group_restarts_total: 'COUNTER',
      procsafe_detection_seconds: 'HISTOGRAM',
      procsafe_heal_seconds: 'HISTOGRAM',
      procsafe_event_loop_lag_seconds: 'GAUGE',
    });
    for (const f of families) assert.ok(f.help.length > 10, `HELP of ${f.name}`);
  });

  it('also keeps every rule of the format that a lenient parser would let pass (names, escapes, values, histograms)', () => {
    const families = strictParse(render());
    assert.equal(families.length, 18);
    // every family has its HELP and TYPE
    for (const f of families) {
      assert.notEqual(f.help, null, f.name);
      assert.notEqual(f.type, 'untyped', f.name);
    }
  });

  it('writes entry up, one-hot state, counters and retry counts per pfile entry, with label values escaped', () => {
    const fams = Object.fromEntries(strictParse(render()).map((f) => [f.name, f]));
    const odd = '/opt/odd "quoted" \\back\\slash<b>';
    const up = fams.procsafe_entry_up.samples.map((s) => [s.labels.pent_id, s.labels.pname, s.value]);
    assert.deepEqual(up, [
      ['1', '/usr/bin/node', 1],
      ['2', odd, 0],
      ['3', '/usr/sbin/cron', 0],
    ]);
    // the real parser unescapes the same way
    const lib = parsePrometheusTextFormat(render()).find((f) => f.name === 'procsafe_entry_up')!;
    assert.equal(lib.metrics[1].labels!.pname, odd);
    assert.equal(lib.metrics[1].labels!.pfile, '/etc/procsafe/web.pfile');

    const state = fams.procsafe_entry_state.samples.filter((s) => s.labels.pent_id === '2');
    assert.deepEqual(
      state.map((s) => [s.labels.state, s.value]),
      [['WAIT', 0], ['AVAIL', 0], ['DOWN', 0], ['RESTARTING', 1], ['RETRY_OVER', 0]],
    );
    assert.deepEqual(fams.procsafe_entry_restarts_total.samples.map((s) => s.value), [0, 7, 3]);
    assert.deepEqual(fams.procsafe_entry_retries.samples.map((s) => s.value), [0, 2, 3]);
    assert.deepEqual(fams.procsafe_entry_monitoring.samples.map((s) => s.value), [1, 1, 0]);
  });

  it('writes monitor status one-hot, failures and group restarts, and group state one-hot with restart counters', () => {
    const fams = Object.fromEntries(strictParse(render()).map((f) => [f.name, f]));
    const current = (name: string, key: string) =>
      fams[name].samples.filter((s) => s.value === 1).map((s) => [s.labels[key === 'status' ? 'monitor' : 'group'], s.labels[key]]);
    assert.deepEqual(current('procsafe_monitor_status', 'status'), [['web-http', 'Normal'], ['db-pid', 'Error'], ['disk', 'Suspended']]);
    assert.equal(fams.procsafe_monitor_status.samples.length, 3 * 5);
    assert.deepEqual(fams.procsafe_monitor_failures.samples.map((s) => s.value), [0, 2, 0]);
    assert.deepEqual(fams.procsafe_monitor_group_restarts.samples.map((s) => s.value), [1, 1, 0]);
    assert.deepEqual(current('procsafe_group_state', 'state'), [['secret-group-web', 'Online'], ['db', 'Error']]);
    assert.deepEqual(fams.procsafe_group_restarts_total.samples.map((s) => [s.labels.group, s.value]), [['secret-group-web', 2], ['db', 0]]);
  });

  it('names the server, the version, the mode and rehearsal in procsafe_info, and the target group of each monitor', () => {
    const fams = Object.fromEntries(strictParse(render()).map((f) => [f.name, f]));
    assert.deepEqual(fams.procsafe_info.samples, [{ name: 'procsafe_info', labels: { server: 'fixture-host', version: '0.1.0', mode: 'failsafe', rehearse: 'true' }, value: 1 }]);
    const groups = fams.procsafe_monitor_status.samples.filter((s) => s.labels.status === 'Normal').map((s) => [s.labels.monitor, s.labels.group]);
    assert.deepEqual(groups, [['web-http', 'secret-group-web'], ['db-pid', 'db'], ['disk', '']]);
  });

  it('writes one detection and one heal histogram per pfile, with a pfile label, from the first scrape on', () => {
    const v = sampleStatus();
    v.pfiles.push({ path: '/etc/procsafe/db.pfile', group: 'db', entries: [] });
    const latency = new LatencyHistograms();
    latency.collect([{ pfile: PFILE, takeHealTimes: () => [0.2], takeDetectionTimes: () => [] }]);
    const fams = Object.fromEntries(strictParse(renderMetrics(v, { mode: 'failsafe', loopLagSeconds: 0, latency })).map((f) => [f.name, f]));
    const counts = (name: string) => fams[name].samples.filter((s) => s.name === `${name}_count`).map((s) => [s.labels.pfile, s.value]);
    assert.deepEqual(counts('procsafe_heal_seconds'), [[PFILE, 1], ['/etc/procsafe/db.pfile', 0]]);
    assert.deepEqual(counts('procsafe_detection_seconds'), [[PFILE, 0], ['/etc/procsafe/db.pfile', 0]]);
  });

  it('writes the detection and heal histograms with cumulative buckets from 1 ms to 60 s, and the loop lag', () => {
    const lib = parsePrometheusTextFormat(render());
    const det = lib.find((f) => f.name === 'procsafe_detection_seconds')!.metrics[0];
    assert.deepEqual(Object.keys(det.buckets!).sort(), [...LATENCY_BUCKETS.map(String), '+Inf'].sort());
    const strict = strictParse(render()).find((f) => f.name === 'procsafe_detection_seconds')!;
    assert.deepEqual(
      strict.samples.filter((s) => s.name.endsWith('_bucket')).map((s) => s.labels.le),
      [...LATENCY_BUCKETS.map(String), '+Inf'],
    );
    assert.equal(det.buckets!['0.001'], '1');
    assert.equal(det.buckets!['0.0025'], '3');
    assert.equal(det.buckets!['0.05'], '4');
    // the library drops _count and _sum of a labelled histogram: read them strictly
    const value = (name: string) => strict.samples.find((s) => s.name === name)!.value;
    assert.equal(value('procsafe_detection_seconds_count'), 4);
    assert.ok(Math.abs(value('procsafe_detection_seconds_sum') - 0.0344) < 1e-9);
    assert.deepEqual(strict.samples[0].labels, { pfile: PFILE, le: '0.001' });
    const heal = lib.find((f) => f.name === 'procsafe_heal_seconds')!.metrics[0];
    assert.equal(heal.buckets!['10'], '2', '12 s is over 10 s');
    assert.equal(heal.buckets!['30'], '3');
    assert.equal(heal.buckets!['+Inf'], '3');
    const lag = lib.find((f) => f.name === 'procsafe_event_loop_lag_seconds')!.metrics[0];
    assert.equal(lag.value, '0.0125');
  });

  it('writes every family, with HELP and TYPE, even with no groups, monitors or entries', () => {
    const v = sampleStatus();
    v.groups = [];
    v.monitors = [];
    v.pfiles = [];
    const fams = strictParse(renderMetrics(v, { mode: 'failsafe', loopLagSeconds: 0, latency: new LatencyHistograms() }));
    assert.equal(fams.length, 18);
    assert.equal(fams.find((f) => f.name === 'procsafe_entry_up')!.samples.length, 0);
  });

  it('escapes backslash, double quote and line feed in label values, and nothing else', () => {
    assert.equal(escapeLabelValue('a\\b"c\nd<é>'), 'a\\\\b\\"c\\nd<é>');
  });

  it('a histogram ignores negative and non-finite values and refuses bounds that do not increase', () => {
    const h = new Histogram([0.1, 1]);
    h.observe(-1);
    h.observe(NaN);
    h.observe(Infinity);
    h.observe(0.1);
    assert.equal(h.count, 1);
    assert.deepEqual(h.buckets(), [
      { le: 0.1, count: 1 },
      { le: 1, count: 1 },
      { le: Infinity, count: 1 },
    ]);
    assert.throws(() => new Histogram([1, 1]), /increase/);
  });

  it('the loop lag meter reports a blocked event loop and starts again from zero after each read', async () => {
    const m = new LoopLagMeter();
    try {
      await new Promise((r) => setTimeout(r, 50));
      m.takeMaxSeconds();
      const until = Date.now() + 150;
      while (Date.now() < until) {
        /* block the loop */
      }
      await new Promise((r) => setTimeout(r, 30));
      const lag = m.takeMaxSeconds();
      assert.ok(lag >= 0.1 && lag < 1, `lag ${lag}`);
      await new Promise((r) => setTimeout(r, 100));
      assert.ok(m.takeMaxSeconds() < 0.05);
      // a stall right after a read is seen too, even while it is still going on
      const until2 = Date.now() + 120;
      while (Date.now() < until2) {
        /* block the loop */
      }
      assert.ok(m.takeMaxSeconds() >= 0.09);
    } finally {
      m.stop();
    }
  });
});
