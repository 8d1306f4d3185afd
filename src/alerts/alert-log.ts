// The alert log: the last N events, in memory and in STATE_DIR/alerts.log (JSON lines,
// mode 0600), so that `padmin alerts` shows them, also after a restart of the daemon.
//
// Writes never block the event loop for long: each event is appended asynchronously (one
// write at a time, lines that arrive meanwhile go together in the next), and the file is
// rewritten from memory (temporary file + rename) once it holds twice `keep` lines. A hung
// or full disk therefore delays the file, never monitoring; a failed write is logged once.
import { chmodSync, promises as fsp, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { EVENT_KINDS, type ProcsafeEvent } from '../core/events';
import type { Logger } from '../log/logger';

export const ALERT_LOG_NAME = 'alerts.log';
export const DEFAULT_KEEP = 200;

const KINDS: ReadonlySet<string> = new Set(EVENT_KINDS);

/** One line of alerts.log, or null for a line that is not an event (a torn last line, garbage). */
export function parseAlertLine(line: string): ProcsafeEvent | null {
  if (line.trim() === '') return null;
  try {
    const o = JSON.parse(line) as Partial<ProcsafeEvent> | null;
    if (o === null || typeof o !== 'object') return null;
    if (typeof o.kind !== 'string' || !KINDS.has(o.kind) || typeof o.at !== 'number') return null;
    return {
      kind: o.kind,
      at: o.at,
      server: typeof o.server === 'string' ? o.server : '',
      subject: typeof o.subject === 'string' ? o.subject : '',
      message: typeof o.message === 'string' ? o.message : '',
      fields: o.fields !== null && typeof o.fields === 'object' ? o.fields : {},
    };
  } catch {
    return null;
  }
}

/**
 * Reads the alert log of a state directory (for `padmin alerts` when no daemon answers):
 * the last `n` events, oldest first; [] when there is no file.
 */
export function readAlertLog(stateDir: string, n = DEFAULT_KEEP): ProcsafeEvent[] {
  return readEvents(join(stateDir, ALERT_LOG_NAME)).events.slice(-Math.max(0, n));
}

function readEvents(path: string): { events: ProcsafeEvent[]; lines: number } {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return { events: [], lines: 0 };
    throw e;
  }
  const lines = text.split('\n').filter((l) => l !== '');
  const events: ProcsafeEvent[] = [];
  for (const l of lines) {
    const e = parseAlertLine(l);
    if (e !== null) events.push(e);
  }
  return { events, lines: lines.length };
}

export class AlertLog {
  readonly path: string | null;
  private readonly keep: number;
  private readonly log: Logger;
  private events: ProcsafeEvent[] = [];
  /** lines in the file (appended since the last rewrite included) */
  private fileLines = 0;
  private pending: string[] = [];
  private writing: Promise<void> | null = null;
  private failing = false;
  private needRewrite = false;

  constructor(stateDir: string | null, keep: number, log: Logger) {
    this.keep = Math.max(1, Math.floor(keep));
    this.log = log;
    this.path = stateDir === null ? null : join(stateDir, ALERT_LOG_NAME);
    if (this.path !== null) {
      try {
        const { events, lines } = readEvents(this.path);
        this.events = events.slice(-this.keep);
        this.fileLines = lines;
        try {
          chmodSync(this.path, 0o600);
        } catch {
          /* no file yet (appends create it 0600), or not ours to change */
        }
        // trim an oversized file, or one with garbage lines, at the first write
        this.needRewrite = lines > this.keep;
        if (this.needRewrite) this.kick();
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code !== 'ENOENT') {
          this.log.warning(`Alert log ${this.path}: cannot read it (${(e as Error).message}); starting a new one`);
          this.needRewrite = true;
        }
      }
    }
  }

  /** Throws (before keeping anything) for an event that JSON cannot write. */
  add(e: ProcsafeEvent): void {
    const line = JSON.stringify(e) + '\n';
    this.events.push(e);
    if (this.events.length > this.keep) this.events.splice(0, this.events.length - this.keep);
    if (this.path === null) return;
    this.pending.push(line);
    this.kick();
  }

  /** The last n events (all kept by default), oldest first. */
  recent(n?: number): ProcsafeEvent[] {
    if (n === undefined) return [...this.events];
    const k = Math.max(0, Math.floor(n));
    return k === 0 ? [] : this.events.slice(-k);
  }

  /** At close: the file is trimmed to the last `keep` events, then flushed. */
  async compact(): Promise<void> {
    await this.flush();
    if (this.path !== null && this.fileLines > this.events.length && !this.failing) {
      this.needRewrite = true;
      this.kick();
    }
    await this.flush();
  }

  /** Resolves when every event added so far is in the file (or its write failed). */
  async flush(): Promise<void> {
    while (this.writing !== null) await this.writing;
  }

  private kick(): void {
    if (this.writing !== null) return;
    this.writing = this.drain().finally(() => {
      this.writing = null;
      // lines (or a compact) that came while the last write finished; after a failure, the next event tries again
      if (this.pending.length > 0 || (this.needRewrite && !this.failing)) this.kick();
    });
  }

  private async drain(): Promise<void> {
    const path = this.path as string;
    while (this.pending.length > 0 || this.needRewrite) {
      const chunk = this.pending.splice(0);
      try {
        if (this.needRewrite || this.fileLines + chunk.length > 2 * this.keep) {
          // memory already holds the pending events: the new file is memory, taken now
          const text = this.events.map((e) => JSON.stringify(e) + '\n').join('');
          const tmp = `${path}.tmp-${process.pid}`;
          await fsp.writeFile(tmp, text, { mode: 0o600 });
          await fsp.chmod(tmp, 0o600);
          await fsp.rename(tmp, path);
          this.fileLines = this.events.length;
          this.needRewrite = false;
        } else {
          await fsp.appendFile(path, chunk.join(''), { mode: 0o600 });
          this.fileLines += chunk.length;
        }
        if (this.failing) this.log.notice(`Alert log ${path}: writing again`);
        this.failing = false;
      } catch (e) {
        // the events stay in memory; the next good write rewrites the file from there
        if (!this.failing) this.log.warning(`Alert log ${path}: write failed (${(e as Error).message}); alerts are kept in memory`);
        this.failing = true;
        this.needRewrite = true;
        return;
      }
    }
  }
}
