// pcheck: watch the entries of one pfile (ProcessSaver mode). Stays in the foreground.
// Exit codes: 0 stopped by SIGTERM/SIGINT; 1 retry-over `exit` (or an internal error);
// 2 bad usage or configuration (nothing was started).
import { parseArgs } from 'node:util';
import { loadPfile } from '../config/pfile';
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

const HELP = `Usage: pcheck -f PFILE [--rehearse]

Watches the processes listed in PFILE and restarts them with their restart scripts
(ProcessSaver mode). Stays in the foreground: run it from systemd or a cluster monitor.

Options:
  -f, --file PFILE   the pfile to watch (see etc/pfile.sample)
      --rehearse     record OS actions (shutdown, reboot, panic) instead of doing them
  -h, --help         this text
  -V, --version      print the version

Environment:
  PROCSAFE_RUN_DIR        directory of the control sockets (default /run/procsafe)
  PROCSAFE_DEATH_WATCH    auto (default: pidfd when available) or poll

Exit codes: 0 stopped by SIGTERM/SIGINT; 1 retry-over exit; 2 bad usage or pfile.
`;

interface Args {
  file: string;
  rehearse: boolean;
}

function parse(argv: string[]): Args | 'help' | 'version' {
  let v;
  try {
    v = parseArgs({
      args: argv,
      options: {
        file: { type: 'string', short: 'f' },
        config: { type: 'string' },
        rehearse: { type: 'boolean', default: false },
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
  if (v.config !== undefined) throw new UsageError('FailSafe mode (--config FILE.ini) is not available in this version; use -f PFILE');
  if (v.file === undefined) throw new UsageError("missing -f PFILE\nTry 'pcheck --help'.");
  return { file: v.file, rehearse: v.rehearse ?? false };
}

/** In pfile mode there is no group to hand over to. */
function checkPfileMode(pfile: Pfile): void {
  const g = pfile.pents.find((p) => p.retryOverAction === 'group');
  if (g) throw new ConfigError(pfile.path, g.line, 'retry_over_action "group" needs FailSafe mode (pcheck --config FILE.ini); use exit, none, shutdown, reboot or panic');
}

function sinks(pfile: Pfile): LogSink[] {
  const tag = 'pcheck';
  const out: LogSink[] = [createFdSink(1, { tag, pid: process.pid, systemd: underSystemd() })];
  const p = pfile.param;
  if (p.logFile !== null) {
    try {
      out.push(createFileSink(p.logFile, { tag, pid: process.pid }));
    } catch (e) {
      throw new ConfigError(pfile.path, null, `LOG_FILE ${p.logFile} cannot be opened (${(e as NodeJS.ErrnoException).code ?? String(e)}); create its directory or fix LOG_FILE`);
    }
  }
  if (p.syslog) out.push(createSyslogSink({ socketPath: p.syslogSocket, facility: p.syslogFacility, tag, pid: process.pid }));
  return out;
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
  const pfile = loadPfile(args.file);
  checkPfileMode(pfile);
  const logger = new Logger(sinks(pfile));
  const table = createProcTable();
  const daemon = new PfileDaemon({
    pfile,
    runDir: defaultRunDir(),
    rehearse: args.rehearse,
    logger,
    table,
    watcher: createDeathWatcher(table),
    loadPfile,
  });
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
