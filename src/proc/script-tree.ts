// Ending what a restart script started, except the program (SPEC §10 "never kill what is Up").
// A script runs in its own session and process group (runScript starts it detached: its pid is
// both ids); at its timeout, or when pcheck stops, everything in that group or session is
// killed (SIGKILL), but never a process pcheck has adopted as an entry's program, nor one
// descended from it (its workers): `nohup java … &` from a script that then hangs leaves the
// program in the script's group, and it is Up.
import * as fs from 'node:fs';
import { STAT_BUFFER_SIZE, isDead, parseStat, type ProcStat } from './proc-stat';

/** A member may fork between our reading and our kill: read and kill again, this many times. */
const PASSES = 3;

export interface TreeKill {
  /** pids sent SIGKILL, in the order killed */
  killed: number[];
  /** members of the group or session left alone: adopted programs and their descendants */
  spared: number[];
}

type Row = Pick<ProcStat, 'ppid' | 'pgrp' | 'session' | 'state' | 'numThreads'>;

/** Every live process's parent, group and session, read from /proc/PID/stat. */
function readRows(procRoot: string): Map<number, Row> {
  const buf = Buffer.allocUnsafe(STAT_BUFFER_SIZE);
  const rows = new Map<number, Row>();
  for (const name of fs.readdirSync(procRoot)) {
    const c = name.charCodeAt(0);
    if (c < 0x30 || c > 0x39) continue;
    let fd: number;
    try {
      fd = fs.openSync(`${procRoot}/${name}/stat`, 'r');
    } catch {
      continue; // gone
    }
    try {
      const st = parseStat(buf, fs.readSync(fd, buf, 0, buf.length, 0));
      if (st !== null && !isDead(st)) rows.set(Number(name), st);
    } catch {
      // gone meanwhile
    } finally {
      fs.closeSync(fd);
    }
  }
  return rows;
}

/** Whether `pid` or one of its ancestors is in `spare`. */
function descendsFrom(pid: number, rows: Map<number, Row>, spare: ReadonlySet<number>): boolean {
  for (let p = pid, hops = 0; p > 1 && hops < 4096; hops++) {
    if (spare.has(p)) return true;
    const r = rows.get(p);
    if (r === undefined) return false;
    p = r.ppid;
  }
  return false;
}

/**
 * SIGKILLs the process `root` (a script) and every process in the group or session it leads,
 * except those in `spare` and their descendants. Synchronous: a few reads of /proc. Never
 * signals a process group as a whole (the spared program may be in it).
 */
export function killScriptTree(root: number, spare: ReadonlySet<number>, procRoot = '/proc'): TreeKill {
  const killed: number[] = [];
  const spared = new Set<number>();
  if (!(root > 1)) return { killed, spared: [] }; // never 0, 1 or a negative id
  for (let pass = 0; pass < PASSES; pass++) {
    const rows = readRows(procRoot);
    let sent = 0;
    for (const [pid, r] of rows) {
      if (pid !== root && r.pgrp !== root && r.session !== root) continue;
      if (pid === process.pid) continue;
      if (descendsFrom(pid, rows, spare)) {
        spared.add(pid);
        continue;
      }
      try {
        process.kill(pid, 'SIGKILL');
        if (!killed.includes(pid)) killed.push(pid);
        sent++;
      } catch {
        // gone since the read
      }
    }
    if (sent === 0) break;
  }
  return { killed, spared: [...spared] };
}
