// Input generators and contracts shared by the fuzz tests (test/fuzz/*.test.ts) and the fuzz
// benchmark (bench/fuzz.ts). Generators mutate VALID documents (so inputs get deep into the
// parsers) as well as producing arbitrary text; a contract says what a parser may do with an
// input: accept it, or reject it with its own error type and a clear, located message.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';
import { parseFailsafeConfig } from '../../src/config/ini';
import { parsePfile } from '../../src/config/pfile';
import { ControlErrorCode, ControlRequestError, parseRequest } from '../../src/control/protocol';
import { ConfigError } from '../../src/errors';

export const ROOT = join(__dirname, '..', '..', '..');
export const PFILE_NAME = '/etc/procsafe/fuzz.pfile';
export const INI_NAME = '/etc/procsafe/fuzz.ini';

// ---------------------------------------------------------------- seeds: valid documents

export const VALID_PFILES: readonly string[] = [
  '##### PARAM #####\nIPCKEY 0x1234\n##### PENT #####\n/usr/bin/java:/opt/app/start.sh:0:3:exit\n',
  [
    '# a comment',
    '##### PARAM #####',
    'IPCKEY              0x1a2b3c4d',
    'MONITOR_INTERVAL    10',
    'MSG_CHECK_INTERVAL  5',
    'SHM_DUMP_FILE       /var/opt/procsafe/dump/tomcat.dmp',
    'LOG_FILE            /var/log/procsafe/app.log',
    'SYSLOG              on',
    'SYSLOG_FACILITY     local3',
    'SYSLOG_SOCKET       /dev/log',
    'SCRIPT_TIMEOUT      300',
    'RESTART_WAIT        0.5',
    'INITIAL_WAIT        0',
    '',
    '###### PENT ######',
    '/usr/bin/java:/opt/tomcat/start.sh:86400:3:group:include_strings=catalina&tomcat,exclude_strings=grep',
    '/usr/sbin/httpd:/opt/httpd/start.sh:0:0:none:script_timeout=60',
    '/usr/bin/sleep:/opt/s.sh:10:1:exit',
    '',
  ].join('\n'),
  '\uFEFF##### PARAM #####\r\nIPCKEY 439041101\r\nSYSLOG off\r\n##### PENT #####\r\n/bin/a:/bin/b:1:2:exit:include_strings=x y\r\n',
];

export const VALID_INIS: readonly string[] = [
  [
    '[group:web]',
    'start = "/opt/web/start.sh --port 8080"',
    '',
    '[monitor:web_http]',
    'type = http',
    'url = http://127.0.0.1/health',
    'target = web',
    '',
  ].join('\n'),
  [
    '; comment',
    '[daemon]',
    'name = web01',
    'syslog = off',
    '[group:db]',
    'start = "/opt/db/bin/db-ctl start --data \'/var/lib/db/main\'"',
    'stop = /opt/db/bin/db-ctl stop',
    'start_timeout = 5m',
    'final_action = stop_group',
    '[monitor:db_tcp]',
    'type = tcp',
    'host = 127.0.0.1',
    'port = 5432',
    'target = db',
    'interval = 1.5',
    'retries = 2',
    '',
  ].join('\n'),
  readFileSync(join(ROOT, 'etc', 'procsafe.ini.sample'), 'utf8'),
];

export const VALID_REQUESTS: readonly string[] = [
  '{"command":"show pent"}',
  '{"command":"status"}',
  '{"command":"reset pent","args":{"id":1}}',
  '{"command":"reload","args":{}}',
  '{"command":"show pent","args":{"id":[1,2],"json":true}}',
];

// ---------------------------------------------------------------- building blocks

/** Characters and tokens that mean something to one of the parsers, or to a terminal. */
const TOKENS = [
  ':', '=', ';', '#', '&', ',', '"', "'", '\\', '[', ']', ' ', '\t', '\uFEFF', '\r', '\n', '\r\n', '\0',
  '\u2028', '\u00a0', '\u200b', 'é', '日本', '😀', '\ud800', '\u001b[31m', '%s', '${HOME}', '$(id)',
  '#####', '##### PARAM #####', '##### PENT #####', '##### param #####', '[daemon]', '[group:x]', '[monitor:y]',
  '[web]', '[alert]', '[schedule:z]', '__proto__', 'constructor', 'prototype', 'toString', 'hasOwnProperty',
  'IPCKEY', 'type = process', 'include_strings=', 'user=root', 'user=nosuchuser', 'script_timeout=',
] as const; // prettier-ignore

/** Values that break number, path and enum readers. */
const VALUES = [
  '', ' ', '0', '-0', '-1', '-1.5', '1e309', '1e3', 'NaN', 'Infinity', '-Infinity', '0x', '0x0', '0xffffffff',
  '0x100000000', '00', '010', '0.', '.5', '1.5.5', '99999999999999999999999999999', '9007199254740993',
  '2147483', '2147484', '10s', '5m', '2h', '1d', '1w', 'on', 'off', 'yes', 'true', 'null', 'undefined',
  '"quoted"', '"unterminated', '"\\u0000"', '"\\ud800"', "'single'", '"a" b', '/abs/path', 'relative/path',
  '/', '//', '/a:b', 'a&&b', '&', 'x,,y', '__proto__', 'constructor', 'toString',
  'a'.repeat(10_000), '/'.repeat(5_000), '9'.repeat(400), 'é'.repeat(3_000), '#'.repeat(2_000), ':'.repeat(1_000),
] as const; // prettier-ignore

/** One edit of a document, with indices taken modulo the current size. */
type Mutation =
  | { op: 'insert'; at: number; text: string }
  | { op: 'delete'; at: number }
  | { op: 'duplicate'; at: number }
  | { op: 'swap'; at: number; with: number }
  | { op: 'flip'; at: number; col: number; text: string }
  | { op: 'inject'; at: number; col: number; text: string }
  | { op: 'value'; at: number; text: string }
  | { op: 'truncate'; at: number }
  | { op: 'endings'; eol: string }
  | { op: 'bom' }
  | { op: 'long'; at: number; n: number; text: string };

const token = fc.constantFrom(...TOKENS);
const value = fc.constantFrom(...VALUES);
const piece = fc.oneof(
  { weight: 4, arbitrary: token },
  { weight: 3, arbitrary: value },
  { weight: 2, arbitrary: fc.string({ unit: 'binary', maxLength: 12 }) },
  { weight: 1, arbitrary: fc.integer().map(String) },
  { weight: 1, arbitrary: fc.double().map(String) },
);

const mutation: fc.Arbitrary<Mutation> = fc.oneof(
  fc.record({ op: fc.constant('insert' as const), at: fc.nat(), text: fc.oneof(piece, fc.array(piece, { maxLength: 5 }).map((a) => a.join(''))) }),
  fc.record({ op: fc.constant('delete' as const), at: fc.nat() }),
  fc.record({ op: fc.constant('duplicate' as const), at: fc.nat() }),
  fc.record({ op: fc.constant('swap' as const), at: fc.nat(), with: fc.nat() }),
  fc.record({ op: fc.constant('flip' as const), at: fc.nat(), col: fc.nat(), text: piece }),
  fc.record({ op: fc.constant('inject' as const), at: fc.nat(), col: fc.nat(), text: piece }),
  fc.record({ op: fc.constant('value' as const), at: fc.nat(), text: piece }),
  fc.record({ op: fc.constant('truncate' as const), at: fc.nat() }),
  fc.record({ op: fc.constant('endings' as const), eol: fc.constantFrom('\r\n', '\r', '\n\n', '\n \n') }),
  fc.record({ op: fc.constant('bom' as const) }),
  fc.record({ op: fc.constant('long' as const), at: fc.nat(), n: fc.integer({ min: 1_000, max: 100_000 }), text: fc.constantFrom('a', '9', ':', '&', ' ', 'é', '=') }),
);

/** Applies edits to a document, line by line (the value of `key value` / `key = value` / a:b:c is after the first separator). */
export function mutate(doc: string, edits: readonly Mutation[]): string {
  let lines = doc.split('\n');
  const idx = (n: number): number => n % Math.max(lines.length, 1);
  for (const m of edits) {
    switch (m.op) {
      case 'insert':
        lines.splice(m.at % (lines.length + 1), 0, m.text);
        break;
      case 'delete':
        lines.splice(idx(m.at), 1);
        break;
      case 'duplicate':
        lines.splice(idx(m.at), 0, lines[idx(m.at)] ?? '');
        break;
      case 'swap': {
        const [a, b] = [idx(m.at), idx(m.with)];
        [lines[a], lines[b]] = [lines[b] ?? '', lines[a] ?? ''];
        break;
      }
      case 'flip':
      case 'inject': {
        const i = idx(m.at);
        const l = lines[i] ?? '';
        const c = m.col % (l.length + 1);
        lines[i] = l.slice(0, c) + m.text + l.slice(m.op === 'flip' ? c + 1 : c);
        break;
      }
      case 'value': {
        const i = idx(m.at);
        const l = lines[i] ?? '';
        const sep = /\s*=\s*|:|\s+/.exec(l);
        lines[i] = sep === null ? `${l} ${m.text}` : l.slice(0, sep.index + sep[0].length) + m.text;
        break;
      }
      case 'truncate': {
        const i = idx(m.at);
        lines[i] = (lines[i] ?? '').slice(0, m.at % ((lines[i] ?? '').length + 1));
        break;
      }
      case 'endings':
        lines = lines.join(m.eol).split('\n');
        break;
      case 'bom':
        lines[0] = `\uFEFF${lines[0] ?? ''}`;
        break;
      case 'long': {
        const i = idx(m.at);
        lines[i] = (lines[i] ?? '') + m.text.repeat(m.n);
        break;
      }
    }
  }
  return lines.join('\n');
}

const edits = fc.array(mutation, { minLength: 1, maxLength: 8 });

/** A document: mostly mutated valid ones, some arbitrary text and some token soup. */
export function documentArb(valid: readonly string[]): fc.Arbitrary<string> {
  return fc.oneof(
    { weight: 6, arbitrary: fc.tuple(fc.constantFrom(...valid), edits).map(([d, e]) => mutate(d, e)) },
    { weight: 1, arbitrary: fc.constantFrom(...valid) },
    { weight: 1, arbitrary: fc.string({ unit: 'binary', maxLength: 300 }) },
    { weight: 1, arbitrary: fc.array(piece, { maxLength: 40 }).map((a) => a.join('')) },
    { weight: 1, arbitrary: fc.array(fc.array(piece, { maxLength: 6 }).map((a) => a.join('')), { maxLength: 20 }).map((a) => a.join('\n')) },
  );
}

export const pfileInput = (): fc.Arbitrary<string> => documentArb(VALID_PFILES);
export const iniInput = (): fc.Arbitrary<string> => documentArb(VALID_INIS);

/** JSON text built by hand, so that keys such as __proto__ become own keys of the parsed object. */
const jsonKey = fc.oneof(
  fc.constantFrom('command', 'args', '__proto__', 'constructor', 'prototype', 'toString', 'hasOwnProperty', 'valueOf', ''),
  fc.string({ maxLength: 8 }),
);
const jsonText: fc.Arbitrary<string> = fc.letrec<{ node: string }>((tie) => ({
  node: fc.oneof(
    { depthSize: 'small', withCrossShrink: true },
    fc.jsonValue({ maxDepth: 1 }).map((v) => JSON.stringify(v) ?? 'null'),
    fc.constantFrom(...VALUES).map((v) => JSON.stringify(v)),
    fc.array(tie('node'), { maxLength: 4 }).map((a) => `[${a.join(',')}]`),
    fc.array(fc.tuple(jsonKey, tie('node')), { maxLength: 4 }).map((kv) => `{${kv.map(([k, v]) => `${JSON.stringify(k)}:${v}`).join(',')}}`),
  ),
})).node;

const commandValue = fc.oneof(
  fc.constantFrom('show pent', 'status', 'reload', 'reset pent', '', ' ', 'x'.repeat(256), 'x'.repeat(257), 'a\u0000b', 'a\nb', 'a\u007f', 'é'.repeat(200)),
  fc.string({ unit: 'binary', maxLength: 20 }),
);

/** A request line: request-shaped JSON, arbitrary JSON, mutated valid lines, deep nesting, huge lines, arbitrary strings. */
export function requestInput(): fc.Arbitrary<string> {
  return fc.oneof(
    {
      weight: 4,
      arbitrary: fc
        .tuple(fc.option(commandValue.map((c) => JSON.stringify(c))), fc.option(jsonText), fc.array(fc.tuple(jsonKey, jsonText), { maxLength: 2 }), fc.boolean())
        .map(([c, a, extra, first]) => {
          const fields = [...(c === null ? [] : [`"command":${c}`]), ...(a === null ? [] : [`"args":${a}`]), ...extra.map(([k, v]) => `${JSON.stringify(k)}:${v}`)];
          if (first) fields.reverse();
          return `{${fields.join(',')}}`;
        }),
    },
    { weight: 2, arbitrary: jsonText },
    { weight: 2, arbitrary: fc.json({ maxDepth: 4 }) },
    { weight: 2, arbitrary: fc.tuple(fc.constantFrom(...VALID_REQUESTS), edits).map(([d, e]) => mutate(d, e)) },
    { weight: 1, arbitrary: fc.integer({ min: 1, max: 40_000 }).map((n) => '['.repeat(n) + ']'.repeat(n)) },
    { weight: 1, arbitrary: fc.integer({ min: 1, max: 20_000 }).map((n) => `{"command":"x","args":${'{"a":'.repeat(n)}1${'}'.repeat(n)}}`) },
    {
      weight: 1,
      arbitrary: fc
        .tuple(fc.integer({ min: 65_000, max: 70_000 }), fc.constantFrom('a', 'é', '😀', '\\n'))
        .map(([n, ch]) => `{"command":"status","args":{"pad":"${ch.repeat(Math.ceil(n / Buffer.byteLength(ch)))}"}}`),
    },
    { weight: 2, arbitrary: fc.string({ unit: 'binary', maxLength: 200 }) },
  );
}

// ---------------------------------------------------------------- contracts

export type Outcome = 'accepted' | 'rejected';

/** A contract violation: the parser did something no input may make it do. */
export class Crash extends Error {
  constructor(
    message: string,
    readonly input: string,
    readonly thrown: unknown,
  ) {
    super(message);
    this.name = 'Crash';
  }
}

function describeThrown(e: unknown): string {
  return e instanceof Error ? `${e.name}: ${e.message}\n${e.stack ?? ''}` : `non-Error thrown: ${String(e)}`;
}

/** Lines of a config file as the parsers count them: any of CRLF, CR or LF ends a line. */
function lineCount(text: string): number {
  return text.split(/\r\n|\r|\n/).length;
}

/** A ConfigError located in `file` and, when it names a line, at a line the text has. */
function checkConfigError(e: unknown, text: string, file: string): void {
  if (!(e instanceof ConfigError)) throw new Crash(`threw something other than ConfigError: ${describeThrown(e)}`, text, e);
  if (!e.message.startsWith(`${file}:`)) throw new Crash(`message does not start with "${file}:": ${e.message.slice(0, 300)}`, text, e);
  if (e.problem.trim() === '') throw new Crash('ConfigError with an empty problem', text, e);
  if (e.line !== null && (!Number.isInteger(e.line) || e.line < 1 || e.line > lineCount(text))) {
    throw new Crash(`line ${e.line} is outside the text's ${lineCount(text)} lines: ${e.message.slice(0, 300)}`, text, e);
  }
}

export function checkPfile(text: string): Outcome {
  try {
    const p = parsePfile(text, PFILE_NAME, { checkFiles: false });
    if (p.pents.length === 0 || !Number.isInteger(p.param.ipckey)) throw new Crash('accepted a pfile without entries or IPCKEY', text, null);
    return 'accepted';
  } catch (e) {
    if (e instanceof Crash) throw e;
    checkConfigError(e, text, PFILE_NAME);
    return 'rejected';
  }
}

export function checkIni(text: string): Outcome {
  try {
    parseFailsafeConfig(text, INI_NAME, { checkFiles: false });
    return 'accepted';
  } catch (e) {
    checkConfigError(e, text, INI_NAME);
    return 'rejected';
  }
}

const CODES = new Set<number>(Object.values(ControlErrorCode));

export function checkRequest(line: string): Outcome {
  let req;
  try {
    req = parseRequest(line);
  } catch (e) {
    if (!(e instanceof ControlRequestError)) throw new Crash(`threw something other than ControlRequestError: ${describeThrown(e)}`, line, e);
    if (typeof e.code !== 'number' || !CODES.has(e.code)) throw new Crash(`ControlRequestError with code ${String(e.code)}`, line, e);
    if (e.message.trim() === '' || e.message.length > 1000) throw new Crash(`unclear message (${e.message.length} chars): ${e.message.slice(0, 300)}`, line, e);
    return 'rejected';
  }
  if (typeof req.command !== 'string' || req.command.trim() === '') throw new Crash('accepted a request without a command', line, null);
  if (req.args !== undefined && (typeof req.args !== 'object' || req.args === null || Array.isArray(req.args))) {
    throw new Crash('accepted a request whose args is not an object', line, null);
  }
  return 'accepted';
}

export interface Target {
  name: string;
  arb: () => fc.Arbitrary<string>;
  check: (input: string) => Outcome;
}

export const TARGETS: readonly Target[] = [
  { name: 'pfile parser (parsePfile)', arb: pfileInput, check: checkPfile },
  { name: 'ini loader (parseFailsafeConfig)', arb: iniInput, check: checkIni },
  { name: 'control request (parseRequest)', arb: requestInput, check: checkRequest },
];

/** Longest a single input may take before it is reported as a (near) hang. */
export const SLOW_MS = 100;

/** A short, printable excerpt of an input for reports. */
export function excerpt(s: string, max = 200): string {
  return JSON.stringify(s.length > max ? `${s.slice(0, max)}…(${s.length} chars)` : s);
}

// ---------------------------------------------------------------- running

export interface Stats {
  target: string;
  inputs: number;
  accepted: number;
  rejected: number;
  crashes: Crash[];
  /** how many inputs took longer than SLOW_MS. */
  slowCount: number;
  /** the slowest of those, slowest first (at most 5 kept). */
  slow: { ms: number; input: string }[];
  slowestMs: number;
  elapsedMs: number;
}

/** Feeds `runs` generated inputs to a target, recording every outcome; never stops on a crash. */
export function runTarget(t: Target, runs: number, seed: number): Stats {
  const s: Stats = { target: t.name, inputs: 0, accepted: 0, rejected: 0, crashes: [], slowCount: 0, slow: [], slowestMs: 0, elapsedMs: 0 };
  const start = performance.now();
  fc.assert(
    fc.property(t.arb(), (input) => {
      s.inputs++;
      const t0 = performance.now();
      try {
        s[t.check(input)]++;
      } catch (e) {
        s.crashes.push(e instanceof Crash ? e : new Crash(describeThrown(e), input, e));
      }
      const ms = performance.now() - t0;
      if (ms > s.slowestMs) s.slowestMs = ms;
      if (ms > SLOW_MS) {
        s.slowCount++;
        s.slow.push({ ms, input });
        s.slow.sort((a, b) => b.ms - a.ms).splice(5);
      }
    }),
    { numRuns: runs, seed, endOnFailure: true },
  );
  s.elapsedMs = performance.now() - start;
  return s;
}

/** In `npm test`, an input slower than this is a hang (SLOW_MS is reported by the benchmark only: a
 *  loaded CI machine must not turn a 100 ms parse into a red build). */
export const HANG_MS = 1000;

/** The property of the fuzz tests: the contract holds and no input hangs the parser. */
export function contractProperty(t: Target): fc.IPropertyWithHooks<[string]> {
  return fc.property(t.arb(), (input) => {
    const t0 = performance.now();
    t.check(input);
    const ms = performance.now() - t0;
    if (ms > HANG_MS) throw new Crash(`took ${ms.toFixed(0)} ms (limit ${HANG_MS} ms)`, input, null);
  });
}

/** Runs of each fuzz test in `npm test`, with fixed seeds so a failure reproduces. */
export const TEST_RUNS = 2000;
