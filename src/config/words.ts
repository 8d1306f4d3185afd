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
 *  `option` is how the file was given (`-f`, `--config`), `kind` what it is. */
export function readConfigFile(file: string, option: string, kind: string): { abs: string; text: string } {
  const abs = path.resolve(file);
  try {
    return { abs, text: fs.readFileSync(abs, 'utf8') };
  } catch (e) {
    throw new ConfigError(abs, null, `cannot read: ${readProblem(e, option, kind)}`);
  }
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
