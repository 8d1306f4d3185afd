// padmin: ProcessSaver-compatible admin commands against the pcheck of a pfile.
// Exit codes: 0 done; 1 the operation failed; 2 bad usage or pfile; 3 no pcheck answers.
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
// Loaded at start: only what `padmin -f PFILE -c 'show pent'` needs to reach its pcheck and
// print the answer. The pfile parser, the state file, the formats and the socket walk are
// loaded where they are used (await import): ~15 ms less CPU for each padmin.
import { PARAM_DEFAULTS, rawParamValue } from '../config/pfile-param';
import { request } from '../control/client';
import { ControlErrorCode, defaultRunDir, failsafeSocketPath, socketPath, type ControlRequest, type ControlResponse } from '../control/protocol';
import type { FailsafeConfig } from '../core/failsafe-model';
import { ConfigError, ExitCode, NoDaemonError, ProcsafeError, UsageError } from '../errors';
import type { Pfile } from '../core/model';
import type { PentView } from '../views/pent-view';
import { version } from '../version';

const HELP = `Usage: padmin -f PFILE -c COMMAND [--json]
       padmin -c list [--json]
       padmin [--config FILE.ini] SUBCOMMAND [--json]     (FailSafe mode)

Commands (ProcessSaver):
  show pent          the entries: pid, counters, proc_sts, monitor_sts
  show param         the PARAM section in force
  stop | start       monitoring of all entries off / on
  reload             re-read the pfile (a bad one is refused; the old one keeps running)
  stop pent ID       monitoring of one entry off (ID = pent_id from show pent)
  start pent ID      monitoring of one entry on
  reset pent ID      counters to 0; leaves RETRY_OVER
  list               the pchecks running on this server

FailSafe subcommands:
  status                               server, groups, monitors and entries
  group start|stop|restart NAME        run the group's scripts
  monitor suspend|resume|clear NAME    pause / restart checks; clear the counters
  reload                               re-read the ini file and its pfiles
  alerts                               the recent alert log
  collect-logs [--out FILE.tar.gz]     logs, state, config (secrets masked), status

Options:
  -f, --file PFILE     the pfile of the pcheck to talk to
      --config FILE    the ini file of the FailSafe pcheck (for its run_dir)
      --out FILE       collect-logs: where to write the archive
  -c, --command TEXT   the command; quoted or not (-c show pent = -c 'show pent')
      --json           print JSON for scripts
  -h, --help, -V, --version

When no pcheck answers, 'show pent' prints the state file (SHM_DUMP_FILE) and says so.
Exit codes: 0 done; 1 the operation failed; 2 bad usage; 3 no pcheck answers.
`;

interface Out {
  json: boolean;
}

async function main(argv: string[]): Promise<number> {
  let parsed;
  try {
    parsed = parseArgs({
      args: argv,
      options: {
        file: { type: 'string', short: 'f' },
        command: { type: 'string', short: 'c' },
        config: { type: 'string' },
        out: { type: 'string' },
        json: { type: 'boolean', default: false },
        help: { type: 'boolean', short: 'h' },
        version: { type: 'boolean', short: 'V' },
      },
      allowPositionals: true,
    });
  } catch (e) {
    throw new UsageError(`${(e as Error).message}\nTry 'padmin --help'.`);
  }
  const { values: v, positionals } = parsed;
  if (v.help) return print(HELP, ExitCode.OK);
  if (v.version) return print(`padmin (procsafe) ${version()}\n`, ExitCode.OK);
  const out: Out = { json: v.json ?? false };
  if (positionals.length > 0 && v.command === undefined && v.file === undefined) {
    return failsafe(positionals.join(' '), v.config, v.out ?? null, out);
  }
  // The ProcessSaver guide writes `padmin -f PFILE -c show pent`: the shell passes the command
  // as several words, `-c` takes the first and the rest are positionals (before or after -f)
  const command = [v.command ?? '', ...positionals].join(' ').trim().replace(/\s+/g, ' ');
  if (command === '') throw new UsageError(`missing -c 'COMMAND' (${(await import('../daemon/pfile/commands.js')).COMMAND_HELP})\nTry 'padmin --help'.`);
  if (command === 'list') return list(out);
  if (v.file === undefined) throw new UsageError(`missing -f PFILE for '${command}'`);

  const keys = await adminKeys(v.file);
  let res: ControlResponse;
  try {
    // one form of the answer: 1,000 entries as text and as JSON would be twice the bytes; and
    // the pfile meant, so that the pcheck of another pfile on this IPCKEY does nothing
    res = await send(keys, { command, args: { format: out.json ? 'json' : 'text', pfile: resolve(v.file) } });
  } catch (e) {
    if (e instanceof NoDaemonError && command === 'show pent') return showFromStateFile(await adminView(v.file), e, out);
    throw e;
  }
  return printResponse(res, out);
}

/**
 * Sends the request to the pcheck of the pfile: the one on the socket of its IPCKEY; else (its
 * IPCKEY was edited since that pcheck started, which reload does not change) the one that
 * `list` shows with this pfile, saying that the IPCKEYs differ.
 */
async function send(pfile: Pfile, req: ControlRequest): Promise<ControlResponse> {
  const path = resolve(pfile.path);
  const runDir = defaultRunDir();
  const sock = socketPath(runDir, pfile.param.ipckey);
  let why: NoDaemonError;
  try {
    const res = await request(sock, req);
    if (res.ok || res.code !== ControlErrorCode.WRONG_PFILE) return res;
    why = new NoDaemonError(`no pcheck of ${path} answers on ${sock} (IPCKEY ${pfile.param.ipckeyText}): ${res.error}`);
  } catch (e) {
    if (!(e instanceof NoDaemonError)) throw e;
    why = e;
  }
  const { pcheckOf } = await import('./pchecks.js');
  const other = await pcheckOf(path, runDir);
  if (other === null) throw why;
  process.stderr.write(
    `padmin: the pcheck of ${path} (pid ${other.pid}) runs with IPCKEY ${other.ipckey}; the pfile now says IPCKEY ${pfile.param.ipckeyText}: restart pcheck to apply it (reload does not change IPCKEY)\n`,
  );
  return request(other.socket, req);
}

/** A FailSafe-mode subcommand, sent to the daemon's socket in its run directory. */
async function failsafe(command: string, config: string | undefined, bundle: string | null, out: Out): Promise<number> {
  // loaded here, not at the top: `padmin -f PFILE -c 'show pent'` must start fast
  const { loadForAdmin, stateDirOf } = await import('./collect.js');
  const cfg = config === undefined ? null : loadForAdmin(config);
  const runDir = cfg?.daemon.runDir ?? defaultRunDir();
  const sock = failsafeSocketPath(runDir);
  if (command === 'collect-logs') return collectCommand(sock, cfg, runDir, bundle, out);
  try {
    return printResponse(await request(sock, { command }), out);
  } catch (e) {
    if (!(e instanceof NoDaemonError) || command !== 'alerts' || cfg === null) throw e;
    // no daemon: the alert log is a file in the state directory
    const { formatAlerts, readAlertLog } = await import('../alerts/alerter.js');
    const events = readAlertLog(stateDirOf(cfg, runDir));
    process.stderr.write(`padmin: ${e.message}\npadmin: pcheck is not running; showing the alert log file\n`);
    print(out.json ? JSON.stringify(events, null, 2) + '\n' : formatAlerts(events) + '\n', 0);
    return ExitCode.NO_DAEMON;
  }
}

/** collect-logs: the daemon says where its config is (or --config does); padmin reads the files itself. */
async function collectCommand(sock: string, cfg: FailsafeConfig | null, runDir: string, bundle: string | null, out: Out): Promise<number> {
  let statusJson: string | null = null;
  let configPath: string | null = cfg?.path ?? null;
  try {
    const st = await request(sock, { command: 'status' });
    if (st.ok) statusJson = JSON.stringify(st.data, null, 2);
    const info = await request(sock, { command: 'info' });
    if (info.ok && configPath === null) configPath = (info.data as { config: string }).config;
  } catch (e) {
    if (!(e instanceof NoDaemonError)) throw e;
    process.stderr.write(`padmin: ${e.message}; collecting without status.json\n`);
  }
  if (configPath === null) throw new UsageError('collect-logs: no pcheck answers; name its ini file with --config FILE.ini');
  const { collect, loadForAdmin } = await import('./collect.js');
  const r = await collect(cfg ?? loadForAdmin(configPath), runDir, statusJson, bundle);
  if (out.json) return print(JSON.stringify(r, null, 2) + '\n', ExitCode.OK);
  return print(`${r.path}\n${r.entries.map((e) => `  ${e}`).join('\n')}\n`, ExitCode.OK);
}

/** A daemon's answer: its text (or JSON) on stdout, exit 0; an error on stderr, exit 1. */
function printResponse(res: ControlResponse, out: Out): number {
  if (!res.ok) {
    // a reload pcheck refused (a bad edit): say so, the running configuration stays
    process.stderr.write(`padmin: ${res.code === ControlErrorCode.REFUSED ? 'refused: ' : ''}${res.error}\n`);
    if (out.json) print(JSON.stringify(res) + '\n', 0);
    return ExitCode.FAILURE;
  }
  if (out.json) return print(JSON.stringify(res.data ?? { text: res.text ?? '' }, null, 2) + '\n', ExitCode.OK);
  return print(res.text !== undefined ? `${res.text}\n` : '', ExitCode.OK);
}

/**
 * What padmin needs to reach a pcheck: IPCKEY (and SHM_DUMP_FILE), read from the PARAM
 * section without parsing every entry (a pfile of 1,000 entries costs ~30 ms to parse).
 * A pfile whose IPCKEY cannot be read that way gets the full parser, and its located error.
 */
async function adminKeys(file: string): Promise<Pfile> {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch {
    return adminView(file); // the parser's error names the file and says what to do
  }
  const key = (k: string) => rawParamValue(text, k);
  const ipckey = key('IPCKEY');
  if (ipckey === undefined || !/^(0x[0-9a-fA-F]+|[1-9][0-9]*)$/.test(ipckey)) return adminView(file);
  const p = { ...PARAM_DEFAULTS, ipckey: Number(ipckey), ipckeyText: ipckey, initialWait: PARAM_DEFAULTS.monitorInterval };
  return { path: file, param: { ...p, shmDumpFile: key('SHM_DUMP_FILE') ?? null }, pents: [] };
}

/**
 * padmin needs IPCKEY and SHM_DUMP_FILE, not working scripts, so scripts are not checked.
 * An edited pfile with a mistake must still reach its running pcheck (to `reload` and be
 * told what is wrong, or to `show pent`): then only the PARAM keys are read from it.
 */
async function adminView(file: string): Promise<Pfile> {
  const { loadPfile } = await import('../config/pfile.js');
  try {
    return loadPfile(file, { checkFiles: false });
  } catch (e) {
    if (!(e instanceof ConfigError) || e.line === null) throw e;
    const text = readFileSync(e.file, 'utf8');
    const key = (k: string) => new RegExp(`^\\s*${k}\\s+(\\S+)\\s*$`, 'm').exec(text)?.[1];
    const ipckey = key('IPCKEY');
    if (ipckey === undefined || !Number.isSafeInteger(Number(ipckey))) throw e;
    const param = { ...PARAM_DEFAULTS, ipckey: Number(ipckey), ipckeyText: ipckey, initialWait: PARAM_DEFAULTS.monitorInterval };
    return { path: e.file, param: { ...param, shmDumpFile: key('SHM_DUMP_FILE') ?? null }, pents: [] };
  }
}

/** No pcheck answers: show what its state file says, and say so. Exits 3 all the same. */
async function showFromStateFile(pfile: Pfile, why: NoDaemonError, out: Out): Promise<number> {
  const { readStateFile } = await import('../state/state-file.js');
  const { sameFile } = await import('../config/same-file.js');
  const { pentSignature } = await import('../core/model.js');
  const { ctime, formatShowPent } = await import('../views/pent-view.js');
  const path = pfile.param.shmDumpFile;
  const note = `padmin: ${why.message}`;
  if (path === null) throw new NoDaemonError(`${why.message}; and the pfile names no SHM_DUMP_FILE to read instead`);
  const r = readStateFile(path);
  if (!('snapshot' in r)) {
    throw new NoDaemonError(`${why.message}; and the state file ${path} is ${'missing' in r ? 'missing' : `unreadable (${r.corrupt})`}`);
  }
  const snap = r.snapshot;
  if (!sameFile(snap.pfile, pfile.path)) {
    throw new NoDaemonError(
      `${why.message}; and the state file ${path} was written by the pcheck of pfile ${snap.pfile}, not of ${pfile.path}: not shown (two pfiles must not name the same SHM_DUMP_FILE; if this pfile was renamed, its pcheck takes the file over at its next start)`,
    );
  }
  const bySig = new Map(pfile.pents.map((p) => [pentSignature(p), p]));
  const views: PentView[] = snap.entries.map((e) => {
    const p = bySig.get(e.signature);
    return {
      pent_id: e.pentId,
      pname: e.pname,
      pid: e.pid,
      retry_count: e.retryCount,
      restart_count: e.restartCount,
      proc_sts: e.procSts,
      retry_over_act: p?.retryOverAction ?? 'exit',
      rerun_time: e.rerunTime,
      include_strings: p?.includeStrings ?? [],
      exclude_strings: p?.excludeStrings ?? [],
      user: p?.user ?? null,
      monitor_sts: e.monitorSts,
      restart_script: p?.restartScript ?? '',
      retry_limit: p?.retryLimit ?? 0,
      grace: p?.grace ?? 0,
    };
  });
  const source = `state file ${path}, written ${ctime(snap.writtenAt)} by pcheck pid ${snap.pcheckPid}`;
  process.stderr.write(`${note}\npadmin: pcheck is not running; showing the last state from the ${source}\n`);
  if (out.json) print(JSON.stringify({ source: 'state_file', path, writtenAt: snap.writtenAt, entries: views }, null, 2) + '\n', 0);
  else print(`# pcheck is not running: last state from the ${source}\n${formatShowPent(views)}\n`, 0);
  return ExitCode.NO_DAEMON;
}

/** `list`: every pcheck with a socket in the run directory that answers. */
async function list(out: Out): Promise<number> {
  const dir = defaultRunDir();
  const { runningPchecks } = await import('./pchecks.js');
  const { found, denied } = await runningPchecks(dir);
  if (denied > 0 && found.length === 0) {
    throw new ProcsafeError(
      `permission denied on ${denied} control socket${denied === 1 ? '' : 's'} in ${dir} (owner-only, mode 0600); run padmin as the user that runs pcheck (usually root)`,
      ExitCode.FAILURE,
    );
  }
  if (out.json) return print(JSON.stringify(found.map(({ socket: _, ...i }) => i), null, 2) + '\n', ExitCode.OK);
  if (found.length === 0) return print(`no pcheck is running (run directory ${dir})\n`, ExitCode.OK);
  const rows = found.map((i) => `${i.ipckey.padEnd(12)} ${String(i.pid).padEnd(8)} ${String(i.entries).padEnd(8)} ${(i.deathWatch ?? '-').padEnd(11)} ${i.pfile}`);
  return print(`${'IPCKEY'.padEnd(12)} ${'PID'.padEnd(8)} ${'ENTRIES'.padEnd(8)} ${'DEATH_WATCH'.padEnd(11)} PFILE\n${rows.join('\n')}\n`, ExitCode.OK);
}

function print(text: string, code: number): number {
  process.stdout.write(text);
  return code;
}

// `padmin ... | head`: a reader that goes away is not an error of padmin's
process.stdout.on('error', (e: NodeJS.ErrnoException) => {
  if (e.code === 'EPIPE') process.exit(process.exitCode ?? 0);
  throw e;
});

main(process.argv.slice(2)).then(
  (code) => (process.exitCode = code),
  (e: unknown) => {
    if (e instanceof ProcsafeError) {
      process.stderr.write(`padmin: ${e.message}\n`);
      process.exitCode = e.exitCode;
      return;
    }
    process.stderr.write(`padmin: internal error: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`);
    process.exitCode = ExitCode.FAILURE;
  },
);
