// The ProcessSaver pfile (SPEC §2) → the Pfile model. Every problem is a ConfigError that
// names the file and the 1-based physical line, quotes the bad value and says what to write.
import * as path from 'node:path';
import { ConfigError } from '../errors';
import { pentSignature, type Pent, type Pfile, type PfileParam } from '../core/model';
import { RETRY_OVER_ACTIONS, type RetryOverAction } from '../core/states';
import { checkOverlaps } from './pent-overlap';
import { restartScriptChecker } from './script-check';
import { checkMetricsParams, METRICS_EXAMPLES, METRICS_PARAM_KEYS, metricsParamValue } from './pfile-metrics';
import { PARAM_DEFAULTS, rawParamValue } from './pfile-param';
import { q, readConfigFile, suggest } from './words';
import { parseOptions } from './pfile-options';
import { seconds, unknownWord, type Fail } from './pfile-values';

// in pfile-param.ts, which padmin loads without this parser
export { PARAM_DEFAULTS, rawParamValue };

export interface ParseOptions {
  /** check that restart scripts exist and are executable (default true). */
  checkFiles?: boolean;
}

export const PARAM_KEYS = [
  'IPCKEY',
  'MONITOR_INTERVAL',
  'MSG_CHECK_INTERVAL',
  'SHM_DUMP_FILE',
  'LOG_FILE',
  'SYSLOG',
  'SYSLOG_FACILITY',
  'SYSLOG_SOCKET',
  'SCRIPT_TIMEOUT',
  'RESTART_WAIT',
  'INITIAL_WAIT',
  ...METRICS_PARAM_KEYS,
] as const;
type ParamKey = (typeof PARAM_KEYS)[number];

// no 'kern': user space cannot log as the kernel (glibc and logger(1) turn facility 0 into 'user')
export const SYSLOG_FACILITIES = [
  'user', 'mail', 'daemon', 'auth', 'syslog', 'lpr', 'news', 'uucp', 'cron', 'authpriv', 'ftp',
  'local0', 'local1', 'local2', 'local3', 'local4', 'local5', 'local6', 'local7',
] as const; // prettier-ignore

const PENT_FORMAT = 'pname:restart_script:grace:retry_count:retry_over_action[:options]';
const HEADER = /^#+\s*(PARAM|PENT)\s*#+$/;
const HEADER_ANY_CASE = /^#+\s*(PARAM|PENT)\s*#+$/i;

/** Throws the ConfigError for one line (or the whole file when line is null). */
type FailAt = (line: number | null, problem: string) => never;
/** Checks a restart script at load (null: padmin, which needs no working scripts). */
type ScriptCheck = (file: string, bad: Fail) => void;

interface Line {
  no: number;
  text: string;
}

interface Sections {
  paramHeader: number;
  pentHeader: number | null;
  param: Line[];
  pent: Line[];
  lastLine: number;
}

/** Reads and parses the pfile at `file`; Pfile.path and error locations use its absolute path. */
export function loadPfile(file: string, opts: ParseOptions = {}): Pfile {
  const { abs, text } = readConfigFile(file, '-f', 'pfile', ['#']);
  return parsePfile(text, abs, opts);
}

export function parsePfile(text: string, file: string, opts: ParseOptions = {}): Pfile {
  const failAt: FailAt = (line, problem) => {
    throw new ConfigError(file, line, problem);
  };
  const s = splitSections(toLines(text), failAt);
  const param = parseParamSection(s.param, s.paramHeader, failAt);
  if (s.pentHeader === null) {
    failAt(s.lastLine, 'the file ends without a ##### PENT ##### header; add it after the PARAM keys, followed by one entry per line');
  }
  const pents = parsePentSection(s.pent, s.pentHeader, (opts.checkFiles ?? true) ? restartScriptChecker() : null, failAt);
  checkOverlaps(pents, failAt);
  return { path: path.resolve(file), param, pents };
}

// ---------------------------------------------------------------- lines and sections

function toLines(text: string): Line[] {
  const body = text.startsWith('\uFEFF') ? text.slice(1) : text;
  return body.split(/\r?\n/).map((raw, i) => ({ no: i + 1, text: raw.trim() }));
}

const isBlank = (l: Line): boolean => l.text === '';
const isComment = (l: Line): boolean => l.text.startsWith('#') && !HEADER.test(l.text);
const headerOf = (l: Line): string | null => HEADER.exec(l.text)?.[1] ?? null;

/** Checks the layout (PARAM header, then PENT header) and sorts the key and entry lines into their sections. */
function splitSections(lines: Line[], failAt: FailAt): Sections {
  const meaningful = lines.filter((l) => !isBlank(l) && !isComment(l));
  lines.forEach((l) => checkLineText(l, failAt));
  checkNotEmpty(lines, meaningful, failAt);
  const paramHeader = findHeader(meaningful, 'PARAM', failAt);
  const pentHeader = findHeader(meaningful, 'PENT', failAt);
  if (paramHeader === null) {
    failAt(meaningful[0].no, `missing ##### PARAM ##### header before ${describeLine(meaningful[0])}; start the pfile with ##### PARAM #####, then IPCKEY and the other keys`);
  }
  if (pentHeader !== null && pentHeader < paramHeader) {
    failAt(pentHeader, `##### PENT ##### comes before ##### PARAM ##### (line ${paramHeader}); put the PARAM section first`);
  }
  const outside = meaningful.find((l) => l.no < paramHeader);
  if (outside) failAt(outside.no, `${q(outside.text)} is outside any section; move it below ##### PARAM ##### (line ${paramHeader})`);
  const content = meaningful.filter((l) => headerOf(l) === null);
  const inPent = (l: Line): boolean => pentHeader !== null && l.no > pentHeader;
  return {
    paramHeader,
    pentHeader,
    param: content.filter((l) => !inPent(l)),
    pent: content.filter(inPent),
    lastLine: meaningful[meaningful.length - 1].no,
  };
}

function checkNotEmpty(lines: Line[], meaningful: Line[], failAt: FailAt): void {
  if (meaningful.length > 0) return;
  const what = lines.some((l) => !isBlank(l)) ? 'pfile has only comments' : 'empty pfile';
  failAt(null, `${what}: expected ##### PARAM ##### with IPCKEY, then ##### PENT ##### with at least one entry ${PENT_FORMAT}`);
}

function checkLineText(l: Line, failAt: FailAt): void {
  if (l.text.includes('\0')) failAt(l.no, 'the line contains NUL bytes: this is not a text file; give the path of the pfile');
  const m = HEADER_ANY_CASE.exec(l.text);
  if (m && !HEADER.test(l.text)) {
    failAt(l.no, `section header ${q(l.text)} must be in capitals; write ##### ${m[1].toUpperCase()} #####`);
  }
}

/** Line of the one `##### NAME #####` header, or null; a second one is an error. */
function findHeader(lines: Line[], name: string, failAt: FailAt): number | null {
  const found = lines.filter((l) => headerOf(l) === name);
  if (found.length > 1) {
    failAt(found[1].no, `second ##### ${name} ##### header (the first is on line ${found[0].no}); keep only one`);
  }
  return found.length > 0 ? found[0].no : null;
}

function describeLine(l: Line): string {
  const h = headerOf(l);
  return h ? `##### ${h} #####` : q(l.text);
}

// ---------------------------------------------------------------- PARAM

function parseParamSection(lines: Line[], header: number, failAt: FailAt): PfileParam {
  const seen = new Map<ParamKey, number>();
  const values: Partial<PfileParam> = {};
  for (const l of lines) {
    const bad: Fail = (p) => failAt(l.no, p);
    const { key, value } = splitParamLine(l.text, bad);
    const first = seen.get(key);
    if (first !== undefined) bad(`${key} is set twice (first on line ${first}); keep one of them`);
    seen.set(key, l.no);
    Object.assign(values, parseParamValue(key, value, bad));
  }
  if (values.ipckey === undefined || values.ipckeyText === undefined) {
    return failAt(header, 'the PARAM section has no IPCKEY; add a line such as IPCKEY 0x1a2b3c4d (unique per pcheck)');
  }
  const monitorInterval = values.monitorInterval ?? PARAM_DEFAULTS.monitorInterval;
  const param = {
    ...PARAM_DEFAULTS,
    ...values,
    ipckey: values.ipckey,
    ipckeyText: values.ipckeyText,
    monitorInterval,
    initialWait: values.initialWait ?? monitorInterval,
  };
  checkMetricsParams(param, (key) => seen.get(key), failAt);
  return param;
}

function splitParamLine(text: string, bad: Fail): { key: ParamKey; value: string } {
  const m = /^(\S+)(?:\s+(.*))?$/.exec(text);
  const word = m?.[1] ?? text;
  const value = m?.[2] ?? '';
  if (text.startsWith('/') && text.includes(':')) {
    bad(`${q(text)} looks like a PENT entry; put it below a ##### PENT ##### header`);
  }
  const eq = text.indexOf('=');
  const keyBeforeEq = text.slice(0, Math.max(eq, 0)).trim();
  if (isParamKey(keyBeforeEq)) {
    const v = text.slice(eq + 1).trim() || exampleValue(keyBeforeEq);
    bad(`${q(text)} uses "="; separate the key and the value with blanks, e.g. ${keyBeforeEq} ${v}`);
  }
  if (!isParamKey(word)) bad(unknownWord('key', word, PARAM_KEYS, 'the PARAM keys are'));
  if (value === '') bad(`${word} has no value; write e.g. ${word} ${exampleValue(word)}`);
  return { key: word, value };
}

function isParamKey(word: string): word is ParamKey {
  return (PARAM_KEYS as readonly string[]).includes(word);
}

function parseParamValue(key: ParamKey, value: string, bad: Fail): Partial<PfileParam> {
  const secs = (allowZero = false): number => seconds(key, value, `${key} ${exampleValue(key)}`, allowZero, bad);
  switch (key) {
    case 'IPCKEY':
      return { ipckey: ipckey(value, bad), ipckeyText: value };
    case 'MONITOR_INTERVAL':
      return { monitorInterval: secs() };
    case 'MSG_CHECK_INTERVAL':
      return { msgCheckInterval: secs() };
    case 'SCRIPT_TIMEOUT':
      return { scriptTimeout: secs() };
    case 'RESTART_WAIT':
      return { restartWait: secs() };
    case 'INITIAL_WAIT':
      return { initialWait: secs(true) };
    case 'SHM_DUMP_FILE':
      return { shmDumpFile: absolutePath(key, value, bad) };
    case 'LOG_FILE':
      return { logFile: absolutePath(key, value, bad) };
    case 'SYSLOG_SOCKET':
      return { syslogSocket: absolutePath(key, value, bad) };
    case 'SYSLOG':
      return { syslog: onOff(key, value, bad) };
    case 'SYSLOG_FACILITY':
      return { syslogFacility: oneOf(key, value, SYSLOG_FACILITIES, bad) };
    case 'METRICS_LISTEN':
    case 'METRICS_TOKEN_FILE':
    case 'METRICS_ALLOW':
      return metricsParamValue(key, value, bad);
  }
}

function exampleValue(key: ParamKey): string {
  const examples: Record<ParamKey, string> = {
    IPCKEY: '0x1a2b3c4d',
    MONITOR_INTERVAL: '10',
    MSG_CHECK_INTERVAL: '5',
    SHM_DUMP_FILE: '/var/opt/procsafe/dump/app.dmp',
    LOG_FILE: '/var/log/procsafe/app.log',
    SYSLOG: 'on',
    SYSLOG_FACILITY: 'daemon',
    SYSLOG_SOCKET: '/dev/log',
    SCRIPT_TIMEOUT: '300',
    RESTART_WAIT: '30',
    INITIAL_WAIT: '10',
    ...METRICS_EXAMPLES,
  };
  return examples[key];
}

/** IPCKEY: hex 0x… or decimal, 1 .. 0xffffffff (0 is IPC_PRIVATE, which names nothing). */
function ipckey(value: string, bad: Fail): number {
  const how = 'write it in hex (0x1a2b3c4d) or in decimal (439041101)';
  let n: number;
  if (/^0[xX][0-9a-fA-F]+$/.test(value)) n = parseInt(value.slice(2), 16);
  else if (/^[1-9][0-9]*$/.test(value)) n = Number(value);
  else if (value === '0') return bad(`IPCKEY must not be 0; ${how}`);
  else if (/^0[0-9]+$/.test(value)) return bad(`IPCKEY ${q(value)} has a leading 0, which C tools read as octal; ${how}`);
  else return bad(`IPCKEY ${q(value)} is not a number; ${how}`);
  if (n === 0) bad(`IPCKEY ${q(value)} must not be 0; ${how}`);
  if (n > 0xffffffff) bad(`IPCKEY ${q(value)} does not fit in 32 bits; use a value up to 0xffffffff`);
  return n;
}

function absolutePath(key: string, value: string, bad: Fail): string {
  if (!path.isAbsolute(value)) bad(`${key} ${q(value)} is not an absolute path; write the full path, starting with /`);
  return value;
}

function onOff(key: string, value: string, bad: Fail): boolean {
  if (value === 'on') return true;
  if (value === 'off') return false;
  return bad(`${key} ${q(value)} is neither on nor off; write ${key} on or ${key} off`);
}

function oneOf<T extends string>(what: string, value: string, allowed: readonly T[], bad: Fail): T {
  if ((allowed as readonly string[]).includes(value)) return value as T;
  const hint = suggest(value, allowed);
  return bad(hint ? `${what} ${q(value)} is unknown; did you mean ${hint}?` : `${what} ${q(value)} is not one of ${allowed.join(', ')}`);
}

// ---------------------------------------------------------------- PENT

function parsePentSection(lines: Line[], header: number, checkScript: ScriptCheck | null, failAt: FailAt): Pent[] {
  if (lines.length === 0) {
    failAt(header, `the PENT section has no entries; add at least one line ${PENT_FORMAT}`);
  }
  const seen = new Map<string, number>();
  return lines.map((l, i) => {
    const bad: Fail = (p) => failAt(l.no, p);
    const pent = parsePent(l, i + 1, checkScript, header, bad);
    const first = seen.get(pentSignature(pent));
    if (first !== undefined) bad(`this entry repeats the one on line ${first} (same pname, restart script and options); remove one of them`);
    seen.set(pentSignature(pent), l.no);
    return pent;
  });
}

function parsePent(l: Line, id: number, checkScript: ScriptCheck | null, header: number, bad: Fail): Pent {
  const fields = l.text.split(':');
  if (fields.length < 5) tooFewFields(l.text, fields.length, header, bad);
  const [pname, script, grace, retries, action] = fields.slice(0, 5).map((f) => f.trim());
  const optionsText = fields.slice(5).join(':').trim();
  const pent: Pent = {
    id,
    line: l.no,
    pname: absoluteField('pname', pname, '/usr/bin/java', bad),
    restartScript: absoluteField('restart_script', script, '/var/opt/procsafe/conf/app_start.sh', bad),
    grace: count('grace', grace, 'seconds', '86400 (or 0: never reset)', bad),
    retryLimit: count('retry_count', retries, 'restarts', '3', bad),
    retryOverAction: oneOf<RetryOverAction>('retry_over_action', action, RETRY_OVER_ACTIONS, bad),
    ...parseOptions(optionsText, bad),
    optionsText,
  };
  // Syntax first, then the host: a typo is reported even on a machine without the script.
  checkScript?.(pent.restartScript, bad);
  return pent;
}

function tooFewFields(text: string, n: number, header: number, bad: Fail): never {
  const word = /^\S+/.exec(text)?.[0] ?? '';
  if (isParamKey(word)) bad(`PARAM key ${word} is below ##### PENT ##### (line ${header}); move it above that header`);
  return bad(`entry ${q(text)} has ${n} field${n === 1 ? '' : 's'} but needs at least 5; write ${PENT_FORMAT}`);
}

function absoluteField(name: string, value: string, example: string, bad: Fail): string {
  if (value === '') bad(`${name} is empty; write an absolute path, e.g. ${example}`);
  if (!path.isAbsolute(value)) {
    const which = name === 'pname' && !value.includes('/') ? ` (see: command -v ${value})` : '';
    bad(`${name} ${q(value)} is not an absolute path; write the full path${which}, e.g. ${example}`);
  }
  return value;
}

/** A whole non-negative number (grace, retry_count). */
function count(name: string, value: string, unit: string, example: string, bad: Fail): number {
  if (/^-\d+$/.test(value)) bad(`${name} ${q(value)} is negative; write 0 or more ${unit}, e.g. ${example}`);
  if (!/^\d+$/.test(value)) bad(`${name} ${q(value)} is not a whole number of ${unit}; write e.g. ${example}`);
  const n = Number(value);
  if (!Number.isSafeInteger(n)) bad(`${name} ${q(value)} is too large; write e.g. ${example}`);
  return n;
}
