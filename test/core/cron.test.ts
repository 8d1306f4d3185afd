import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { cronMatches, parseCron } from '../../src/core/cron';

const at = (s: string) => new Date(s); // local time

describe('cron', () => {
  it('a 5-field expression matches at second 0 of the minutes it names', () => {
    const c = parseCron('30 4 * * *');
    assert.equal(cronMatches(c, at('2026-11-23T04:30:00')), true);
    assert.equal(cronMatches(c, at('2026-11-23T04:30:01')), false);
    assert.equal(cronMatches(c, at('2026-11-23T05:30:00')), false);
  });

  it('steps, ranges and lists', () => {
    const c = parseCron('*/15 9-17 * * 1-5');
    assert.equal(cronMatches(c, at('2026-11-23T09:45:00')), true); // a Monday
    assert.equal(cronMatches(c, at('2026-11-22T09:45:00')), false); // a Sunday
    assert.equal(cronMatches(parseCron('0,30 * * * *'), at('2026-11-23T10:30:00')), true);
  });

  it('6 fields put seconds first', () => {
    const c = parseCron('*/5 * * * * *');
    assert.equal(cronMatches(c, at('2026-11-23T10:30:05')), true);
    assert.equal(cronMatches(c, at('2026-11-23T10:30:06')), false);
  });

  it('day 7 is Sunday, and restricted day-of-month or day-of-week match either way', () => {
    assert.equal(cronMatches(parseCron('0 0 * * 7'), at('2026-11-22T00:00:00')), true);
    const c = parseCron('0 0 1 * 1');
    assert.equal(cronMatches(c, at('2026-12-01T00:00:00')), true); // the 1st (a Tuesday)
    assert.equal(cronMatches(c, at('2026-11-23T00:00:00')), true); // a Monday
    assert.equal(cronMatches(c, at('2026-11-24T00:00:00')), false);
  });
});
