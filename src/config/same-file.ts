// Whether two paths name the same file: the same string, or the same real path (a symlink,
// `..`, a bind of the directory). pcheck records the path it was given; padmin may be given
// another path to the same pfile.
import { realpathSync } from 'node:fs';

export function sameFile(a: string, b: string): boolean {
  if (a === b) return true;
  try {
    return realpathSync(a) === realpathSync(b);
  } catch {
    return false; // one of them is gone: not the same file any more
  }
}
