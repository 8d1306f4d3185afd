// Watches configuration files for changes. The directories are watched, not the files:
// editors and config tools save by writing a new file and renaming it over the old one,
// which a watch on the old inode would miss. fs.watch (inotify) is enough for a few
// files; chokidar 5 is ESM-only and would be the one module that forces an ESM build.
import { createHash } from 'node:crypto';
import { readFileSync, watch, type FSWatcher } from 'node:fs';
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

/** The ini file and its pfiles, watched: an edit reloads once the content really changed. */
export class ConfigWatch {
  private hash = '';
  private unwatch: (() => void) | null = null;

  constructor(
    private readonly files: () => string[],
    private readonly onChange: () => void,
  ) {}

  /** (Re)reads the files' content and watches them (at start, and after each reload). */
  arm(): void {
    this.hash = this.hashNow();
    this.unwatch?.();
    this.unwatch = watchFiles(this.files(), () => {
      if (this.hashNow() !== this.hash) this.onChange();
    });
  }

  stop(): void {
    this.unwatch?.();
    this.unwatch = null;
  }

  private hashNow(): string {
    const h = createHash('sha256');
    for (const f of this.files()) {
      try {
        h.update(f).update(readFileSync(f));
      } catch {
        h.update(`${f}: missing`);
      }
    }
    return h.digest('hex');
  }
}
