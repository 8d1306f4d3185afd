import { readFileSync } from 'node:fs';
import { join } from 'node:path';

let read: string | undefined;

/** The package version, read from package.json (dist/src → repo root) once, at the first call. */
export function version(): string {
  read ??= (JSON.parse(readFileSync(join(__dirname, '..', '..', 'package.json'), 'utf8')) as { version: string }).version;
  return read;
}
