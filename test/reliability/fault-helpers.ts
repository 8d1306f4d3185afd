// Helpers of the fault-injection tests (restart-faults, pcheck-killed).
//
// Counting copies of a program cheaply: a full /proc scan costs ~0.7 s of CPU when another
// test keeps 10,000 processes in the table, so these tests do not poll one. Every copy they
// (or their restart scripts) start registers its pid in a file as it starts (`exec` keeps the
// pid); a copy counts when that pid is alive, not a zombie, and has the pname as argv[0].
// One full scan at the end of a test (Sandbox.pidsOf) confirms that no unregistered copy exists.
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Pcheck, Sandbox, Service } from '../helpers/harness';

export interface Copies extends Service {
  /** file where each copy appends its pid */
  reg: string;
}

/** A shell line that starts one copy of `pname` in the background, in its own session, with no
 *  output (so it outlives its script and pcheck): `exec -a PNAME COMMAND...`, registered in `reg`.
 *  `first` runs before (e.g. a wait). */
export function startCopyLine(pname: string, reg: string, command = 'sleep infinity', first = ''): string {
  return `setsid bash -c '${first}echo $$ >> "$1"; exec -a "$0" ${command}' '${pname}' '${reg}' </dev/null >/dev/null 2>&1 &`;
}

/** A service (pname + restart script) whose script runs `pre` then starts a registered copy. */
export function copiesService(sb: Sandbox, name: string, opts: { pre?: string; command?: string; first?: string } = {}): Copies {
  const pname = join(sb.dir, name);
  const reg = join(sb.dir, `${name}.pids`);
  const script = sb.script(`start-${name}.sh`, `${opts.pre ?? ''}\n${startCopyLine(pname, reg, opts.command, opts.first)}`);
  return { pname, script, reg };
}

export interface ProcStat {
  pid: number;
  state: string;
  ppid: number;
  pgrp: number;
  startTime: number;
}

export function readStatOf(pid: number): ProcStat | null {
  try {
    const s = readFileSync(`/proc/${pid}/stat`, 'latin1');
    const f = s.slice(s.lastIndexOf(')') + 2).split(' ');
    return { pid, state: f[0], ppid: Number(f[1]), pgrp: Number(f[2]), startTime: Number(f[19]) };
  } catch {
    return null;
  }
}

/** Gone, or a zombie: dead. */
export function isGone(pid: number): boolean {
  const st = readStatOf(pid);
  return st === null || st.state === 'Z' || st.state === 'X';
}

function argv0(pid: number): string | null {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'latin1').split('\0')[0];
  } catch {
    return null;
  }
}

/** The registered copies that are alive now. */
export function liveCopies(c: Copies): number[] {
  if (!existsSync(c.reg)) return [];
  const pids = readFileSync(c.reg, 'utf8').split('\n').filter(Boolean).map(Number);
  return [...new Set(pids)].filter((p) => !isGone(p) && argv0(p) === c.pname);
}

/** The message of a log line, without its time stamp and `pcheck[PID]: ` tag. */
export const message = (line: string): string => line.replace(/^.*? pcheck\[\d+\]: /, '');

/** The epoch ms of a log line's time stamp (local time, as pcheck writes it). */
export const stampOf = (line: string): number => Date.parse(line.slice(0, 23).replace(' ', 'T'));

export const pidOf = (line: { text: string }): number => Number(/pid=(\d+)/.exec(line.text)![1]);

/** A RegExp for `(PNAME ,pid=N) Up` with any N. */
export const upLine = (pname: string): RegExp => new RegExp(`\\(${pname.replaceAll(/[.*+?^${}()|[\]\\/]/g, '\\$&')} ,pid=\\d+\\) Up`);

/** pcheck's messages about `pname` from line `from` on, without the script's own output. */
export function entryLines(pc: Pcheck, pname: string, from: number): string[] {
  return pc.lines
    .slice(from)
    .map((l) => message(l.text))
    .filter((m) => m.includes(pname) && !m.startsWith(`(${pname}) script: `));
}

/** The script's output lines as pcheck logged them. */
export function scriptOutput(pc: Pcheck, pname: string, from = 0): string[] {
  const prefix = `(${pname}) script: `;
  return pc.lines
    .slice(from)
    .map((l) => message(l.text))
    .filter((m) => m.startsWith(prefix))
    .map((m) => m.slice(prefix.length));
}

export function countLines(path: string): number {
  return existsSync(path) ? readFileSync(path, 'utf8').split('\n').filter(Boolean).length : 0;
}
