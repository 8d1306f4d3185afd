// Watches configuration files for changes. The directories are watched, not the files:
// editors and config tools save by writing a new file and renaming it over the old one,
// which a watch on the old inode would miss. fs.watch (inotify) is enough for a few
// files; chokidar 5 is ESM-only and would be the one module that forces an ESM build.
import { watch, type FSWatcher } from 'node:fs';
import { basename, dirname } from 'node:path';

const DEBOUNCE_MS = 300;

/** Calls onChange (debounced) when any of `files` is written, created, renamed or removed. */
export function watchFiles(files: string[], onChange: () => void): () => void {
  const byDir = new Map<string, Set<string>>();
  for (const f of files) {
    const d = dirname(f);
    if (!byDir.has(d)) byDir.set(d, new Set());
    byDir.get(d)!.add(basename(f));
  }
  let timer: NodeJS.Timeout | null = null;
  const fire = () => {
    if (timer) clearTimeout(timer);
    timer = setTimeout(() => {
      timer = null;
      onChange();
    }, DEBOUNCE_MS);
  };
  const watchers: FSWatcher[] = [];
  for (const [dir, names] of byDir) {
    try {
      const w = watch(dir, { persistent: false }, (_event, name) => {
        if (name === null || names.has(name.toString())) fire();
      });
      w.on('error', () => undefined); // the directory went away: nothing more to watch there
      watchers.push(w);
    } catch {
      /* a directory we cannot watch: SIGHUP and padmin reload still work */
    }
  }
  return () => {
    if (timer) clearTimeout(timer);
    for (const w of watchers) w.close();
  };
}
