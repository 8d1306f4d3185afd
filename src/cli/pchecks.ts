// The pchecks of this server, as `padmin list` shows them: every control socket in the run
// directory that answers `info` (its pfile, pid, IPCKEY). padmin also finds here the pcheck
// that runs a pfile whose IPCKEY was edited after pcheck started.
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { request } from '../control/client';
import { ipckeyOfSocketName } from '../control/protocol';
import { sameFile } from '../config/same-file';
import { ExitCode, ProcsafeError } from '../errors';

export interface PcheckInfo {
  pfile: string;
  pid: number;
  ipckey: string;
  entries: number;
  /** pidfd, or poll (the fallback: no native addon, or forced); absent from an older pcheck */
  deathWatch?: string;
  /** its control socket */
  socket: string;
}

/** Every pcheck that answers in `dir`; `denied`: sockets we may not open (not root). */
export async function runningPchecks(dir: string): Promise<{ found: PcheckInfo[]; denied: number }> {
  let names: string[] = [];
  try {
    names = readdirSync(dir).filter((n) => ipckeyOfSocketName(n) !== null).sort();
  } catch {
    /* no run directory: nothing runs */
  }
  const found: PcheckInfo[] = [];
  let denied = 0;
  for (const n of names) {
    const socket = join(dir, n);
    try {
      const r = await request(socket, { command: 'info' }, 2000);
      if (r.ok) found.push({ ...(r.data as Omit<PcheckInfo, 'socket'>), socket });
    } catch (e) {
      // a stale socket is skipped; one we may not open must not read as "nothing runs"
      if (e instanceof ProcsafeError && e.exitCode === ExitCode.FAILURE && /^permission denied/.test(e.message)) denied++;
    }
  }
  return { found, denied };
}

/** The running pcheck of `pfile` (compared by real path), or null. */
export async function pcheckOf(pfile: string, dir: string): Promise<PcheckInfo | null> {
  const { found } = await runningPchecks(dir);
  return found.find((p) => sameFile(p.pfile, pfile)) ?? null;
}
