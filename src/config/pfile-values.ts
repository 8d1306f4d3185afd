// Values shared by the pfile's PARAM and PENT parsers: seconds, unknown words with a
// did-you-mean, and the Fail callback that throws the located ConfigError.
import { q, suggest } from './words';

/** Throws the ConfigError for the line being parsed. */
export type Fail = (problem: string) => never;

/** Longest timer Node can arm (2^31-1 ms); a longer one fires at once instead. */
const MAX_SECONDS = 2147483;

/** Seconds as a plain decimal (10, 0.5): no sign, exponent, unit or Infinity. */
export function seconds(name: string, value: string, example: string, allowZero: boolean, bad: Fail): number {
  const ending = `; write e.g. ${example}`;
  if (/^-/.test(value) && isDecimal(value.slice(1))) bad(`${name} ${q(value)} is negative${ending}`);
  if (!isDecimal(value)) {
    const comment = /\s#/.test(value) ? ' (comments must be on a line of their own)' : '';
    bad(`${name} ${q(value)} is not a number of seconds${comment}${ending}`);
  }
  const n = Number(value);
  if (n === 0 && !allowZero) bad(`${name} ${q(value)} must be more than 0 seconds${ending}`);
  if (n > MAX_SECONDS) bad(`${name} ${q(value)} is too long (at most ${MAX_SECONDS} seconds, about 24 days)${ending}`);
  return n;
}

function isDecimal(s: string): boolean {
  return /^(\d+(\.\d+)?|\.\d+)$/.test(s);
}

export function unknownWord(kind: string, word: string, known: readonly string[], listIntro: string): string {
  const hint = suggest(word, known);
  return hint ? `unknown ${kind} ${q(word)}; did you mean ${hint}?` : `unknown ${kind} ${q(word)}; ${listIntro} ${known.join(', ')}`;
}

