// `pid` monitor: the pid in pid_file must be a live process. Liveness comes from
// /proc/PID/stat (readStat, isDead): exact, and a zombie — exited but not yet reaped by
// its parent — counts as dead, which kill(pid, 0) would not tell.
// Not detected: a stale pid file whose pid has been reused by another process.
import { readFile } from 'node:fs/promises';
import { isDead, readStat } from '../proc/proc-stat';
import type { Probe, ProbeResult } from './types';
import { deadline, errText, notInTime, OneAtATime } from './util';

/** pid_max can be set up to 2^22 (PID_MAX_LIMIT). */
const PID_MAX_LIMIT = 4_194_304;
/** A pid file is a line; more than this is not one. */
const MAX_PID_FILE_BYTES = 4096;

export function createPidProbe(pidFile: string): Probe {
  const one = new OneAtATime();

  async function check(signal: AbortSignal, timeoutMs: number): Promise<ProbeResult> {
    const dl = deadline(signal, timeoutMs);
    let text: string;
    try {
      // async, one at a time, and not awaited past the deadline: a pid file on a hung
      // NFS mount must hold up neither the loop nor this check (see OneAtATime)
      const r = await one.run(() => readFile(pidFile, { encoding: 'latin1', signal: dl.signal }), dl.signal);
      if (r.state === 'stuck') return { ok: false, detail: `the read of ${pidFile} started ${Math.round(r.sinceMs / 1000)} s ago has not returned (hung I/O)` };
      if (r.state === 'late') return { ok: false, detail: notInTime(dl.why(), timeoutMs, `reading ${pidFile}`) };
      text = r.value;
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if (code === 'ENOENT') return { ok: false, detail: `pid file ${pidFile} is missing` };
      return { ok: false, detail: `cannot read pid file ${pidFile}: ${errText(err)}` };
    } finally {
      dl.dispose();
    }
    // The first line: some daemons write more after it (sendmail: its command line).
    const first = text.slice(0, MAX_PID_FILE_BYTES).split('\n', 1)[0].trim();
    if (first === '') return { ok: false, detail: `pid file ${pidFile} is empty` };
    if (!/^\d+$/.test(first) || Number(first) < 1 || Number(first) > PID_MAX_LIMIT) {
      return { ok: false, detail: `pid file ${pidFile} does not hold a pid: ${JSON.stringify(first.slice(0, 40))}` };
    }
    const pid = Number(first);
    let stat;
    try {
      stat = readStat(pid);
    } catch (err) {
      return { ok: false, detail: `pid ${pid} from ${pidFile}: cannot read /proc/${pid}/stat: ${errText(err)}` };
    }
    if (stat === null) return { ok: false, detail: `pid ${pid} from ${pidFile}: no such process` };
    if (isDead(stat)) {
      return { ok: false, detail: `pid ${pid} from ${pidFile} is a zombie (exited, not reaped by its parent ${stat.ppid})` };
    }
    return { ok: true, detail: `pid ${pid} from ${pidFile} is running` };
  }
  return { check, close: () => {} };
}
