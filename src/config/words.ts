// Wording helpers shared by the pfile parser and the ini loader: values quoted as JSON,
// "did you mean" within edit distance 2, and reading a configuration file with an error
// that says what to do.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { ConfigError } from '../errors';

/** Quotes a value from the file; JSON escapes make stray blanks and control characters
 *  visible. A huge value is cut, so that one bad line cannot make a 200 KB message. */
export function q(s: string): string {
  const MAX = 120;
  return s.length <= MAX ? JSON.stringify(s) : `${JSON.stringify(s.slice(0, MAX))}… (${s.length} characters)`;
}

/**
 * The known word closest to `word` (case-insensitive), if within edit distance 2 and closer
 * than the length of either word: "db" is 2 edits from "web" too, but no misspelling of it.
 */
export function suggest(word: string, known: Iterable<string>): string | null {
  let best: string | null = null;
  let bestDist = 3;
  for (const k of known) {
    // more than 2 apart in length is more than 2 edits: skip (and keep huge words linear)
    if (Math.abs(word.length - k.length) > 2) continue;
    const d = editDistance(word.toLowerCase(), k.toLowerCase());
    if (d < bestDist && d < Math.min(word.length, k.length)) [best, bestDist] = [k, d];
  }
  return best;
}

/** "; did you mean X?" or "; <listIntro> a, b, c". */
export function didYouMean(word: string, known: readonly string[], listIntro: string): string {
  const hint = suggest(word, known);
  return hint !== null ? `; did you mean ${hint}?` : `; ${listIntro} ${known.join(', ')}`;
}

export function editDistance(a: string, b: string): number {
  let prev = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const cur = [i];
    for (let j = 1; j <= b.length; j++) {
      cur[j] = Math.min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (a[i - 1] === b[j - 1] ? 0 : 1));
    }
    prev = cur;
  }
  return prev[b.length];
}

export function errnoCode(e: unknown): string | undefined {
  return typeof e === 'object' && e !== null && 'code' in e && typeof e.code === 'string' ? e.code : undefined;
}

/** Reads a configuration file; a failure is a ConfigError naming the file and what to do.
 *  `option` is how the file was given (`-f`, `--config`), `kind` what it is; lines starting
 *  with one of `comments` may hold any bytes, every other line must be UTF-8. */
export function readConfigFile(file: string, option: string, kind: string, comments: readonly string[]): { abs: string; text: string } {
  const abs = path.resolve(file);
  let bytes: Buffer;
  try {
    bytes = fs.readFileSync(abs);
  } catch (e) {
    throw new ConfigError(abs, null, `cannot read: ${readProblem(e, option, kind)}`);
  }
  return { abs, text: decodeConfigText(bytes, comments, (line, problem) => new ConfigError(abs, line, problem)) };
}

const strictUtf8 = new TextDecoder('utf-8', { fatal: true });

/**
 * The text of a configuration file. A byte that is not UTF-8 (a Latin-1 "é", a Shift_JIS
 * path) would become U+FFFD, and a path holding it would then be "missing": such a line is
 * refused with its line and column. Comments may hold anything (old pfiles have Shift_JIS ones).
 */
export function decodeConfigText(bytes: Buffer, comments: readonly string[], fail: (line: number, problem: string) => Error): string {
  try {
    return strictUtf8.decode(bytes);
  } catch {
    // find the line: below
  }
  let start = 0;
  for (let line = 1; start <= bytes.length; line++) {
    const nl = bytes.indexOf(0x0a, start);
    const end = nl === -1 ? bytes.length : nl;
    const lineBytes = bytes.subarray(start, end);
    const bad = firstInvalidUtf8(lineBytes);
    const isComment = comments.some((c) => lineBytes.toString('utf8').trimStart().startsWith(c));
    if (bad !== -1 && !isComment) {
      const column = [...lineBytes.subarray(0, bad).toString('utf8')].length + 1;
      const hex = lineBytes[bad].toString(16).toUpperCase().padStart(2, '0');
      throw fail(
        line,
        `byte 0x${hex} at column ${column} is not UTF-8 (the file looks Latin-1 or Shift_JIS encoded); save it as UTF-8 (e.g. iconv -f latin1 -t utf-8), and give files names in UTF-8`,
      );
    }
    start = end + 1;
  }
  return bytes.toString('utf8'); // the bad bytes are in comments only
}

/** The offset of the first byte that does not start a valid UTF-8 sequence, or -1. */
function firstInvalidUtf8(b: Buffer): number {
  for (let i = 0; i < b.length; ) {
    const c = b[i];
    const n = c < 0x80 ? 1 : c >= 0xc2 && c <= 0xdf ? 2 : c >= 0xe0 && c <= 0xef ? 3 : c >= 0xf0 && c <= 0xf4 ? 4 : 0;
    if (n === 0 || i + n > b.length) return i;
    if (n > 1) {
      try {
        strictUtf8.decode(b.subarray(i, i + n)); // overlong forms and surrogates too
      } catch {
        return i;
      }
    }
    i += n;
  }
  return -1;
}

function readProblem(e: unknown, option: string, kind: string): string {
  switch (errnoCode(e)) {
    case 'ENOENT':
      return `no such file; check the path given with ${option}`;
    case 'EACCES':
      return 'permission denied; run as a user that may read it (usually root)';
    case 'EISDIR':
      return `it is a directory; give the path of the ${kind} itself`;
    default:
      return e instanceof Error ? e.message : String(e);
  }
}
