// The FailSafe-mode ini file (SPEC §8) → the FailsafeConfig model. Every problem is a
// ConfigError (exit 2) that names the file and line, the section and key, quotes the value and
// says what to write. Layers: ini-lines (located lines, ini's value decoding), ini-schema (the
// keys as data), ini-values (typed values), ini-section (a validated section), and here:
// sections, the model, then the cross-references (ini-refs) and, last, the host (programs
// and pfiles), so that a typo is reported even on a machine that lacks the scripts.
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { ConfigError } from '../errors';
import {
  MONITOR_TYPES,
  type AlertConfig,
  type DaemonConfig,
  type FailsafeConfig,
  type FinalAction,
  type GroupConfig,
  type MonitorConfig,
  type MonitorType,
  type ScheduleConfig,
  type WebConfig,
} from '../core/failsafe-model';
import { loadPfile } from './pfile';
import { programLineEndingProblem } from './script-check';
import { decodeValue, scanIni, type FailAt, type KeyLine, type RawSection } from './ini-lines';
import {
  exampleOf,
  monitorKeys,
  monitorTypesWithKey,
  MONITOR_COMMON_KEYS,
  MONITOR_TYPE_KEYS,
  NAME_PATTERN,
  SECTION_KINDS,
  SECTIONS,
  sectionSyntax,
  type KeyTable,
  type SectionKind,
} from './ini-schema';
import { convert, oneOf, parseScheduleAction } from './ini-values';
import { checkReferences } from './ini-refs';
import { lineOf, mustNum, mustStr, mustWords, num, str, words, type Section } from './ini-section';
import { listenNeedsAllow } from './net-access';
import { didYouMean, errnoCode, q, readConfigFile, suggest } from './words';

export interface IniOptions {
  /** check that programs exist and are executable and that pfiles exist and parse (default true). */
  checkFiles?: boolean;
}

/** Reads and parses the ini file at `file`; FailsafeConfig.path and error locations use its absolute path. */
export function loadFailsafeConfig(file: string, opts: IniOptions = {}): FailsafeConfig {
  const { abs, text } = readConfigFile(file, '--config', 'ini file', [';', '#']);
  return parseFailsafeConfig(text, abs, opts);
}

export function parseFailsafeConfig(text: string, file: string, opts: IniOptions = {}): FailsafeConfig {
  const failAt: FailAt = (line, problem) => {
    throw new ConfigError(file, line, problem);
  };
  const sections = scanIni(text, failAt).map((raw) => readSection(raw, failAt));
  if (!sections.some((s) => s.kind === 'group' || s.kind === 'monitor')) {
    failAt(sections.at(-1)?.line ?? null, 'the file defines no [group:NAME] and no [monitor:NAME], so there is nothing to run or watch; add at least one');
  }
  const config = buildConfig(sections, path.resolve(file), failAt);
  checkReferences(config, sections, failAt);
  if (opts.checkFiles ?? true) checkHost(sections, failAt);
  return config;
}

// ---------------------------------------------------------------- sections

function readSection(raw: RawSection, failAt: FailAt): Section {
  const { kind, name } = sectionName(raw, failAt);
  const label = `[${raw.header}]`;
  const table = kind === 'monitor' ? monitorTable(raw, label, failAt) : SECTIONS[kind].keys;
  const section: Section = { kind, name, label, line: raw.line, keys: raw.keys, values: new Map(), texts: new Map() };
  for (const k of raw.keys) {
    // hasOwn: a key such as "toString" or "__proto__" must not find Object.prototype.
    const spec = Object.hasOwn(table, k.key) ? table[k.key] : undefined;
    if (spec === undefined) failAt(k.line, unknownKey(label, k.key, Object.keys(table), kind));
    const text = decodeValue(k, spec.type === 'command', (p) => failAt(k.line, `${label} ${k.key}: ${p}`));
    section.texts.set(k.key, text);
    section.values.set(k.key, convert(k.key, text, spec, (p) => failAt(k.line, `${label} ${k.key} = ${q(text)}: ${p}`)));
  }
  for (const [key, spec] of Object.entries(table)) {
    if (section.values.has(key)) continue;
    if (spec.required === true) failAt(raw.line, `${label} has no ${key}; add e.g. ${key} = ${exampleOf(spec)}${requiredBecause(kind, key, section)}`);
    section.values.set(key, spec.default ?? null);
  }
  return section;
}

function requiredBecause(kind: SectionKind, key: string, s: Section): string {
  const type = s.values.get('type');
  return kind === 'monitor' && key !== 'type' && typeof type === 'string' ? ` (${type} monitors need it)` : '';
}

function sectionName(raw: RawSection, failAt: FailAt): { kind: SectionKind; name: string } {
  const bad = (problem: string): never => failAt(raw.line, `section [${raw.header}]: ${problem}`);
  const colon = raw.header.indexOf(':');
  const word = colon < 0 ? raw.header : raw.header.slice(0, colon).trim();
  const name = colon < 0 ? '' : raw.header.slice(colon + 1).trim();
  if (!isKind(word)) return bad(unknownSection(word, name, raw.header));
  const syntax = sectionSyntax(word);
  if (!SECTIONS[word].named && colon >= 0) bad(`${word} takes no name; write ${syntax}`);
  if (SECTIONS[word].named && name === '') bad(`a ${word} needs a name; write ${syntax}, e.g. [${word}:web]`);
  if (SECTIONS[word].named && !NAME_PATTERN.test(name)) {
    bad(`the name ${q(name)} may contain only letters, digits, "_", "." and "-"; write e.g. [${word}:${name.replace(/[^A-Za-z0-9_.-]+/g, '_')}]`);
  }
  return { kind: word, name };
}

function isKind(word: string): word is SectionKind {
  return (SECTION_KINDS as readonly string[]).includes(word);
}

function unknownSection(word: string, name: string, header: string): string {
  // "[monitor web]", "[group.web]": a named kind with the wrong separator.
  const m = /^([a-z]+)[\s.]+(\S+)$/i.exec(header);
  if (m !== null && isKind(m[1]) && SECTIONS[m[1]].named) return `write [${m[1]}:${m[2]}] (a colon between the kind and the name)`;
  const hint = suggest(word, SECTION_KINDS);
  const all = SECTION_KINDS.map(sectionSyntax).join(', ');
  if (hint === null) return `unknown section; the sections are ${all}`;
  const named = SECTIONS[hint as SectionKind].named;
  return `unknown section; did you mean [${hint}${named ? `:${name === '' ? 'NAME' : name}` : ''}]?`;
}

function unknownKey(label: string, key: string, known: readonly string[], kind: SectionKind): string {
  const homes = suggest(key, known) === null ? homesOf(key, kind) : [];
  if (homes.length > 0) return `${label} has no key ${q(key)}; it belongs in ${homes.join(' or ')}`;
  return `${label} has no key ${q(key)}${didYouMean(key, known, 'its keys are')}`;
}

/** The other sections that have `key` ("[web]", "[monitor:NAME] of type process"), for a key put in the wrong one. */
function homesOf(key: string, kind: SectionKind): string[] {
  const homes = SECTION_KINDS.filter((k) => k !== kind && Object.hasOwn(SECTIONS[k].keys, key)).map(sectionSyntax);
  const types = monitorTypesWithKey(key);
  if (kind !== 'monitor' && types.length > 0) homes.push(`[monitor:NAME] with type = ${types.join(' or ')}`);
  return homes;
}

/**
 * The keys of a monitor depend on its type, so the type is read first. Keys that no monitor
 * has are reported before a missing type (a misspelt "tpye" is the likelier mistake); keys of
 * another type name that type.
 */
function monitorTable(raw: RawSection, label: string, failAt: FailAt): KeyTable {
  const typeLine = raw.keys.find((k) => k.key === 'type');
  const type = typeLine === undefined ? null : monitorType(typeLine, label, failAt);
  const allowed = type === null ? allMonitorKeys() : Object.keys(monitorKeys(type));
  for (const k of raw.keys) {
    const owners = monitorTypesWithKey(k.key);
    if (!Object.hasOwn(MONITOR_COMMON_KEYS, k.key) && owners.length === 0) failAt(k.line, unknownKey(label, k.key, allowed, 'monitor'));
  }
  if (type === null) {
    failAt(raw.line, `${label} has no type; add type = ${MONITOR_TYPES.join(' | ')}`);
  }
  for (const k of raw.keys) {
    const owners = monitorTypesWithKey(k.key);
    if (owners.length > 0 && !owners.includes(type)) {
      failAt(k.line, `${label} ${k.key}: ${k.key} is a key of ${owners.join(' and ')} monitors, but this monitor has type = ${type}; remove the line or change the type`);
    }
  }
  return monitorKeys(type);
}

function monitorType(k: KeyLine, label: string, failAt: FailAt): MonitorType {
  const text = decodeValue(k, false, (p) => failAt(k.line, `${label} type: ${p}`));
  return oneOf(text, MONITOR_TYPES, (p) => failAt(k.line, `${label} type = ${q(text)}: ${p}`)) as MonitorType;
}

function allMonitorKeys(): string[] {
  return [...new Set([...Object.keys(MONITOR_COMMON_KEYS), ...MONITOR_TYPES.flatMap((t) => Object.keys(MONITOR_TYPE_KEYS[t].keys))])];
}

// ---------------------------------------------------------------- the model

function buildConfig(sections: Section[], abs: string, failAt: FailAt): FailsafeConfig {
  const of = (kind: SectionKind): Section[] => sections.filter((s) => s.kind === kind);
  const single = (kind: SectionKind): Section | null => of(kind)[0] ?? null;
  const daemon = single('daemon');
  const alert = single('alert');
  const web = single('web');
  return {
    path: abs,
    daemon: daemon === null ? defaultDaemon() : daemonConfig(daemon),
    groups: of('group').map(groupConfig),
    monitors: of('monitor').map((s) => monitorConfig(s, failAt)),
    alert: alert === null ? null : alertConfig(alert, failAt),
    web: web === null ? fleetWithoutWeb(of('fleet'), failAt) : webConfig(web, of('fleet'), failAt),
    schedules: of('schedule').map(scheduleConfig),
  };
}

function defaultDaemon(): DaemonConfig {
  return { name: os.hostname(), runDir: null, stateFile: null, logFile: null, syslog: true, maxFinalActions: 1, finalActionWindow: 3600 };
}

function daemonConfig(s: Section): DaemonConfig {
  return {
    name: str(s, 'name') ?? os.hostname(),
    runDir: str(s, 'run_dir'),
    stateFile: str(s, 'state_file'),
    logFile: str(s, 'log_file'),
    syslog: s.values.get('syslog') === true,
    maxFinalActions: mustNum(s, 'max_final_actions'),
    finalActionWindow: mustNum(s, 'final_action_window'),
  };
}

function groupConfig(s: Section): GroupConfig {
  return {
    name: s.name,
    start: words(s, 'start'),
    stop: words(s, 'stop'),
    startTimeout: mustNum(s, 'start_timeout'),
    stopTimeout: mustNum(s, 'stop_timeout'),
    pfile: str(s, 'pfile'),
    activationRetries: mustNum(s, 'activation_retries'),
    finalAction: mustStr(s, 'final_action') as FinalAction,
  };
}

function monitorConfig(s: Section, failAt: FailAt): MonitorConfig {
  const common = {
    name: s.name,
    target: str(s, 'target'),
    timing: mustStr(s, 'timing') as 'always' | 'active',
    interval: mustNum(s, 'interval'),
    timeout: mustNum(s, 'timeout'),
    retries: mustNum(s, 'retries'),
    startWait: mustNum(s, 'start_wait'),
    restartThreshold: mustNum(s, 'restart_threshold'),
    grace: mustNum(s, 'grace'),
    finalAction: mustStr(s, 'final_action') as FinalAction,
  };
  if (common.timing === 'active' && common.target === null) {
    failAt(
      lineOf(s, 'timing'),
      `${s.label} timing = "active": an active monitor runs only while its target group is online, but this monitor has no target; add target = GROUP, or write timing = always`,
    );
  }
  if (common.finalAction === 'stop_group' && common.target === null) {
    failAt(lineOf(s, 'final_action'), `${s.label} final_action = "stop_group": this monitor has no target, so there is no group to stop; add target = GROUP, or choose another final action`);
  }
  return { ...common, ...monitorSpecific(s, failAt) };
}

type CommonKey = 'name' | 'target' | 'timing' | 'interval' | 'timeout' | 'retries' | 'startWait' | 'restartThreshold' | 'grace' | 'finalAction';
/** One member of the MonitorConfig union without the common keys. */
type MonitorSpecific = MonitorConfig extends infer M ? (M extends unknown ? Omit<M, CommonKey> : never) : never;

/** The type-specific part of a monitor (the `type` member and its keys). */
function monitorSpecific(s: Section, failAt: FailAt): MonitorSpecific {
  const type = mustStr(s, 'type') as MonitorType;
  switch (type) {
    case 'process':
      return { type, pfile: mustStr(s, 'pfile') };
    case 'pid':
      return { type, pidFile: mustStr(s, 'pid_file') };
    case 'http':
      return { type, url: mustStr(s, 'url'), expectStatus: mustNum(s, 'expect_status'), expectBody: str(s, 'expect_body') };
    case 'tcp':
      return { type, host: mustStr(s, 'host'), port: mustNum(s, 'port') };
    case 'ping':
      return { type, host: mustStr(s, 'host') };
    case 'disk':
      return diskMonitor(s, failAt);
    case 'nic':
      return { type, interface: mustStr(s, 'interface') };
    case 'custom':
      return { type, command: mustWords(s, 'command'), mode: mustStr(s, 'mode') as 'sync' | 'async' };
    case 'resource':
      return resourceMonitor(s, failAt);
    case 'stall':
      return { type, maxDelayMs: mustNum(s, 'max_delay_ms') };
  }
}

function diskMonitor(s: Section, failAt: FailAt): MonitorSpecific {
  const at = { path: str(s, 'path'), writeDir: str(s, 'write_dir') };
  if (at.path === null && at.writeDir === null) {
    failAt(s.line, `${s.label} is a disk monitor with neither path nor write_dir; add path = DEVICE_OR_FILE (read test) and/or write_dir = DIRECTORY (write test)`);
  }
  return { type: 'disk', ...at };
}

function resourceMonitor(s: Section, failAt: FailAt): MonitorSpecific {
  const limits = { cpuPercent: num(s, 'cpu_percent'), rssMb: num(s, 'rss_mb') };
  if (limits.cpuPercent === null && limits.rssMb === null) {
    failAt(s.line, `${s.label} is a resource monitor with neither cpu_percent nor rss_mb, so it has nothing to compare; add cpu_percent = 90 and/or rss_mb = 2048`);
  }
  return { type: 'resource', pname: mustStr(s, 'pname'), includeStrings: mustWords(s, 'include_strings'), ...limits, samples: mustNum(s, 'samples') };
}

function alertConfig(s: Section, failAt: FailAt): AlertConfig {
  const alert: AlertConfig = {
    events: mustWords(s, 'events'),
    mailTo: mustWords(s, 'mail_to'),
    mailFrom: str(s, 'mail_from'),
    smtpHost: str(s, 'smtp_host'),
    smtpPort: mustNum(s, 'smtp_port'),
    webhookUrl: str(s, 'webhook_url'),
  };
  for (const [key, field] of [['mail_events', 'mailEvents'], ['webhook_events', 'webhookEvents'], ['syslog_events', 'syslogEvents']] as const) {
    const v = words(s, key);
    if (v !== null) alert[field] = v;
  }
  if (alert.mailTo.length > 0 && alert.smtpHost === null) {
    failAt(lineOf(s, 'mail_to'), `${s.label} mail_to is set but smtp_host is not; add smtp_host = localhost (or your mail relay)`);
  }
  if (alert.mailTo.length === 0 && alert.webhookUrl === null) {
    failAt(s.line, `${s.label} sends alerts nowhere; add mail_to (with smtp_host) and/or webhook_url, or remove the section`);
  }
  return alert;
}

function webConfig(s: Section, fleet: Section[], failAt: FailAt): WebConfig {
  const listen = mustStr(s, 'listen');
  const allow = words(s, 'allow');
  const problem = listenNeedsAllow(listen, allow, 'allow = 127.0.0.1, 192.0.2.10, 198.51.100.0/24');
  if (problem !== null) failAt(lineOf(s, 'listen'), `${s.label} listen = ${q(listen)}: ${problem}`);
  const servers = fleet.map((f) => ({ name: f.name, url: mustStr(f, 'url'), tokenFile: mustStr(f, 'token_file') }));
  for (const f of fleet) {
    if (/^[a-z]+:\/\/[^/]*@/i.test(mustStr(f, 'url'))) failAt(lineOf(f, 'url'), `${f.label} url: no user or password in the URL; the server's token goes in token_file`);
  }
  return { listen, tokenFile: str(s, 'token_file'), allow, fleet: servers, fleetIntervalSec: mustNum(s, 'fleet_interval') };
}

/** The Servers view is a part of the web page. */
function fleetWithoutWeb(fleet: Section[], failAt: FailAt): null {
  if (fleet.length > 0) failAt(fleet[0].line, `${fleet[0].label}: the other servers are shown on the web page, and this file has no [web]; add [web] (listen = 127.0.0.1:29003)`);
  return null;
}

function scheduleConfig(s: Section): ScheduleConfig {
  const action = parseScheduleAction(mustStr(s, 'action'), () => {
    throw new TypeError(`${s.label} action: already validated by the schema`);
  });
  return { name: s.name, cron: mustStr(s, 'cron'), action };
}

// ---------------------------------------------------------------- the host

/** Programs must be executable files and pfiles must exist and parse; done last (see the top). */
function checkHost(sections: Section[], failAt: FailAt): void {
  for (const s of sections) {
    for (const k of s.keys) {
      const v = s.values.get(k.key);
      const at = (p: string): never => failAt(k.line, `${s.label} ${k.key} = ${q(s.texts.get(k.key) ?? k.raw)}: ${p}`);
      if (isCommandKey(s, k.key) && Array.isArray(v)) checkProgram((v as readonly string[])[0], at);
      if (k.key === 'pfile' && typeof v === 'string') checkPfile(v, at);
    }
  }
}

function isCommandKey(s: Section, key: string): boolean {
  const table = s.kind === 'monitor' ? monitorKeys(mustStr(s, 'type') as MonitorType) : SECTIONS[s.kind].keys;
  return table[key]?.type === 'command';
}

/** The program must be a regular file this process may execute (as the daemon will). */
function checkProgram(file: string, bad: (p: string) => never): void {
  const what = `the program ${q(file)}`;
  let st: fs.Stats;
  try {
    st = fs.statSync(file);
  } catch (e) {
    const code = errnoCode(e);
    if (code === 'ENOENT' || code === 'ENOTDIR') bad(`${what} does not exist; install it or correct the path`);
    return bad(`${what} cannot be checked (${code ?? String(e)}); fix the permissions of its directories or correct the path`);
  }
  if (st.isDirectory()) bad(`${what} is a directory; give the path of the program inside it`);
  if (!st.isFile()) bad(`${what} is not a regular file; give the path of an executable`);
  try {
    fs.accessSync(file, fs.constants.X_OK);
  } catch {
    bad(`${what} is not executable (or is on a noexec mount); run chmod +x ${file}`);
  }
  // a script copied from a Windows PC (CLUSTERPRO's Builder) fails at its first run, at 3 a.m.
  const endings = programLineEndingProblem(file, st.size);
  if (endings !== null) bad(`${what} ${endings}`);
}

/** A missing pfile is reported here, at the ini line; a broken one by loadPfile, at its own line. */
function checkPfile(file: string, bad: (p: string) => never): void {
  if (!fs.existsSync(file)) bad('the pfile does not exist; create it or correct the path');
  const pfile = loadPfile(file, { checkFiles: true });
  // pcheck -f's own metrics server; in FailSafe mode /metrics is on [web] (docs/fleet.md)
  if (pfile.param.metricsListen !== null) bad('its METRICS_LISTEN is for pcheck -f alone; in FailSafe mode /metrics is served by [web]: remove the METRICS_* keys from the pfile');
}

