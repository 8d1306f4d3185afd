// Small wording helpers for the messages of the ini loader (the same conventions as the
// pfile parser: values quoted as JSON, "did you mean" within edit distance 2).

/** Quotes a value from the file; JSON escapes make stray blanks and control characters visible. */
export function q(s: string): string {
  return JSON.stringify(s);
}

/**
 * The known word closest to `word` (case-insensitive), if within edit distance 2 and closer
 * than the length of either word: "db" is 2 edits from "web" too, but no misspelling of it.
 */
export function suggest(word: string, known: Iterable<string>): string | null {
  let best: string | null = null;
  let bestDist = 3;
  for (const k of known) {
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
