// The program file a process runs, as /proc/PID/exe names it. Pure; shared by the matcher,
// the scan index and the table's quick scans, which must all agree on it.

/** What /proc/PID/exe shows once the program file has been removed or replaced. */
export const DELETED_SUFFIX = ' (deleted)';

/** A file replaced on disk since the process started (a package upgrade renames the new file
 *  over it) shows as `PATH (deleted)`, and is still the program at PATH. */
export function programPath(exe: string): string {
  return exe.endsWith(DELETED_SUFFIX) ? exe.slice(0, -DELETED_SUFFIX.length) : exe;
}
