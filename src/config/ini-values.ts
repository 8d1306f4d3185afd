// Typed values of the FailSafe ini file: one converter per schema type, and the syntax checks
// of the string formats (URL, host, host:port, cron, schedule action, ...). Each converter gets
// a `bad` that already names the place (`[section] key = "value": `), so its messages only say
// what is wrong and what to write.
import * as path from 'node:path';
import type { ScheduleAction } from '../core/failsafe-model';
import { splitCommand } from './command';
import { cronProblem } from './ini-cron';
import { cidrProblem } from './net-access';
import { hostPortProblem, hostProblem } from './host-port';
import { exampleOf, MAX_SECONDS, NAME_PATTERN, type KeySpec, type StringFormat, type Value } from './ini-schema';
import { didYouMean, q, suggest } from './words';

export type Bad = (problem: string) => never;

/** Converts the text of `key` (as ini decoded it) to the value its spec describes. */
export function convert(key: string, text: string, spec: KeySpec, bad: Bad): Value {
  const eg = `write e.g. ${key} = ${exampleOf(spec)}`;
  switch (spec.type) {
    case 'string':
      return formatted(text, spec.format, bad);
    case 'int':
      return int(text, spec, eg, bad);
    case 'number':
      return decimal(text, spec, 'a number', eg, bad);
    case 'duration':
      return duration(text, spec, eg, bad);
    case 'bool':
      return bool(text, key, bad);
    case 'enum':
      return oneOf(text, spec.values ?? [], bad);
    case 'path':
      return absolutePath(text, eg, bad);
    case 'command':
      return command(text, bad);
    case 'list':
      return list(text, spec, bad);
  }
}

function int(text: string, spec: KeySpec, eg: string, bad: Bad): number {
  if (!/^[+-]?\d+$/.test(text)) bad(`not a whole number; ${eg}`);
  const n = Number(text);
  const { min = -Infinity, max = Infinity } = spec;
  if (n < 0 && min === 0) bad(`negative; write 0 or more, e.g. ${exampleOf(spec)}`);
  if (n < min || n > max) bad(max === Infinity ? `must be ${min} or more; ${eg}` : `out of range; write a whole number from ${min} to ${max}`);
  if (!Number.isSafeInteger(n)) bad(`too large; ${eg}`);
  return n;
}

function decimal(text: string, spec: KeySpec, what: string, eg: string, bad: Bad): number {
  if (/^-/.test(text) && isDecimal(text.slice(1))) bad(`negative; ${eg}`);
  if (!isDecimal(text)) bad(`not ${what}; ${eg}`);
  return positive(Number(text), spec, eg, bad);
}

function positive(n: number, spec: KeySpec, eg: string, bad: Bad): number {
  if (n === 0 && spec.zero !== true) bad(`must be more than 0; ${eg}`);
  return n;
}

const UNIT_SECONDS: Readonly<Record<string, number>> = { '': 1, s: 1, m: 60, h: 3600, d: 86400 };

/** Seconds, optionally with a unit: 30, 1.5, 45s, 5m, 2h, 1d. */
function duration(text: string, spec: KeySpec, eg: string, bad: Bad): number {
  const m = /^(-?)(\d+(?:\.\d+)?|\.\d+)\s*([smhd]?)$/.exec(text);
  if (m === null) bad(`not a duration; write seconds (e.g. 60) or a number with s, m, h or d (e.g. 5m)`);
  if (m[1] === '-') bad(`negative; ${eg}`);
  const seconds = Number(m[2]) * UNIT_SECONDS[m[3]];
  if (seconds > MAX_SECONDS) bad(`too long; at most ${MAX_SECONDS} seconds (about 24 days)`);
  return positive(seconds, spec, eg, bad);
}

function isDecimal(s: string): boolean {
  return /^(\d+(\.\d+)?|\.\d+)$/.test(s);
}

const TRUE_WORDS = ['on', 'true', 'yes'];
const FALSE_WORDS = ['off', 'false', 'no'];

function bool(text: string, key: string, bad: Bad): boolean {
  const word = text.toLowerCase();
  if (TRUE_WORDS.includes(word)) return true;
  if (FALSE_WORDS.includes(word)) return false;
  return bad(`neither on nor off; write ${key} = on or ${key} = off`);
}

export function oneOf(text: string, allowed: readonly string[], bad: Bad): string {
  if (allowed.includes(text)) return text;
  return bad(`not a known value${didYouMean(text, allowed, 'write one of')}`);
}

function absolutePath(text: string, eg: string, bad: Bad): string {
  if (!path.isAbsolute(text)) bad(`not an absolute path; ${eg} (a full path, starting with /)`);
  return text;
}

function command(text: string, bad: Bad): string[] {
  try {
    return splitCommand(text);
  } catch (e) {
    return bad(e instanceof Error ? e.message : String(e));
  }
}

function list(text: string, spec: KeySpec, bad: Bad): string[] {
  const sep = spec.separator ?? ',';
  // "a&b" items are kept as written (blanks may matter in a command line); "a, b" ones are trimmed.
  const items = text.split(sep).map((s) => (sep === ',' ? s.trim() : s));
  if (items.some((s) => s.trim() === '')) {
    bad(`an empty item (two "${sep}" in a row, or "${sep}" at either end); remove the extra "${sep}"`);
  }
  for (const item of items) {
    if (spec.values !== undefined && !spec.values.includes(item)) {
      bad(`${q(item)} is not a known item${didYouMean(item, spec.values, 'the items are')}`);
    }
    formatted(item, spec.format, (p) => bad(`${q(item)}: ${p}`));
  }
  return items;
}

// ---------------------------------------------------------------- string formats

function formatted(text: string, format: StringFormat | undefined, bad: Bad): string {
  const problem = format === undefined ? null : FORMAT_CHECKS[format](text);
  if (problem !== null) bad(problem);
  return text;
}

const FORMAT_CHECKS: Readonly<Record<StringFormat, (text: string) => string | null>> = {
  name: (t) => (NAME_PATTERN.test(t) ? null : 'a name may contain only letters, digits, "_", "." and "-"'),
  http_url: httpUrlProblem,
  host: hostProblem,
  host_port: hostPortProblem,
  cron: (t) => cronProblem(t),
  schedule_action: (t) => problemOf((bad) => parseScheduleAction(t, bad)),
  email: (t) => (/^[^\s@,;<>]+@[^\s@,;<>]+$/.test(t) ? null : 'not a mail address; write e.g. ops@example.com'),
  interface: (t) => (/^[A-Za-z0-9_.:@-]{1,15}$/.test(t) ? null : 'not a network interface name (up to 15 letters, digits, "_", ".", ":", "@" or "-"); see: ip -br link'),
  cidr: cidrProblem,
};

function httpUrlProblem(text: string): string | null {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    return 'not a URL; write e.g. http://127.0.0.1:8080/health';
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    return `the scheme ${q(url.protocol.slice(0, -1))} is not supported; write an http:// or https:// URL`;
  }
  if (url.hostname === '') return 'the URL has no host; write e.g. http://127.0.0.1:8080/health';
  return null;
}

/** Runs a check written with `bad` and returns its problem, or null when it passed. */
function problemOf(check: (bad: Bad) => unknown): string | null {
  try {
    check((p) => {
      throw new Problem(p);
    });
    return null;
  } catch (e) {
    if (e instanceof Problem) return e.message;
    throw e;
  }
}

class Problem extends Error {}

// ---------------------------------------------------------------- schedule actions

export const SCHEDULE_VERBS = ['restart_group', 'suspend_monitor'] as const;
const ACTION_FORMS = 'restart_group GROUP or suspend_monitor MONITOR SECONDS';

/**
 * `restart_group GROUP` | `suspend_monitor MONITOR DURATION`, names not yet resolved. Calls
 * `bad` (which must throw) on a syntax error.
 */
export function parseScheduleAction(text: string, bad: Bad): ScheduleAction {
  const [verb, ...args] = text.split(/\s+/);
  if (verb === 'restart_group') {
    if (args.length !== 1) bad(`restart_group takes one group name; write e.g. action = restart_group web`);
    checkName(args[0], 'group', bad);
    return { kind: 'restart_group', group: args[0] };
  }
  if (verb === 'suspend_monitor') {
    if (args.length !== 2) bad(`suspend_monitor takes a monitor name and a duration; write e.g. action = suspend_monitor web_http 600`);
    checkName(args[0], 'monitor', bad);
    const durationSec = duration(args[1], { type: 'duration' }, 'write e.g. action = suspend_monitor web_http 600', bad);
    return { kind: 'suspend_monitor', monitor: args[0], durationSec };
  }
  const hint = suggest(verb, SCHEDULE_VERBS);
  return bad(`unknown action ${q(verb)}; ${hint !== null ? `did you mean ${hint}?` : `write ${ACTION_FORMS}`}`);
}

function checkName(name: string, what: string, bad: Bad): void {
  if (!NAME_PATTERN.test(name)) bad(`${q(name)} is not a ${what} name (letters, digits, "_", "." and "-")`);
}
