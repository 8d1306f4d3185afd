// clplogcmd: CLUSTERPRO's command for writing a message from a script into the cluster's log,
// so that start.sh / stop.sh written for CLUSTERPRO run unchanged under procsafe.
//   clplogcmd -m MESSAGE [-l ERR|WARN|INFO] [-i EVENT_ID] [--syslog] [--alert] [--mail] [--trap]
// The message goes to the pcheck that runs the script (its control socket is in PS_SOCKET),
// which writes it to its log (stdout/journal, LOG_FILE, syslog). When no pcheck answers (the
// script run by hand), it goes to syslog through logger(1) with the tag pcheck.
// Exit codes: 0 written; 1 neither pcheck nor syslog took it (printed on stderr); 2 bad usage.
import { spawnSync } from 'node:child_process';
import { request } from '../control/client';
import { CLP_LEVELS, scriptLogLine } from '../control/script-log';
import { ExitCode } from '../errors';

const HELP = `Usage: clplogcmd -m MESSAGE [-l LEVEL] [-i EVENT_ID] [--syslog] [--alert] [--mail] [--trap]

Writes MESSAGE into procsafe's log (as CLUSTERPRO's clplogcmd writes into the cluster's), from
a group's start/stop script or an entry's restart script run by pcheck. LEVEL is ERR, WARN or
INFO (default INFO). -i and the destination options are accepted for CLUSTERPRO's scripts;
procsafe writes every message to its log, which goes to syslog too.

Environment (set by pcheck for its scripts):
  PS_SOCKET                the control socket of the pcheck that runs the script
  PS_GROUP, PS_PNAME       whose script it is (shown in the log line)
  PROCSAFE_SYSLOG_SOCKET   syslog's socket when no pcheck answers (default /dev/log)

Exit codes: 0 written; 1 not written (no pcheck answered, syslog failed); 2 bad usage.
`;

interface Args {
  message: string;
  level: string;
}

class Usage extends Error {}

function parse(argv: string[]): Args | 'help' {
  let message: string | null = null;
  let level = 'INFO';
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    // the value is the next word as it is, even when it starts with "-" (a message "--- start ---")
    const value = (): string => {
      if (i + 1 >= argv.length) throw new Usage(`${a} needs a value`);
      return argv[++i];
    };
    if (a === '-h' || a === '--help') return 'help';
    else if (a === '-m') message = value();
    else if (a.startsWith('-m') && !a.startsWith('--')) message = a.slice(2);
    else if (a === '-l') level = value().toUpperCase();
    else if (a === '-i') {
      const id = value();
      if (!/^\d+$/.test(id)) throw new Usage(`-i ${JSON.stringify(id)}: the event ID is a number`);
    } else if (['--syslog', '--alert', '--mail', '--trap'].includes(a)) continue;
    else throw new Usage(`unknown option ${JSON.stringify(a)}`);
  }
  if (message === null) throw new Usage('give the message with -m MESSAGE');
  if (CLP_LEVELS[level] === undefined) throw new Usage(`-l ${level}: the level is one of ${Object.keys(CLP_LEVELS).join(', ')}`);
  return { message, level };
}

const SYSLOG_PRIORITY: Readonly<Record<string, string>> = { ERR: 'daemon.err', WARN: 'daemon.warning', INFO: 'daemon.info' };

/** No pcheck answered: syslog through logger(1), tagged like pcheck's own lines. */
function toSyslog(line: string, level: string): string | null {
  const socket = process.env.PROCSAFE_SYSLOG_SOCKET || '/dev/log';
  const r = spawnSync('logger', ['--socket-errors=on', '-t', 'pcheck', `--id=${process.ppid}`, '-p', SYSLOG_PRIORITY[level], '-u', socket, '--', line], { encoding: 'utf8', timeout: 5000 });
  if (r.error) return `logger(1) could not run: ${r.error.message}`;
  if (r.status !== 0) return `logger(1) failed: ${r.stderr.trim() || `exit ${String(r.status)}`}`;
  return null;
}

async function main(argv: string[]): Promise<number> {
  let args: Args | 'help';
  try {
    args = parse(argv);
  } catch (e) {
    if (!(e instanceof Usage)) throw e;
    process.stderr.write(`clplogcmd: ${e.message}\nTry 'clplogcmd --help'.\n`);
    return ExitCode.USAGE;
  }
  if (args === 'help') {
    process.stdout.write(HELP);
    return ExitCode.OK;
  }
  const env = process.env;
  const context = { group: env.PS_GROUP || undefined, pname: env.PS_PNAME || undefined };
  let why = 'PS_SOCKET is not set (not run by pcheck)';
  if (env.PS_SOCKET) {
    try {
      const r = await request(env.PS_SOCKET, { command: 'log', args: { message: args.message, level: args.level, ...context } }, 3000);
      if (r.ok) return ExitCode.OK;
      why = `pcheck refused the line: ${r.error}`;
    } catch (e) {
      why = (e as Error).message;
    }
  }
  const line = scriptLogLine({ message: args.message, level: args.level, ...context });
  const failed = toSyslog(line, args.level);
  if (failed === null) return ExitCode.OK;
  process.stderr.write(`clplogcmd: ${line}\nclplogcmd: not written to procsafe's log (${why}) nor to syslog (${failed})\n`);
  return ExitCode.FAILURE;
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (e: unknown) => {
    process.stderr.write(`clplogcmd: internal error: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`);
    process.exit(ExitCode.FAILURE);
  },
);
