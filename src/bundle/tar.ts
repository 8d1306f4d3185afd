// A small POSIX ustar writer (with pax headers for long names and huge sizes), enough for
// `padmin collect-logs`: regular files only, produced as a stream of 512-byte blocks.
const BLOCK = 512;

export interface TarHeader {
  /** path inside the archive, '/'-separated, no leading '/' */
  name: string;
  size: number;
  /** permission bits */
  mode: number;
  /** epoch ms */
  mtime: number;
  uid?: number;
  gid?: number;
  /** '0' a regular file (default), 'x' a pax extended header */
  type?: '0' | 'x';
}

function octal(buf: Buffer, off: number, len: number, value: number): void {
  // len - 1 octal digits then NUL
  buf.write(value.toString(8).padStart(len - 1, '0') + '\0', off, len, 'ascii');
}

const fitsOctal = (value: number, len: number) => value >= 0 && value < 8 ** (len - 1);

/** name/prefix split of ustar (name ≤ 100 bytes, prefix ≤ 155, split at a '/'), or null. */
function splitName(name: string): { name: string; prefix: string } | null {
  if (Buffer.byteLength(name) <= 100) return { name, prefix: '' };
  for (let i = name.indexOf('/'); i !== -1; i = name.indexOf('/', i + 1)) {
    const prefix = name.slice(0, i);
    const rest = name.slice(i + 1);
    if (Buffer.byteLength(prefix) <= 155 && Buffer.byteLength(rest) <= 100 && rest !== '') return { name: rest, prefix };
  }
  return null;
}

function ustarHeader(h: TarHeader, name: string, prefix: string): Buffer {
  const b = Buffer.alloc(BLOCK, 0);
  b.write(name, 0, 100, 'utf8');
  octal(b, 100, 8, h.mode & 0o7777);
  octal(b, 108, 8, fitsOctal(h.uid ?? 0, 8) ? (h.uid ?? 0) : 0);
  octal(b, 116, 8, fitsOctal(h.gid ?? 0, 8) ? (h.gid ?? 0) : 0);
  octal(b, 124, 12, fitsOctal(h.size, 12) ? h.size : 0);
  octal(b, 136, 12, Math.max(0, Math.floor(h.mtime / 1000)));
  b.write('        ', 148, 8, 'ascii'); // checksum field counts as spaces
  b.write(h.type ?? '0', 156, 1, 'ascii');
  b.write('ustar\0', 257, 6, 'ascii');
  b.write('00', 263, 2, 'ascii');
  b.write(prefix, 345, 155, 'utf8');
  let sum = 0;
  for (const byte of b) sum += byte;
  b.write(sum.toString(8).padStart(6, '0') + '\0 ', 148, 8, 'ascii');
  return b;
}

/** One pax record: `LEN key=value\n`, LEN counting itself. */
function paxRecord(key: string, value: string): string {
  const body = ` ${key}=${value}\n`;
  let len = Buffer.byteLength(body) + 1;
  while (String(len).length + Buffer.byteLength(body) !== len) len = String(len).length + Buffer.byteLength(body);
  return `${len}${body}`;
}

/** Zeros that round `size` up to whole blocks. */
export function padding(size: number): Buffer {
  const r = size % BLOCK;
  return Buffer.alloc(r === 0 ? 0 : BLOCK - r, 0);
}

/** The header block(s) of one file: a pax header first when the name or size does not fit ustar. */
export function headerBlocks(h: TarHeader): Buffer[] {
  const split = splitName(h.name);
  const records: string[] = [];
  if (split === null) records.push(paxRecord('path', h.name));
  if (!fitsOctal(h.size, 12)) records.push(paxRecord('size', String(h.size)));
  const out: Buffer[] = [];
  let name = split?.name ?? '';
  let prefix = split?.prefix ?? '';
  if (records.length > 0) {
    const data = Buffer.from(records.join(''), 'utf8');
    out.push(ustarHeader({ name: 'PaxHeader', size: data.length, mode: 0o644, mtime: h.mtime, type: 'x' }, 'PaxHeader', ''), data, padding(data.length));
    if (split === null) {
      // a readable fallback for readers without pax: the last 100 bytes' worth of the name
      name = h.name;
      while (Buffer.byteLength(name) > 100) name = name.slice(1);
      prefix = '';
    }
  }
  out.push(ustarHeader(h, name, prefix));
  return out;
}

/** The end of an archive: two zero blocks. */
export function trailer(): Buffer {
  return Buffer.alloc(2 * BLOCK, 0);
}
