// Cron expressions as pure data: parse once into sets, then ask whether a second matches.
// 5 fields (minute hour day-of-month month day-of-week) or 6 with seconds first; items are
// `*`, `*/S`, `N`, `N-M`, `N-M/S`, `N/S` (validated beforehand by config/ini-cron.ts).
// As in Vixie cron, when both day fields are restricted a day matches if either does.

export interface CronSpec {
  seconds: Set<number>;
  minutes: Set<number>;
  hours: Set<number>;
  days: Set<number>;
  months: Set<number>;
  weekdays: Set<number>;
  dayRestricted: boolean;
  weekdayRestricted: boolean;
}

function field(text: string, min: number, max: number): Set<number> {
  const out = new Set<number>();
  for (const item of text.split(',')) {
    const m = /^(\*|(\d+)(?:-(\d+))?)(?:\/(\d+))?$/.exec(item);
    if (!m) throw new Error(`bad cron item "${item}"`);
    const step = m[4] === undefined ? 1 : Number(m[4]);
    const lo = m[1] === '*' ? min : Number(m[2]);
    const hi = m[1] === '*' || (m[3] === undefined && m[4] !== undefined) ? max : m[3] === undefined ? lo : Number(m[3]);
    for (let v = lo; v <= hi; v += step) out.add(v);
  }
  return out;
}

export function parseCron(expr: string): CronSpec {
  const f = expr.trim().split(/\s+/);
  const six = f.length === 6 ? f : ['0', ...f];
  if (six.length !== 6) throw new Error(`cron "${expr}" needs 5 or 6 fields`);
  const weekdays = field(six[5], 0, 7);
  if (weekdays.has(7)) weekdays.add(0); // 7 is Sunday too
  return {
    seconds: field(six[0], 0, 59),
    minutes: field(six[1], 0, 59),
    hours: field(six[2], 0, 23),
    days: field(six[3], 1, 31),
    months: field(six[4], 1, 12),
    weekdays,
    dayRestricted: six[3] !== '*',
    weekdayRestricted: six[5] !== '*',
  };
}

/** Whether the local-time second `d` (milliseconds ignored) matches. */
export function cronMatches(c: CronSpec, d: Date): boolean {
  if (!c.seconds.has(d.getSeconds()) || !c.minutes.has(d.getMinutes()) || !c.hours.has(d.getHours())) return false;
  if (!c.months.has(d.getMonth() + 1)) return false;
  const dom = c.days.has(d.getDate());
  const dow = c.weekdays.has(d.getDay());
  if (c.dayRestricted && c.weekdayRestricted) return dom || dow;
  return dom && dow;
}
