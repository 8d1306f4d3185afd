// What a reload of a pfile may change (both modes): anything but IPCKEY (padmin finds pcheck by
// it: restart pcheck to change it), and entries with retry_over_action `group` only where a
// FailSafe group holds the pfile. A pfile that fails to load is refused with its loader's error
// (file, line, what is wrong).
import type { Pfile } from '../../core/model';

/** Throws an Error saying why `next` cannot replace `cur`. */
export function checkPfileReload(cur: Pfile, next: Pfile, o: { groupAllowed: boolean }): void {
  if (next.param.ipckey !== cur.param.ipckey) {
    throw new Error(`${next.path}: IPCKEY changed from ${cur.param.ipckeyText} to ${next.param.ipckeyText}; restart pcheck to change it`);
  }
  const group = o.groupAllowed ? undefined : next.pents.find((p) => p.retryOverAction === 'group');
  if (group !== undefined) throw new Error(`line ${group.line}: retry_over_action group needs FailSafe mode (pcheck --config)`);
}
