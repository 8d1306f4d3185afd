// A small validator for the cron expressions of [schedule:NAME] sections: 5 fields
// (minute hour day-of-month month day-of-week) or 6 (a seconds field first, as node-cron and
// croner read them). Each field is a comma list of `*`, `*/STEP`, `N`, `N-M`, `N-M/STEP` or
// `N/STEP`. Names (jan, mon), `?`, `L`, `W` and @macros are refused with a hint, so that the
// scheduler only ever sees the plain numeric form. An expression no date matches (`0 0 30 2 *`:
// February has no 30th) is refused too: it would never run, and nobody would notice.
import { nextRunAfter, parseCron } from '../core/cron';

interface Field {
  name: string;
  min: number;
  max: number;
}

const FIVE: readonly Field[] = [
  { name: 'minute', min: 0, max: 59 },
  { name: 'hour', min: 0, max: 23 },
  { name: 'day of month', min: 1, max: 31 },
  { name: 'month', min: 1, max: 12 },
  { name: 'day of week', min: 0, max: 7 }, // 0 and 7 are both Sunday
];
const SIX: readonly Field[] = [{ name: 'second', min: 0, max: 59 }, ...FIVE];

const LAYOUT = 'write 5 fields (minute hour day-of-month month day-of-week, e.g. 0 4 * * *) or 6 with seconds first (e.g. 0 0 4 * * *)';
const ITEM = /^(\*|(\d+)(?:-(\d+))?)(?:\/(\d+))?$/;

/** What is wrong with `expr`, or null when it is a valid 5- or 6-field expression. */
export function cronProblem(expr: string): string | null {
  const fields = expr.trim().split(/\s+/).filter((f) => f !== '');
  if (fields.length === 1 && fields[0].startsWith('@')) {
    return `macros such as ${fields[0]} are not supported; ${LAYOUT}`;
  }
  if (fields.length !== 5 && fields.length !== 6) {
    return `it has ${fields.length} field${fields.length === 1 ? '' : 's'}; ${LAYOUT}`;
  }
  const layout = fields.length === 6 ? SIX : FIVE;
  for (let i = 0; i < fields.length; i++) {
    const problem = fieldProblem(fields[i], layout[i]);
    if (problem !== null) return `field ${i + 1} (${layout[i].name}) ${JSON.stringify(fields[i])}: ${problem}`;
  }
  return neverRuns(fields);
}

/** The scheduler's own reading: a valid expression that no date matches (only day × month can). */
function neverRuns(fields: string[]): string | null {
  let next: number | null;
  try {
    next = nextRunAfter(parseCron(fields.join(' ')), Date.now());
  } catch (e) {
    return `the scheduler cannot read it (${(e as Error).message}); ${LAYOUT}`;
  }
  if (next !== null) return null;
  const [day, month] = fields.slice(-3, -1);
  return `it never runs: no date has day of month ${day} in month ${month} (e.g. February has no 30th, April no 31st); fix the day-of-month or month field`;
}

function fieldProblem(text: string, f: Field): string | null {
  if (/[a-z]/i.test(text)) {
    return 'names, L and W are not supported; write numbers (months 1-12, weekdays 0-7 with 0 and 7 = Sunday)';
  }
  if (text.includes('?')) return '"?" is not supported; write *';
  for (const item of text.split(',')) {
    const problem = itemProblem(item, f);
    if (problem !== null) return problem;
  }
  return null;
}

function itemProblem(item: string, f: Field): string | null {
  const range = `${f.min}-${f.max}`;
  if (item === '') return 'an empty item in the list (two commas in a row, or a comma at either end); remove the extra comma';
  const m = ITEM.exec(item);
  if (!m) return `${JSON.stringify(item)} is not *, N, N-M or one of them with /STEP (numbers ${range})`;
  const [, , from, to, step] = m;
  for (const n of [from, to]) {
    if (n !== undefined && (Number(n) < f.min || Number(n) > f.max)) return `${n} is out of range; use ${range}`;
  }
  if (from !== undefined && to !== undefined && Number(from) > Number(to)) {
    return `the range ${from}-${to} runs backwards; write the smaller number first`;
  }
  if (step !== undefined && Number(step) === 0) return 'a step of 0 never advances; use /1 or more';
  return null;
}
