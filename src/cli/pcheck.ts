// pcheck: watch the entries of one pfile (ProcessSaver mode). Stays in the foreground.
// Exit codes: 0 stopped by SIGTERM/SIGINT; 1 retry-over `exit` (or an internal error);
// 2 bad usage or configuration (nothing was started).
import { parseArgs } from 'node:util';
import { loadPfile } from '../config/pfile';
import { loadFailsafeConfig } from '../config/ini';
import { FailsafeDaemon } from '../daemon/failsafe/failsafe-daemon';
import { createAlerter } from '../alerts/alerter';
import { stateDirOf } from './collect';
import { defaultRunDir } from '../control/protocol';
import { PfileDaemon } from '../daemon/pfile-daemon';
import { createDeathWatcher } from '../daemon/watcher';
import { ConfigError, ExitCode, ProcsafeError, UsageError } from '../errors';
import { Logger } from '../log/logger';
import { createFdSink, createFileSink, underSystemd } from '../log/line-sinks';
import { createSyslogSink } from '../log/syslog';
import type { LogSink } from '../log/types';
import type { Pfile } from '../core/model';
import { createProcTable } from '../proc/proc-table';
import { version } from './version';
import { loadNative } from '../native/index';
import { createNotifier } from '../systemd/notify';

const HELP = `Usage: pcheck -f PFILE [--rehearse]
       pcheck --config FILE.ini [--rehearse] [--keep-running]

ProcessSaver mode (-f): watches the processes listed in PFILE and restarts them with
their restart scripts. FailSafe mode (--config): groups of start/stop scripts, monitors
and recovery chains (see etc/procsafe.ini.sample). Stays in the foreground: run it from
systemd or a cluster monitor.

Options:
  -f, --file PFILE      the pfile to watch (see etc/pfile.sample)
      --config FILE     FailSafe mode with this ini file
      --keep-running    FailSafe mode: SIGTERM leaves the groups running
      --rehearse        record OS actions (shutdown, reboot, panic) instead of doing them
  -h, --help         this text
  -V, --version      print the version

Environment:
  PROCSAFE_RUN_DIR        directory of the control sockets (default /run/procsafe)
  PROCSAFE_DEATH_WATCH    auto (default: pidfd when available) or poll

Exit codes: 0 stopped by SIGTERM/SIGINT; 1 retry-over exit; 2 bad usage or pfile.
`;

type Args = { rehearse: boolean } & ({ mode: 'pfile'; file: string } | { mode: 'failsafe'; config: string; keepRunning: boolean });

function parse(argv: string[]): Args | 'help' | 'version' {
  let v;
  try {
    v = parseArgs({
      args: argv,
      options: {
        file: { type: 'string', short: 'f' },
        config: { type: 'string' },
        rehearse: { type: 'boolean', default: false },
        'keep-running': { type: 'boolean', default: false },
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
  /** the configuration file and key that named logFile, for the error */
  source: string;
  key: string;
  logFile: string | null;
  syslog: boolean;
  syslogSocket: string;
  syslogFacility: string;
}

function sinks(s: LogSettings): LogSink[] {
  const tag = 'pcheck';
  const out: LogSink[] = [createFdSink(1, { tag, pid: process.pid, systemd: underSystemd() })];
  if (s.logFile !== null) {
    try {
      out.push(createFileSink(s.logFile, { tag, pid: process.pid }));
    } catch (e) {
      throw new ConfigError(s.source, null, `${s.key} ${s.logFile} cannot be opened (${(e as NodeJS.ErrnoException).code ?? String(e)}); create its directory or fix ${s.key}`);
    }
  }
  if (s.syslog) out.push(createSyslogSink({ socketPath: s.syslogSocket, facility: s.syslogFacility, tag, pid: process.pid }));
  return out;
}

interface Runnable {
  run(): Promise<number>;
  stopOnSignal(name: 'SIGTERM' | 'SIGINT', num: number): Promise<void>;
  reload(by: 'SIGHUP'): unknown;
}

function pfileMode(args: { file: string; rehearse: boolean }): { logger: Logger; daemon: Runnable } {
  const pfile = loadPfile(args.file);
  checkPfileMode(pfile);
  const p = pfile.param;
  const logger = new Logger(sinks({ source: pfile.path, key: 'LOG_FILE', logFile: p.logFile, syslog: p.syslog, syslogSocket: p.syslogSocket, syslogFacility: p.syslogFacility }));
  const table = createProcTable();
  const daemon = new PfileDaemon({ pfile, runDir: defaultRunDir(), rehearse: args.rehearse, logger, table, watcher: createDeathWatcher(table), loadPfile, notifier: createNotifier(process.env, loadNative(), { onError: (m) => logger.warning(m) }) });
  return { logger, daemon };
}

function failsafeMode(args: { config: string; rehearse: boolean; keepRunning: boolean }): { logger: Logger; daemon: Runnable } {
  const config = loadFailsafeConfig(args.config);
  const d = config.daemon;
  const logger = new Logger(sinks({ source: config.path, key: '[daemon] log_file', logFile: d.logFile, syslog: d.syslog, syslogSocket: '/dev/log', syslogFacility: 'daemon' }));
  const runDir = d.runDir ?? defaultRunDir();
  const stateDir = stateDirOf(config, runDir);
  const alerter = createAlerter(config.alert, { log: logger, stateDir });
  const daemon = new FailsafeDaemon({
    config,
    alerter,
    stateDir,
    runDir,
    rehearse: args.rehearse,
    keepRunning: args.keepRunning,
    logger,
    loadConfig: (path) => loadFailsafeConfig(path),
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
  const { logger, daemon } = args.mode === 'pfile' ? pfileMode(args) : failsafeMode(args);
  process.on('SIGTERM', () => void daemon.stopOnSignal('SIGTERM', 15));
  process.on('SIGINT', () => void daemon.stopOnSignal('SIGINT', 2));
  process.on('SIGHUP', () => void daemon.reload('SIGHUP'));
  const lastWords = (e: unknown) => {
    logger.crit(`FATAL: internal error: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}`);
    logger.crit('Stop pcheck!!');
    void logger.close().finally(() => process.exit(ExitCode.FAILURE));
  };
  process.on('uncaughtException', lastWords);
  process.on('unhandledRejection', lastWords);
  let code: number;
  try {
    code = await daemon.run();
  } catch (e) {
    if (e instanceof ProcsafeError) logger.crit(`${e.message}`);
    await logger.close();
    throw e;
  }
  await logger.close();
  return code;
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (e: unknown) => {
    if (e instanceof ProcsafeError) {
      process.stderr.write(`pcheck: ${e.message}\n`);
      process.exit(e.exitCode);
    }
    process.stderr.write(`pcheck: internal error: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`);
    process.exit(ExitCode.FAILURE);
  },
);
