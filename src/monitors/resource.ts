// `resource` monitor: CPU % and RSS of the oldest process matching pname/include_strings
// (the same matching as a pfile entry). Read straight from /proc, not with a package like
// pidusage or with `ps`: exact figures (ticks and kB from the kernel), no fork per check,
// no dependency.
// - CPU %: (utime + stime) ticks consumed between two checks over the wall time between
//   them, in % of one CPU (a process using 2 cores shows 200 %, as in top). The first
//   check of a process has no baseline, so it judges only RSS.
// - RSS: VmRSS of /proc/PID/status, in MiB (rss_mb = 1024 × 1024 bytes).
// - failure only once a figure has been over its limit for `samples` consecutive checks;
//   the daemon's retries then count on top of that.
// - no matching process: a failure with warning set (it cannot be measured; the process
//   monitor of the group is the one that says it is down).
import { readFile } from 'node:fs/promises';
import { compileMatcher, resolvePname, selectOldest, type Matcher } from '../proc/match';
import { createProcTable } from '../proc/proc-table';
import { CLK_TCK } from '../proc/proc-stat';
import type { ProcId, ProcessTable } from '../proc/types';
import type { Probe, ProbeResult } from './types';
import { errText } from './util';

export interface ResourceLimits {
  pname: string;
  includeStrings: string[];
  cpuPercent: number | null;
  rssMb: number | null;
  samples: number;
}

interface Sample {
  /** utime + stime, in clock ticks. */
  cpuTicks: number;
  startTime: number;
  rssKb: number;
  /** performance.now() when read. */
  at: number;
}

/** utime, stime and start time from /proc/PID/stat, counted from the last ')' because
 *  comm may contain spaces and parentheses; RSS from status. Null if it is gone. */
async function readSample(pid: number): Promise<Sample | null> {
  try {
    const at = performance.now();
    const [stat, status] = await Promise.all([readFile(`/proc/${pid}/stat`, 'latin1'), readFile(`/proc/${pid}/status`, 'latin1')]);
    const f = stat.slice(stat.lastIndexOf(')') + 2).split(' '); // f[0] is field 3
    const rss = /^VmRSS:\s+(\d+) kB/m.exec(status);
    return {
      cpuTicks: Number(f[14 - 3]) + Number(f[15 - 3]),
      startTime: Number(f[22 - 3]),
      rssKb: rss ? Number(rss[1]) : 0, // no VmRSS line: a zombie, without memory
      at,
    };
  } catch {
    return null;
  }
}

export function createResourceProbe(limits: ResourceLimits): Probe {
  const { pname, includeStrings, cpuPercent, rssMb } = limits;
  const samples = Math.max(1, Math.floor(limits.samples));
  const table: ProcessTable = createProcTable();
  // resolved once, as a pfile load does: the realpath lets a process started through a
  // symlink match by /proc/PID/exe
  const matches: Matcher = compileMatcher({ pname, includeStrings, excludeStrings: [], uid: null }, resolvePname(pname));
  let watched: ProcId | null = null;
  let last: Sample | null = null;
  let cpuOver = 0;
  let rssOver = 0;

  /** The oldest match. The one found last time stays the oldest as long as it lives and
   *  matches (a process started later is younger), so the full /proc scan is done only
   *  when it is gone. */
  function find(): ProcId | null {
    if (watched !== null) {
      const p = table.read(watched);
      if (p !== null && matches(p)) return watched;
    }
    const p = selectOldest(table.scan(), matches);
    return p === null ? null : { pid: p.pid, startTime: p.startTime };
  }

  async function check(): Promise<ProbeResult> {
    const who = includeStrings.length > 0 ? `${pname} [${includeStrings.join(', ')}]` : pname;
    let id: ProcId | null;
    try {
      id = find();
    } catch (err) {
      return { ok: false, warning: true, detail: `cannot read the process table: ${errText(err)}` };
    }
    if (id === null || id.pid !== watched?.pid || id.startTime !== watched.startTime) {
      // another process (or none): its figures start afresh
      watched = id;
      last = null;
      cpuOver = 0;
      rssOver = 0;
    }
    if (id === null) return { ok: false, warning: true, detail: `no process matches ${who}` };
    const now = await readSample(id.pid);
    if (now === null || now.startTime !== id.startTime) {
      watched = null;
      return { ok: false, warning: true, detail: `pid ${id.pid} (${who}) exited while being measured` };
    }

    const parts: string[] = [];
    let failed = false;
    if (last !== null && now.at > last.at) {
      const pct = ((now.cpuTicks - last.cpuTicks) / CLK_TCK / ((now.at - last.at) / 1000)) * 100;
      if (cpuPercent !== null) {
        cpuOver = pct > cpuPercent ? cpuOver + 1 : 0;
        failed ||= cpuOver >= samples;
        parts.push(`cpu ${pct.toFixed(1)}% (limit ${cpuPercent}%${cpuOver > 0 ? `, over ${Math.min(cpuOver, samples)}/${samples}` : ''})`);
      } else parts.push(`cpu ${pct.toFixed(1)}%`);
    } else parts.push('cpu n/a (first sample)');
    const mb = now.rssKb / 1024;
    if (rssMb !== null) {
      rssOver = mb > rssMb ? rssOver + 1 : 0;
      failed ||= rssOver >= samples;
      parts.push(`rss ${mb.toFixed(1)} MiB (limit ${rssMb} MiB${rssOver > 0 ? `, over ${Math.min(rssOver, samples)}/${samples}` : ''})`);
    } else parts.push(`rss ${mb.toFixed(1)} MiB`);
    last = now;
    return { ok: !failed, detail: `pid ${id.pid} (${who}): ${parts.join(', ')}` };
  }

  return { check, close: () => {} };
}
