// A section of the FailSafe ini file once its keys are validated (ini.ts reads it), and typed
// access to its values for the model (ini.ts) and the cross-reference checks (ini-refs.ts).
import type { KeyLine } from './ini-lines';
import type { SectionKind, Value } from './ini-schema';

/** A section whose keys are validated: `values` holds every key of its schema, defaults filled in. */
export interface Section {
  kind: SectionKind;
  name: string;
  /** "[group:web]", for messages. */
  label: string;
  line: number;
  keys: KeyLine[];
  values: Map<string, Value>;
  /** each given key's text as ini decoded it, for messages. */
  texts: Map<string, string>;
}

export function str(s: Section, key: string): string | null {
  const v = s.values.get(key);
  if (v !== null && typeof v !== 'string') throw new TypeError(`${s.label} ${key}: expected a string`);
  return v ?? null;
}

export function mustStr(s: Section, key: string): string {
  const v = str(s, key);
  if (v === null) throw new TypeError(`${s.label} ${key}: required by the schema`);
  return v;
}

export function num(s: Section, key: string): number | null {
  const v = s.values.get(key);
  if (v !== null && typeof v !== 'number') throw new TypeError(`${s.label} ${key}: expected a number`);
  return v ?? null;
}

export function mustNum(s: Section, key: string): number {
  const v = num(s, key);
  if (v === null) throw new TypeError(`${s.label} ${key}: has a default or is required by the schema`);
  return v;
}

export function words(s: Section, key: string): string[] | null {
  const v = s.values.get(key);
  if (v !== null && !Array.isArray(v)) throw new TypeError(`${s.label} ${key}: expected a list`);
  return v === null || v === undefined ? null : [...(v as readonly string[])];
}

export function mustWords(s: Section, key: string): string[] {
  const v = words(s, key);
  if (v === null) throw new TypeError(`${s.label} ${key}: has a default or is required by the schema`);
  return v;
}

export function lineOf(s: Section, key: string): number {
  return s.keys.find((k) => k.key === key)?.line ?? s.line;
}
