// pcheck: watch the entries of one pfile (ProcessSaver mode). Stays in the foreground.
// Exit codes: 0 stopped by SIGTERM/SIGINT; 1 retry-over `exit` (or an internal error);
// 2 bad usage or configuration (nothing was started).

// Before any listener exists, SIGTERM/SIGINT/SIGHUP kill Node at once, without a line and
// without exit code 0. Loading the modules below takes ~100 ms, so a cluster monitor that
// stops pcheck right after starting it would hit that window: a listener is installed first
// (hence before the imports), and the signal waits for main()'s handlers.
const SIGNALS = ['SIGTERM', 'SIGINT', 'SIGHUP'] as const;
const whileStarting = (): void => undefined;
for (const s of SIGNALS) process.on(s, whileStarting);

import { readFileSync } from 'node:fs';
import { isAbsolute } from 'node:path';
import { parseArgs } from 'node:util';
import { loadPfile, PARAM_DEFAULTS, rawParamValue, SYSLOG_FACILITIES } from '../config/pfile';
import { defaultRunDir } from '../control/protocol';
import { PfileDaemon } from '../daemon/pfile/pfile-daemon';
import { createDeathWatcher } from '../daemon/shared/watcher';
import { ConfigError, ExitCode, ProcsafeError, UsageError } from '../errors';
import { Logger } from '../log/logger';
import { createFdSink, createFileSink, underSystemd } from '../log/line-sinks';
import { createSyslogSink } from '../log/syslog';
import type { LogSink } from '../log/types';
import type { Pfile } from '../core/model';
import { createProcTable } from '../proc/proc-table';
import { version } from '../version';
import { loadNative, nativeLoadError } from '../native/index';
import { deathWatchMode } from '../daemon/shared/watcher';
import { createNotifier } from '../systemd/notify';
import { ensureStateDir } from '../state/state-dir';
import { closeInheritedFds, describeClosed } from '../exec/inherited-fds';

const HELP = `Usage: pcheck -f PFILE [--rehearse]
       pcheck --config FILE.ini [--rehearse] [--keep-running]
       pcheck --print-unit pcheck@|procsafe

ProcessSaver mode (-f): watches the processes listed in PFILE and restarts them with
their restart scripts. FailSafe mode (--config): groups of start/stop scripts, monitors
and recovery chains. Stays in the foreground: run it from systemd or a cluster monitor.
Manuals: pcheck(8), padmin(8), pfile(5), procsafe.ini(5).

Options:
  -f, --file PFILE      the pfile to watch (format: man 5 pfile)
      --config FILE     FailSafe mode with this ini file
      --keep-running    FailSafe mode: SIGTERM leaves the groups running
      --rehearse        record OS actions (shutdown, reboot, panic) instead of doing them
      --print-unit NAME the systemd unit pcheck@ or procsafe for this installed copy
  -h, --help         this text
  -V, --version      print the version

Environment:
  PROCSAFE_RUN_DIR        directory of the control sockets (default /run/procsafe)
  PROCSAFE_DEATH_WATCH    auto (default: pidfd when available) or poll

Exit codes: 0 stopped by SIGTERM/SIGINT; 1 retry-over exit or internal error;
2 bad usage or configuration (nothing was started).
`;

type Args = { rehearse: boolean } & ({ mode: 'pfile'; file: string } | { mode: 'failsafe'; config: string; keepRunning: boolean });

function parse(argv: string[]): Args | 'help' | 'version' | { printUnit: string } {
  let v;
  try {
    v = parseArgs({
      args: argv,
      options: {
        file: { type: 'string', short: 'f' },
        config: { type: 'string' },
        rehearse: { type: 'boolean', default: false },
        'keep-running': { type: 'boolean', default: false },
        'print-unit': { type: 'string' },
        help: { type: 'boolean', short: 'h' },
        version: { type: 'boolean', short: 'V' },
      },
      strict: true,
    }).values;
  } catch (e) {
    throw new UsageError(`${(e as Error).message}\nTry 'pcheck --help'.`);
  }
  if (v.help) return 'help';
  if (v.version) return 'version';
  if (v['print-unit'] !== undefined) return { printUnit: v['print-unit'] };
  const rehearse = v.rehearse ?? false;
  if (v.config !== undefined && v.file !== undefined) throw new UsageError('give either -f PFILE (ProcessSaver mode) or --config FILE.ini (FailSafe mode), not both');
  if (v.config !== undefined) return { mode: 'failsafe', config: v.config, keepRunning: v['keep-running'] ?? false, rehearse };
  if (v.file === undefined) throw new UsageError("missing -f PFILE or --config FILE.ini\nTry 'pcheck --help'.");
  return { mode: 'pfile', file: v.file, rehearse };
}

/** In pfile mode there is no group to hand over to. */
function checkPfileMode(pfile: Pfile): void {
  const g = pfile.pents.find((p) => p.retryOverAction === 'group');
  if (g) throw new ConfigError(pfile.path, g.line, 'retry_over_action "group" needs FailSafe mode (pcheck --config FILE.ini); use exit, none, shutdown, reboot or panic');
}

interface LogSettings {
  /** the configuration file and keys that name the log file and syslog, for the errors */
  source: string;
  key: string;
  syslogKey: string;
  logFile: string | null;
  syslog: boolean;
  syslogSocket: string;
  syslogFacility: string;
}

const TAG = 'pcheck';

function sinks(s: LogSettings): LogSink[] {
  return [
    createFdSink(1, { tag: TAG, pid: process.pid, systemd: underSystemd(), native: loadNative() }),
    ...logSinks(s, (sink, e) => {
      if (sink === 'file') {
        throw new ConfigError(s.source, null, `${s.key} ${s.logFile} cannot be opened (${(e as NodeJS.ErrnoException).code ?? String(e)}); create its directory or fix ${s.key}`);
      }
      // e.g. neither the addon nor logger(1): exit 2, not an internal error
      throw new ConfigError(s.source, null, `syslog cannot be used: ${(e as Error).message}; fix that or set ${s.syslogKey} off`);
    }),
  ];
}

/** The LOG_FILE and syslog sinks that `s` asks for; `failed` says what a sink that cannot be
 *  opened means (an error at start; nothing when logging why the start failed). */
function logSinks(s: LogSettings, failed: (sink: 'file' | 'syslog', e: unknown) => void): LogSink[] {
  const out: LogSink[] = [];
  if (s.logFile !== null) {
    try {
      out.push(createFileSink(s.logFile, { tag: TAG, pid: process.pid, key: s.key }));
    } catch (e) {
      failed('file', e);
    }
  }
  if (s.syslog) {
    try {
      out.push(createSyslogSink({ socketPath: s.syslogSocket, facility: s.syslogFacility, tag: TAG, pid: process.pid }));
    } catch (e) {
      failed('syslog', e);
    }
  }
  return out;
}

const internalError = (e: unknown): string => `FATAL: internal error: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}`;

/** No log file; syslog on /dev/log (the default of both modes). */
function defaultLogKeys(source: string): LogSettings {
  const p = PARAM_DEFAULTS;
  return { source, key: 'LOG_FILE', syslogKey: 'SYSLOG', logFile: null, syslog: p.syslog, syslogSocket: p.syslogSocket, syslogFacility: p.syslogFacility };
}

/** LOG_FILE and the SYSLOG keys of a pfile that failed to load, each taken only when it is
 *  well-formed (the pfile itself may be what is wrong); else the defaults: syslog on /dev/log. */
function logKeysOf(file: string): LogSettings {
  const s = defaultLogKeys(file);
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch {
    return s;
  }
  const v = (key: string) => rawParamValue(text, key) ?? '';
  if (isAbsolute(v('LOG_FILE'))) s.logFile = v('LOG_FILE');
  if (isAbsolute(v('SYSLOG_SOCKET'))) s.syslogSocket = v('SYSLOG_SOCKET');
  if (v('SYSLOG') === 'on' || v('SYSLOG') === 'off') s.syslog = v('SYSLOG') === 'on';
  if ((SYSLOG_FACILITIES as readonly string[]).includes(v('SYSLOG_FACILITY'))) s.syslogFacility = v('SYSLOG_FACILITY');
  return s;
}

/**
 * Start-up failed before the logs were open (a bad pfile, a LOG_FILE that cannot be opened):
 * the message goes to the pfile's LOG_FILE and syslog as well (FailSafe mode: syslog on
 * /dev/log), where whoever watches pcheck looks. Not to stdout: main() prints it on stderr,
 * like every usage error, and a terminal would show it twice.
 */
async function logStartError(e: unknown, args: Args): Promise<void> {
  const s = args.mode === 'pfile' ? logKeysOf(args.file) : defaultLogKeys(args.config);
  // a sink that cannot be opened is left out: the error may be about it, and stderr has the message
  const logger = new Logger(logSinks(s, () => undefined));
  logger.crit(e instanceof ProcsafeError ? e.message : internalError(e));
  await logger.close();
}

/**
 * Without the addon (or without pidfd) procsafe still works, less precisely: say so at start,
 * with the cause and what it costs, where the operator looks (stdout, LOG_FILE, syslog).
 */
function warnDegraded(logger: Logger): void {
  const error = nativeLoadError();
  const poll = 'deaths are noticed by polling /proc every 20 ms, not by pidfd events';
  if (error !== null) {
    const deliberate = process.env.PROCSAFE_NATIVE === 'off';
    logger.log(deliberate ? 'notice' : 'warning', `native addon not loaded (${error}): ${poll}; syslog goes through logger(1); sd_notify through systemd-notify(1), which needs root`);
    return;
  }
  const m = deathWatchMode();
  if (m.mode === 'poll' && m.reason !== null && !m.reason.startsWith('forced')) logger.warning(`${m.reason}: ${poll}`);
}

interface Runnable {
  run(): Promise<number>;
  stopOnSignal(name: 'SIGTERM' | 'SIGINT', num: number): Promise<void>;
  reload(by: 'SIGHUP'): unknown;
  /** on an internal error: stop the restart scripts still running (nothing starts after pcheck) */
  stopScripts?(): unknown;
}

// FailSafe mode's modules (groups, monitors, alerts with nodemailer, the web page) and the
// /metrics server are loaded only when used: a pcheck -f does not pay their ~17 MB and ~0.2 s.
async function pfileMode(args: { file: string; rehearse: boolean }): Promise<{ logger: Logger; daemon: Runnable }> {
  const pfile = loadPfile(args.file);
  checkPfileMode(pfile);
  const p = pfile.param;
  const logger = new Logger(sinks({ source: pfile.path, key: 'LOG_FILE', syslogKey: 'SYSLOG', logFile: p.logFile, syslog: p.syslog, syslogSocket: p.syslogSocket, syslogFacility: p.syslogFacility }));
  const table = createProcTable();
  const daemon = new PfileDaemon({ pfile, runDir: defaultRunDir(), rehearse: args.rehearse, logger, table, watcher: createDeathWatcher(table), loadPfile, notifier: createNotifier(process.env, loadNative(), { onError: (m) => logger.warning(m) }) });
  // METRICS_LISTEN: /metrics served while the daemon runs (src/web/metrics-server.ts)
  if (p.metricsListen === null) return { logger, daemon };
  const { pfileMetrics } = await import('../web/metrics-server.js');
  const metrics = pfileMetrics(pfile, daemon, { rehearse: args.rehearse, version: version(), log: logger });
  if (metrics === null) return { logger, daemon };
  return {
    logger,
    daemon: { run: () => metrics.run(() => daemon.run()), stopOnSignal: (n, s) => daemon.stopOnSignal(n, s), reload: (by) => daemon.reload(by), stopScripts: () => daemon.stopScripts() },
  };
}

async function failsafeMode(args: { config: string; rehearse: boolean; keepRunning: boolean }): Promise<{ logger: Logger; daemon: Runnable }> {
  const { loadFailsafeConfig } = await import('../config/ini.js');
  const { FailsafeDaemon } = await import('../daemon/failsafe/failsafe-daemon.js');
  const { createAlerter } = await import('../alerts/alerter.js');
  const { stateDirOf } = await import('./collect.js');
  const { failsafeStatePath } = await import('../state/failsafe-state.js');
  const config = loadFailsafeConfig(args.config);
  const d = config.daemon;
  const logger = new Logger(sinks({ source: config.path, key: '[daemon] log_file', syslogKey: '[daemon] syslog', logFile: d.logFile, syslog: d.syslog, syslogSocket: '/dev/log', syslogFacility: 'daemon' }));
  const runDir = d.runDir ?? defaultRunDir();
  const stateDir = stateDirOf(config, runDir);
  const created = d.stateFile !== null && ensureStateDir(stateDir, config.path, `[daemon] state_file = ${d.stateFile}`);
  if (created) logger.notice(`State directory ${stateDir} created (mode 0700) for [daemon] state_file`);
  const alerter = createAlerter(config.alert, { log: logger, stateDir });
  const table = createProcTable();
  const daemon = new FailsafeDaemon({
    config,
    alerter,
    stateDir,
    runDir,
    rehearse: args.rehearse,
    keepRunning: args.keepRunning,
    logger,
    loadConfig: (path) => loadFailsafeConfig(path),
    loadPfile,
    table,
    watcher: createDeathWatcher(table),
    statePath: failsafeStatePath(d.stateFile),
    notifier: createNotifier(process.env, loadNative(), { onError: (m) => logger.warning(m) }),
  });
  return { logger, daemon };
}

async function main(argv: string[]): Promise<number> {
  const args = parse(argv);
  if (args === 'help') {
    process.stdout.write(HELP);
    return ExitCode.OK;
  }
  if (args === 'version') {
    process.stdout.write(`pcheck (procsafe) ${version()}\n`);
    return ExitCode.OK;
  }
  if ('printUnit' in args) {
    const { unitText } = await import('../systemd/unit.js');
    process.stdout.write(unitText(args.printUnit, loadNative() !== null));
    return ExitCode.OK;
  }
  // before pcheck opens anything of its own: what it inherited is not passed on to scripts
  const inherited = closeInheritedFds();
  let started: { logger: Logger; daemon: Runnable };
  try {
    started = args.mode === 'pfile' ? await pfileMode(args) : await failsafeMode(args);
  } catch (e) {
    await logStartError(e, args);
    throw e;
  }
  const { logger, daemon } = started;
  warnDegraded(logger);
  if (inherited.length > 0) {
    logger.notice(`Closed ${inherited.length} descriptor(s) inherited from pcheck's parent, so that scripts do not inherit them: ${describeClosed(inherited)}`);
  }
  // Once pcheck is dying of an internal error, a signal must not log after its last line
  // nor turn exit 1 into 0.
  const unlessDying = (f: () => unknown) => () => {
    if (!dying) void f();
  };
  process.on('SIGTERM', unlessDying(() => daemon.stopOnSignal('SIGTERM', 15)));
  process.on('SIGINT', unlessDying(() => daemon.stopOnSignal('SIGINT', 2)));
  process.on('SIGHUP', unlessDying(() => daemon.reload('SIGHUP')));
  for (const s of SIGNALS) process.off(s, whileStarting);
  // the last lines of an internal error; from then on the exit code is 1
  const die = (e: unknown) => {
    dying = true;
    logger.crit(internalError(e));
    try {
      daemon.stopScripts?.();
    } catch {
      // the error may be in there: the last line matters more
    }
    logger.crit('Stop pcheck!!');
  };
  const lastWords = (e: unknown) => {
    if (dying) return; // a consequence of the first error
    die(e);
    void logger.close().finally(() => process.exit(ExitCode.FAILURE));
  };
  process.on('uncaughtException', lastWords);
  process.on('unhandledRejection', lastWords);
  let code: number;
  try {
    code = await daemon.run();
  } catch (e) {
    // start-up failed with the logs open (IPCKEY already served, run directory not writable)
    if (e instanceof ProcsafeError) logger.crit(e.message);
    else die(e);
    await logger.close();
    throw e;
  }
  await logger.close();
  return code;
}

/** Set by an internal error: the exit code is then 1, whatever else finishes. */
let dying = false;

main(process.argv.slice(2)).then(
  (code) => process.exit(dying ? ExitCode.FAILURE : code),
  (e: unknown) => {
    if (e instanceof ProcsafeError) {
      process.stderr.write(`pcheck: ${e.message}\n`);
      process.exit(e.exitCode);
    }
    process.stderr.write(`pcheck: internal error: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`);
    process.exit(ExitCode.FAILURE);
  },
);
