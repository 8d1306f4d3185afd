// When schedules run, from the wall clock the daemon's tick passes in: on time, late (once),
// missed by more than an hour (skipped), and after the clock stepped back (nothing twice).
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { ScheduleConfig } from '../../src/core/failsafe-model';
import { describeScheduleRun, MAX_CATCH_UP_MS, planSchedules, tickSchedules, type SchedulePlan } from '../../src/core/schedule-plan';

const nightly: ScheduleConfig = { name: 'nightly', cron: '0 4 * * *', action: { kind: 'restart_group', group: 'web' } };
const often: ScheduleConfig = { name: 'often', cron: '*/10 * * * * *', action: { kind: 'suspend_monitor', monitor: 'web-http', durationSec: 5 } };
const at = (iso: string) => Date.parse(iso);

function ticks(plan: SchedulePlan, times: string[]): { plan: SchedulePlan; lines: string[] } {
  const lines: string[] = [];
  for (const t of times) {
    const r = tickSchedules(plan, at(t));
    plan = r.plan;
    lines.push(...r.runs.map(describeScheduleRun));
  }
  return { plan, lines };
}

describe('schedule plan', () => {
  const saved = process.env.TZ;
  before(() => (process.env.TZ = 'UTC'));
  after(() => (saved === undefined ? delete process.env.TZ : (process.env.TZ = saved)));

  it('runs a schedule at its time, once', () => {
    const plan = planSchedules([nightly], at('2026-11-23T03:59:58Z'));
    const r = ticks(plan, ['2026-11-23T03:59:59Z', '2026-11-23T04:00:00Z', '2026-11-23T04:00:01Z']);
    assert.deepEqual(r.lines, ['Schedule nightly (0 4 * * *): restart group web']);
  });

  it('a late tick runs what was due once, and says how late and how many runs it folded', () => {
    const plan = planSchedules([often], at('2026-11-23T10:00:01Z'));
    const r = ticks(plan, ['2026-11-23T10:00:35Z']);
    assert.deepEqual(r.lines, ['Schedule often (*/10 * * * * *), 25s late, 2 more runs missed meanwhile: run once: suspend monitor web-http for 5s']);
    assert.deepEqual(ticks(r.plan, ['2026-11-23T10:00:36Z']).lines, []);
  });

  it('a run missed by more than an hour (clock stepped forward, server suspended) is skipped, not done late', () => {
    const plan = planSchedules([nightly], at('2026-11-23T03:00:00Z'));
    const r = ticks(plan, ['2026-11-23T10:00:00Z']);
    assert.equal(r.lines.length, 1);
    assert.match(r.lines[0], /^Schedule nightly \(0 4 \* \* \*\): the run due at .* was missed by 21600s .*: skipped, not done late: restart group web$/);
    assert.ok(MAX_CATCH_UP_MS === 3600_000);
  });

  it('the clock stepping back a little runs nothing twice; a long way back plans again from the new time', () => {
    const plan = planSchedules([nightly], at('2026-11-23T03:59:59Z'));
    let r = ticks(plan, ['2026-11-23T04:00:00Z', '2026-11-23T03:30:00Z', '2026-11-23T04:00:00Z', '2026-11-23T04:00:01Z']);
    assert.equal(r.lines.length, 1, r.lines.join('\n'));
    r = ticks(r.plan, ['2026-11-22T03:59:00Z', '2026-11-22T04:00:00Z']);
    assert.deepEqual(r.lines, ['Schedule nightly (0 4 * * *): restart group web']);
  });
});
