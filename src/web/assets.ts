// The web page's static shell: src/web/assets/ (HTML, CSS, the script's modules, an icon), served as
// they are. No data is in them (the data comes from the JSON API and the live feed, with the
// token), and no inline script or style, so the Content-Security-Policy can be
// `default-src 'self'`. Read from the package at start (the compiled code is in dist/src/web/,
// the files stay in src/web/assets/, which the package ships).
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

export const ASSET_DIR = join(__dirname, '..', '..', '..', 'src', 'web', 'assets');

/** URL path → file in ASSET_DIR and its Content-Type. */
export const ASSETS: Readonly<Record<string, { file: string; type: string }>> = {
  '/': { file: 'index.html', type: 'text/html; charset=utf-8' },
  '/app.js': { file: 'app.js', type: 'text/javascript; charset=utf-8' },
  '/dom.js': { file: 'dom.js', type: 'text/javascript; charset=utf-8' },
  '/cards.js': { file: 'cards.js', type: 'text/javascript; charset=utf-8' },
  '/app.css': { file: 'app.css', type: 'text/css; charset=utf-8' },
  '/favicon.svg': { file: 'favicon.svg', type: 'image/svg+xml' },
};

let loaded: Map<string, { type: string; body: Buffer }> | null = null;

/** The page's files by URL path, read once. Throws, naming the file, when the package lacks one. */
export function pageAssets(): Map<string, { type: string; body: Buffer }> {
  if (loaded !== null) return loaded;
  const out = new Map<string, { type: string; body: Buffer }>();
  for (const [path, a] of Object.entries(ASSETS)) {
    const file = join(ASSET_DIR, a.file);
    try {
      out.set(path, { type: a.type, body: readFileSync(file) });
    } catch (e) {
      throw new Error(`the web page's file ${file} cannot be read (${(e as NodeJS.ErrnoException).code ?? String(e)}); procsafe is installed without src/web/assets/: reinstall it`, { cause: e });
    }
  }
  loaded = out;
  return out;
}
