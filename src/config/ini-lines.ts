// The raw layer of the FailSafe ini file. The `ini` package decodes values well (quotes,
// `;`/`#` comments, `\;` escapes) but it gives no line numbers, merges a repeated section or
// key silently, nests section names at dots ([group:web.v2]) and skips lines it does not
// understand. So the text is first cut here into located sections and `key = value` lines
// (which also finds repeats and stray lines), and then `ini` decodes each key line on its own,
// so that a value means exactly what it means to any ini reader.
import * as ini from 'ini';
import { q } from './words';

/** Throws the ConfigError of one line (or of the whole file when line is null). */
export type FailAt = (line: number | null, problem: string) => never;

export interface KeyLine {
  key: string;
  /** the text after the first "=", trimmed, before ini decodes it. */
  raw: string;
  /** the whole line, trimmed: what ini decodes. */
  text: string;
  line: number;
}

export interface RawSection {
  /** the text between [ and ], trimmed. */
  header: string;
  line: number;
  keys: KeyLine[];
}

export function scanIni(text: string, failAt: FailAt): RawSection[] {
  const body = text.startsWith('\uFEFF') ? text.slice(1) : text;
  const sections: RawSection[] = [];
  // ini itself splits at any CR or LF; count lines the same way so line numbers match editors.
  body.split(/\r\n|\r|\n/).forEach((raw, i) => {
    const line = i + 1;
    const t = raw.trim();
    if (t.includes('\0')) failAt(line, 'the line contains NUL bytes: this is not a text file; give the path of the ini file');
    if (t === '' || t.startsWith(';') || t.startsWith('#')) return;
    if (t.startsWith('[')) {
      sections.push({ header: sectionHeader(t, line, failAt), line, keys: [] });
      return;
    }
    const current = sections.at(-1);
    if (current === undefined) {
      failAt(line, `${q(t)} is outside any section; put it below a section header such as [daemon] or [group:NAME]`);
    }
    current.keys.push(keyLine(t, line, current, failAt));
  });
  checkRepeatedSections(sections, failAt);
  return sections;
}

function sectionHeader(t: string, line: number, failAt: FailAt): string {
  const m = /^\[([^\]]*)\](.*)$/.exec(t);
  if (m === null) failAt(line, `section header ${q(t)} has no closing "]"; write e.g. [group:web]`);
  if (m[2].trim() !== '') {
    const comment = /^\s*[;#]/.test(m[2]);
    failAt(line, comment ? 'a comment after a section header; put the comment on a line of its own' : `text after the section header [${m[1]}]: ${q(m[2].trim())}; remove it`);
  }
  // "[group : web]" is the same section as "[group:web]" (and a repeat of it).
  return m[1].trim().replace(/\s*:\s*/, ':');
}

function keyLine(t: string, line: number, section: RawSection, failAt: FailAt): KeyLine {
  const eq = t.indexOf('=');
  if (eq < 0) failAt(line, `[${section.header}] ${q(t)} has no "="; write key = value`);
  const key = t.slice(0, eq).trim();
  if (key === '') failAt(line, `[${section.header}] ${q(t)} has no key before "="; write key = value`);
  const first = section.keys.find((k) => k.key === key);
  if (first !== undefined) {
    failAt(line, `[${section.header}] ${key} is set twice (first on line ${first.line}); ini would silently keep only the last one, so keep one of them`);
  }
  return { key, raw: t.slice(eq + 1).trim(), text: t, line };
}

function checkRepeatedSections(sections: RawSection[], failAt: FailAt): void {
  const seen = new Map<string, number>();
  for (const s of sections) {
    const first = seen.get(s.header);
    if (first !== undefined) {
      failAt(s.line, `[${s.header}] appears twice (first on line ${first}); ini would merge the two silently, so keep one section`);
    }
    seen.set(s.header, s.line);
  }
}

// ---------------------------------------------------------------- values

/** Where a `;` or `#` cuts an unquoted value, as ini reads it (a backslash escapes them). */
interface Cut {
  char: string;
  index: number;
}

/**
 * The value of a key line as ini decodes it, refusing the cases where ini's reading would
 * surprise: an unquoted `;`/`#` that is not a comment (and any at all in a command), text after a
 * closing quote, and a double-quoted value that is not valid JSON (ini then keeps the quotes).
 * `bad` gets the problem without the place.
 */
export function decodeValue(k: KeyLine, isCommand: boolean, bad: (problem: string) => never): string {
  const raw = k.raw;
  const value = iniValue(k);
  if (isQuoted(raw)) {
    checkQuoted(raw, value, k.key, bad);
  } else {
    const cut = findCut(raw);
    const before = cut === null ? raw : raw.slice(0, cut.index).trim();
    if (cut !== null && before !== '') checkCut(raw, before, cut, k.key, isCommand, bad);
  }
  if (value === '') bad('no value; give a value, or remove the line');
  return value;
}

/** ini's own reading of the line (one key; true/false/null come back as those words). */
function iniValue(k: KeyLine): string {
  const decoded: unknown = ini.parse(k.text)[k.key];
  return typeof decoded === 'string' ? decoded : String(decoded);
}

function isQuoted(raw: string): boolean {
  return raw.length > 1 && (raw[0] === '"' || raw[0] === "'") && raw.endsWith(raw[0]);
}

function checkQuoted(raw: string, value: string, key: string, bad: (problem: string) => never): void {
  if (raw[0] === '"' && value === raw) {
    // ini reads "…" as a JSON string; when that fails it keeps the text, quotes included.
    bad(
      `${raw} is not a valid double-quoted value (ini reads it as JSON: a backslash must start \\" \\\\ \\n \\t or \\uXXXX, and a " inside must be \\"); ` +
        `write \\\\ for a backslash, or quote the value with ' instead`,
    );
  }
  if (raw[0] === "'" && value !== raw.slice(1, -1)) {
    // ini strips '…' and then also decodes the inside when it happens to be JSON.
    bad(`ini decodes the inside of ${raw} once more (as JSON) and reads ${q(value)}; quote the value with " instead: ${key} = ${JSON.stringify(raw.slice(1, -1))}`);
  }
}

function findCut(raw: string): Cut | null {
  for (let i = 0; i < raw.length; i++) {
    if (raw[i] === '\\') i++;
    else if (raw[i] === ';' || raw[i] === '#') return { char: raw[i], index: i };
  }
  return null;
}

function checkCut(raw: string, before: string, cut: Cut, key: string, isCommand: boolean, bad: (problem: string) => never): void {
  const why = `the value is cut at ${q(cut.char)} because ini treats ";" and "#" as the start of a comment`;
  const quoted = raw.includes('"') ? `'${raw}'` : `"${raw}"`;
  if (isQuoted(before)) bad(`a comment after a quoted value makes ini keep the quotes in the value; put the comment on a line of its own`);
  if (isCommand) bad(`${why}; quote the whole command: ${key} = ${quoted}`);
  // "interval = 10   ; seconds" is a comment; "url = http://h/#top" is a value cut in two.
  if (!/\s/.test(raw[cut.index - 1])) bad(`${why}; quote the whole value: ${key} = ${quoted}`);
}
