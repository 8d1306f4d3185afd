// OS actions (shutdown, reboot, panic) as both daemons carry them out (SPEC §7): FATAL is logged
// and the state written by the caller first; with --rehearse they are recorded in the run
// directory's rehearse.log and logged `REHEARSE: would …` instead of done.
import { join } from 'node:path';
import type { OsAction } from '../../core/states';
import { runOsAction } from '../../exec/os-action';
import type { Logger } from '../../log/logger';

export interface OsActionContext {
  rehearse: boolean;
  runDir: string;
  log: Logger;
}

export const rehearseLogOf = (runDir: string): string => join(runDir, 'rehearse.log');

/** Does (or rehearses) `action`; never throws: a failure is logged at crit. */
export async function doOsAction(action: OsAction, c: OsActionContext): Promise<void> {
  try {
    const r = await runOsAction(action, { rehearse: c.rehearse, rehearseLog: rehearseLogOf(c.runDir) });
    if (r.rehearsed) c.log.notice(`REHEARSE: would ${action}: ${r.command}`);
  } catch (e) {
    c.log.crit(`OS action ${action} failed: ${(e as Error).message}`);
  }
}
