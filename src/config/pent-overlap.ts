// Every entry watches its own process (SPEC §10). Two entries that can match the same process
// both adopt it (each takes the oldest match), and the other process goes unwatched: with
// include_strings=/opt/tomcat and include_strings=/opt/tomcat2, both entries watch tomcat2 and
// nobody watches tomcat. Such pairs are refused at load with both line numbers.
import * as fs from 'node:fs';
import type { Pent } from '../core/model';

/** Throws the ConfigError of one pfile line. */
type FailAt = (line: number, problem: string) => never;

type Criteria = Pick<Pent, 'line' | 'pname' | 'includeStrings' | 'excludeStrings' | 'uid' | 'user'>;

/**
 * Entries A and B overlap when
 * - they name the same program: the same pname, or pnames whose realpath is the same file
 *   (/usr/bin/java and the JDK's bin/java it links to): a process matches by argv[0] or by exe;
 * - their `user=` do not differ (an entry without `user=` matches every owner);
 * - one's include strings are all implied by the other's: each include of A is a substring of
 *   some include of B (so every command line B matches has them), or the other way round; no
 *   include strings are implied by anything;
 * unless an exclude string of one is a substring of an include of the other (then every
 * process of the other carries it, and the one never matches it).
 * Throws at the later line of the first such pair, naming the earlier one and what to change.
 */
export function checkOverlaps(pents: readonly Criteria[], failAt: FailAt, realpath: (p: string) => string | null = realpathOrNull): void {
  const byProgram = new Map<string, Criteria[]>();
  const programOf = new Map<string, string>();
  for (const p of pents) {
    let key = programOf.get(p.pname);
    if (key === undefined) {
      key = realpath(p.pname) ?? p.pname;
      programOf.set(p.pname, key);
    }
    const earlier = byProgram.get(key);
    if (earlier === undefined) {
      byProgram.set(key, [p]);
      continue;
    }
    for (const q of earlier) {
      const problem = overlapProblem(q, p, key);
      if (problem !== null) failAt(p.line, problem);
    }
    earlier.push(p);
  }
}

/** Why `a` (earlier) and `b` (later), which name the same program, can watch the same process; null if they cannot. */
export function overlapProblem(a: Criteria, b: Criteria, program: string): string | null {
  if (a.uid !== null && b.uid !== null && a.uid !== b.uid) return null;
  const aCoversB = implied(a.includeStrings, b.includeStrings); // every process of b is one of a's
  const bCoversA = implied(b.includeStrings, a.includeStrings);
  if (!aCoversB && !bCoversA) return null;
  if (keptApart(a, b) || keptApart(b, a)) return null;
  const same = a.pname === b.pname ? `both name ${a.pname}` : `${a.pname} (line ${a.line}) and ${b.pname} are the same program (${program})`;
  const start = `this entry and the one on line ${a.line} can match the same process (both would watch it, and the other process would go unwatched): `;
  if (aCoversB && bCoversA) {
    const why = a.includeStrings.length === 0 && b.includeStrings.length === 0 ? 'neither has include_strings' : 'their include_strings match the same command lines';
    return `${start}${same}, and ${why}; give each entry include_strings that only its own process has (e.g. its configuration path), or remove one of them`;
  }
  const [wide, narrow] = aCoversB ? [a, b] : [b, a];
  const why =
    wide.includeStrings.length === 0
      ? `line ${wide.line} has no include_strings, so it matches every process of line ${narrow.line}`
      : `every command line with include_strings=${narrow.includeStrings.join('&')} (line ${narrow.line}) also has include_strings=${wide.includeStrings.join('&')} (line ${wide.line})`;
  return `${start}${same}, and ${why}; ${fixFor(wide, narrow)}`;
}

/** Every string of `wide` is found in every command line that has all of `narrow`. */
function implied(wide: readonly string[], narrow: readonly string[]): boolean {
  return wide.every((w) => narrow.some((n) => n.includes(w)));
}

/** An exclude string of `x` is in every command line that `y` matches. */
function keptApart(x: Criteria, y: Criteria): boolean {
  return x.excludeStrings.some((e) => y.includeStrings.some((i) => i.includes(e)));
}

/** Tell the wider entry to exclude what only the narrower one's processes have. */
function fixFor(wide: Criteria, narrow: Criteria): string {
  const own = narrow.includeStrings.find((n) => !wide.includeStrings.some((w) => w.includes(n)));
  const distinct = 'or make the include strings distinct';
  if (own === undefined) return `give each entry include_strings that only its own process has, ${distinct}`;
  const add = wide.excludeStrings.length === 0 ? `add exclude_strings=${own} to line ${wide.line}` : `add &${own} to the exclude_strings of line ${wide.line}`;
  return `${add}, ${distinct}`;
}

/** Most pnames of a pfile are not symlinks, and some are not installed: existsSync is cheap and
 *  throws nothing (1,000 failing realpaths cost ~30 ms of exceptions). */
function realpathOrNull(p: string): string | null {
  if (!fs.existsSync(p)) return null;
  try {
    return fs.realpathSync.native(p);
  } catch {
    return null;
  }
}
