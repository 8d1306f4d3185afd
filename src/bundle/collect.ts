// `padmin collect-logs`: one tar.gz for support, like CLUSTERPRO's clplogcc — the log files,
// the state files, the configuration (ini secrets masked) and `padmin status --json`, below
// `procsafe-logs-HOST-YYYYMMDD-HHMMSS/` with each file at its absolute path, and a
// MANIFEST.txt saying what is in it and what was missing.
//
// Written in Node (zlib + the ustar writer of tar.ts), not by spawning tar: masked configs go
// in from memory (no unmasked or temporary copies on disk), names are exactly ours without
// GNU-only options (--transform), a live log is copied up to the size it had when opened
// (GNU tar fails with "file changed as we read it"), and nothing depends on which tar the
// server has. Files are streamed, so a large log costs no memory.
import { createWriteStream, promises as fsp } from 'node:fs';
import { hostname, release } from 'node:os';
import { basename, dirname, join, resolve } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { createGzip } from 'node:zlib';
import { DEFAULT_MASK_KEYS, looksLikeSecretFile, maskIni } from './mask';
import { headerBlocks, padding, trailer } from './tar';

export interface CollectOptions {
  /** the .tar.gz to write (replaced if it exists; written to a temporary name first) */
  out: string;
  /** log files, state files, configuration files (ini, pfile) */
  files: string[];
  /** `padmin status --json`, or null when no daemon answered */
  statusJson: string | null;
  /** ini keys whose values are masked; default /pass|secret|token|key/i (keys ending in _file/_path/_dir are kept) */
  maskKeys?: RegExp;
  /** for the names; default now and the short host name */
  now?: Date;
  host?: string;
  /** shown in the manifest, e.g. the procsafe version */
  version?: string;
}

export interface CollectResult {
  path: string;
  /** the names inside the archive, in order */
  entries: string[];
}

const pad = (n: number) => String(n).padStart(2, '0');

/** `procsafe-logs-web01-20261123-180001` (local time) */
export function bundleBaseName(host: string, now: Date): string {
  const h = host.split('.')[0].replace(/[^A-Za-z0-9_-]/g, '_') || 'localhost';
  const d = `${now.getFullYear()}${pad(now.getMonth() + 1)}${pad(now.getDate())}`;
  const t = `${pad(now.getHours())}${pad(now.getMinutes())}${pad(now.getSeconds())}`;
  return `procsafe-logs-${h}-${d}-${t}`;
}

/** The default output: DIR/procsafe-logs-HOST-YYYYMMDD-HHMMSS.tar.gz */
export function defaultBundlePath(dir: string, now = new Date(), host = hostname()): string {
  return join(dir, `${bundleBaseName(host, now)}.tar.gz`);
}

/**
 * A log file and its rotated siblings (`procsafe.log.1`, `procsafe.log.2.gz`,
 * `procsafe.log-20261122`, `procsafe.log-20261122.gz`), oldest rotation last.
 */
export async function withRotated(logFile: string): Promise<string[]> {
  const dir = dirname(logFile);
  const base = basename(logFile);
  let names: string[];
  try {
    names = await fsp.readdir(dir);
  } catch {
    return [logFile];
  }
  const esc = base.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  const rotated = new RegExp(`^${esc}(?:\\.\\d+|-\\d{8}(?:\\d{2})?)(?:\\.gz)?$`);
  const n = (s: string) => Number(/(\d+)(?:\.gz)?$/.exec(s)?.[1] ?? 0);
  const found = names.filter((x) => rotated.test(x));
  // .1 newest … .9 oldest; dated ones: the newest date first
  found.sort((a, b) => (/-\d{8}/.test(a) ? n(b) - n(a) : n(a) - n(b)));
  return [logFile, ...found.map((x) => join(dir, x))];
}

type Item =
  | { kind: 'file'; src: string; name: string }
  | { kind: 'data'; name: string; data: Buffer; mode: number; mtime: number };

interface Note {
  what: string;
  how: string;
}

function errText(e: unknown): string {
  const x = e as NodeJS.ErrnoException;
  if (x.code === 'ENOENT') return 'missing (no such file)';
  if (x.code === 'EACCES' || x.code === 'EPERM') return `not readable (${x.code}; run as root)`;
  return `not readable (${x.code ?? x.message})`;
}

const isConfig = (p: string) => /\.ini(\.sample)?$/i.test(p);

/** Writes the bundle; a missing or unreadable file is noted in MANIFEST.txt, not an error. */
export async function collectLogs(opts: CollectOptions): Promise<CollectResult> {
  const now = opts.now ?? new Date();
  const host = opts.host ?? hostname();
  const root = bundleBaseName(host, now);
  const out = resolve(opts.out);
  const included: Note[] = [];
  const left: Note[] = [];
  const items: Item[] = [];
  const seen = new Set<string>();

  for (const f of opts.files) {
    const abs = resolve(f);
    if (seen.has(abs)) continue;
    seen.add(abs);
    if (abs === out) continue;
    const name = `${root}${abs}`;
    if (looksLikeSecretFile(abs)) {
      left.push({ what: abs, how: 'left out: a secret itself (token or key file)' });
      continue;
    }
    try {
      const st = await fsp.stat(abs);
      if (!st.isFile()) {
        left.push({ what: abs, how: `left out: not a regular file${st.isDirectory() ? ' (a directory)' : ''}` });
        continue;
      }
      if (isConfig(abs)) {
        const { text, masked } = maskIni(await fsp.readFile(abs, 'utf8'), opts.maskKeys ?? DEFAULT_MASK_KEYS);
        const data = Buffer.from(text, 'utf8');
        items.push({ kind: 'data', name, data, mode: st.mode & 0o777, mtime: st.mtimeMs });
        included.push({ what: abs, how: `${data.length} bytes, ${masked.length === 0 ? 'no secrets found' : `masked: ${masked.join(', ')}`}` });
      } else {
        items.push({ kind: 'file', src: abs, name });
      }
    } catch (e) {
      left.push({ what: abs, how: errText(e) });
    }
  }
  if (opts.statusJson !== null) {
    const data = Buffer.from(opts.statusJson.endsWith('\n') ? opts.statusJson : `${opts.statusJson}\n`, 'utf8');
    items.push({ kind: 'data', name: `${root}/status.json`, data, mode: 0o600, mtime: now.getTime() });
    included.push({ what: 'status.json', how: `${data.length} bytes, padmin status --json` });
  } else {
    left.push({ what: 'status.json', how: 'missing: no daemon answered padmin status --json' });
  }

  const entries: string[] = [];
  async function* archive(): AsyncGenerator<Buffer> {
    for (const it of items) {
      if (it.kind === 'data') {
        yield* headerBlocks({ name: it.name, size: it.data.length, mode: it.mode, mtime: it.mtime });
        yield it.data;
        yield padding(it.data.length);
        entries.push(it.name);
        continue;
      }
      let fh: fsp.FileHandle;
      try {
        fh = await fsp.open(it.src, 'r');
      } catch (e) {
        left.push({ what: it.src, how: errText(e) });
        continue;
      }
      try {
        // the size it has now: a log that keeps growing is copied up to here
        const st = await fh.stat();
        const size = st.size;
        yield* headerBlocks({ name: it.name, size, mode: st.mode & 0o777, mtime: st.mtimeMs, uid: st.uid, gid: st.gid });
        let copied = 0;
        let problem = '';
        if (size > 0) {
          try {
            for await (const chunk of fh.createReadStream({ start: 0, end: size - 1, autoClose: false })) {
              const b = chunk as Buffer;
              const take = Math.min(b.length, size - copied);
              yield take === b.length ? b : b.subarray(0, take);
              copied += take;
              if (copied >= size) break;
            }
          } catch (e) {
            problem = `read error after ${copied} bytes (${(e as NodeJS.ErrnoException).code ?? (e as Error).message}); the rest is zeros`;
          }
          if (copied < size && problem === '') problem = `shrank from ${size} to ${copied} bytes while copied (rotated?); the rest is zeros`;
          // the header promised `size` bytes
          for (let rest = size - copied; rest > 0; rest -= Math.min(rest, 65536)) yield Buffer.alloc(Math.min(rest, 65536), 0);
        }
        yield padding(size);
        entries.push(it.name);
        included.push({ what: it.src, how: `${size} bytes${problem ? `, ${problem}` : ''}` });
      } finally {
        await fh.close().catch(() => undefined);
      }
    }
    const manifest = Buffer.from(manifestText(), 'utf8');
    const name = `${root}/MANIFEST.txt`;
    yield* headerBlocks({ name, size: manifest.length, mode: 0o600, mtime: now.getTime() });
    yield manifest;
    yield padding(manifest.length);
    entries.push(name);
    yield trailer();
  }

  function manifestText(): string {
    const lines = [
      'procsafe log bundle (padmin collect-logs)',
      `host:    ${host}`,
      `created: ${now.toISOString()}`,
      ...(opts.version ? [`version: procsafe ${opts.version}`] : []),
      `system:  Linux ${release()}, Node.js ${process.version}`,
      '',
      'Included (each below this directory at its absolute path):',
      ...(included.length === 0 ? ['  (nothing)'] : included.map((n) => `  ${n.what}: ${n.how}`)),
      '',
      'Not included:',
      ...(left.length === 0 ? ['  (nothing)'] : left.map((n) => `  ${n.what}: ${n.how}`)),
      '',
      'Secrets: values of ini keys like smtp_password, token, secret and the path of URLs are',
      'replaced by ********; token and key files are never included.',
    ];
    return lines.join('\n') + '\n';
  }

  const tmp = `${out}.tmp-${process.pid}`;
  try {
    await pipeline(archive, createGzip({ level: 6 }), createWriteStream(tmp, { mode: 0o600 }));
    await fsp.chmod(tmp, 0o600);
    await fsp.rename(tmp, out);
  } catch (e) {
    await fsp.unlink(tmp).catch(() => undefined);
    throw e;
  }
  return { path: out, entries };
}
