// Cron expressions in the server's time zone, daylight saving time included (croner's DST
// rules, docs/failsafe.md "Schedules"): a fixed-time schedule in the hour skipped in spring
// runs once when the clock jumps; on the day a time occurs twice it runs once; interval
// schedules follow elapsed time.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { nextRunAfter, parseCron } from '../../src/core/cron';

/** The next `n` runs after `from` (an ISO instant), as UTC ISO strings. */
function runs(expr: string, from: string, n: number): string[] {
  const spec = parseCron(expr);
  const out: string[] = [];
  let t = Date.parse(from);
  for (let i = 0; i < n; i++) {
    const next = nextRunAfter(spec, t);
    if (next === null) break;
    out.push(new Date(next).toISOString().replace('.000', ''));
    t = next;
  }
  return out;
}

function inZone(tz: string, body: () => void): void {
  describe(`in ${tz}`, () => {
    const saved = process.env.TZ;
    before(() => (process.env.TZ = tz));
    after(() => (saved === undefined ? delete process.env.TZ : (process.env.TZ = saved)));
    body();
  });
}

describe('cron', () => {
  inZone('UTC', () => {
    it('a 5-field expression runs at second 0 of the minutes it names', () => {
      assert.deepEqual(runs('30 4 * * *', '2026-11-23T04:29:59Z', 2), ['2026-11-23T04:30:00Z', '2026-11-24T04:30:00Z']);
    });

    it('steps, ranges and lists', () => {
      // 2026-11-21 is a Saturday: the next weekday run is Monday 09:00
      assert.deepEqual(runs('*/15 9-17 * * 1-5', '2026-11-21T12:00:00Z', 2), ['2026-11-23T09:00:00Z', '2026-11-23T09:15:00Z']);
      assert.deepEqual(runs('0,30 * * * *', '2026-11-23T10:00:00Z', 2), ['2026-11-23T10:30:00Z', '2026-11-23T11:00:00Z']);
      assert.deepEqual(runs('5/20 * * * *', '2026-11-23T10:00:00Z', 3), ['2026-11-23T10:05:00Z', '2026-11-23T10:25:00Z', '2026-11-23T10:45:00Z']);
    });

    it('6 fields put seconds first', () => {
      assert.deepEqual(runs('*/5 * * * * *', '2026-11-23T10:30:01Z', 2), ['2026-11-23T10:30:05Z', '2026-11-23T10:30:10Z']);
    });

    it('day 7 is Sunday, and restricted day-of-month and day-of-week match either way', () => {
      assert.deepEqual(runs('0 0 * * 7', '2026-11-20T00:00:00Z', 1), ['2026-11-22T00:00:00Z']);
      // the 1st (a Tuesday in December) or a Monday
      assert.deepEqual(runs('0 0 1 * 1', '2026-11-24T00:00:00Z', 2), ['2026-11-30T00:00:00Z', '2026-12-01T00:00:00Z']);
    });

    it('a date that never occurs never runs; 29 February does, in leap years', () => {
      assert.deepEqual(runs('0 0 30 2 *', '2026-01-01T00:00:00Z', 1), []);
      assert.deepEqual(runs('0 0 29 2 *', '2026-01-01T00:00:00Z', 1), ['2028-02-29T00:00:00Z']);
    });
  });

  inZone('Europe/Berlin', () => {
    // 2026-03-29: 02:00 CET (01:00 UTC) becomes 03:00 CEST; 2026-10-25: 03:00 CEST (01:00 UTC) becomes 02:00 CET
    it('spring forward: a 02:30 schedule runs once, at 03:00 when the clock jumps, and at 02:30 the next day', () => {
      assert.deepEqual(runs('30 2 * * *', '2026-03-28T12:00:00Z', 2), ['2026-03-29T01:00:00Z', '2026-03-30T00:30:00Z']);
    });

    it('fall back: a 02:30 schedule runs once, on the first 02:30 (CEST)', () => {
      assert.deepEqual(runs('30 2 * * *', '2026-10-24T12:00:00Z', 2), ['2026-10-25T00:30:00Z', '2026-10-26T01:30:00Z']);
    });

    it('a list of fixed hours is fixed-time too (as Vixie cron treats it)', () => {
      assert.deepEqual(runs('0 2,14 * * *', '2026-03-28T20:00:00Z', 2), ['2026-03-29T01:00:00Z', '2026-03-29T12:00:00Z']);
    });

    it('an interval schedule follows elapsed time: it skips the missing hour and runs in both repeated ones', () => {
      assert.deepEqual(runs('*/30 * * * *', '2026-03-29T00:15:00Z', 3), ['2026-03-29T00:30:00Z', '2026-03-29T01:00:00Z', '2026-03-29T01:30:00Z']);
      assert.deepEqual(runs('30 * * * *', '2026-10-25T00:00:00Z', 3), ['2026-10-25T00:30:00Z', '2026-10-25T01:30:00Z', '2026-10-25T02:30:00Z']);
    });
  });

  inZone('America/New_York', () => {
    // 2026-03-08: 02:00 EST (07:00 UTC) becomes 03:00 EDT; 2026-11-01: 02:00 EDT (06:00 UTC) becomes 01:00 EST
    it('spring forward and fall back in New York: 02:30 runs at 03:00 EDT; 01:30 runs once, in EDT', () => {
      assert.deepEqual(runs('30 2 * * *', '2026-03-07T12:00:00Z', 2), ['2026-03-08T07:00:00Z', '2026-03-09T06:30:00Z']);
      assert.deepEqual(runs('30 1 * * *', '2026-10-31T12:00:00Z', 2), ['2026-11-01T05:30:00Z', '2026-11-02T06:30:00Z']);
    });
  });
});
