// The arrows of docs/architecture.md, checked on the sources: every relative import of src/
// points down (the CLI uses the daemon, the daemon uses the edges and the core, the core uses
// nothing). A tiny madge: reads `from '…'` of each file.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';

const SRC = join(__dirname, '..', '..', '..', 'src');

function sources(dir: string): string[] {
  const out: string[] = [];
  for (const name of readdirSync(dir)) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) out.push(...sources(p));
    else if (name.endsWith('.ts') && !name.endsWith('.d.ts')) out.push(p);
  }
  return out;
}

/** The top folder of src/ a file lives in (`core`, `daemon`, …), or the file for src/*.ts. */
const layerOf = (file: string): string => relative(SRC, file).split('/')[0].replace(/\.ts$/, '');

/** Relative imports of `file`, resolved to files under src/. */
function importsOf(file: string): string[] {
  const text = readFileSync(file, 'utf8');
  const out: string[] = [];
  for (const m of text.matchAll(/(?:^|\n)\s*(?:import|export)\b[^;]*?from\s+'(\.[^']+)'/g)) out.push(resolve(dirname(file), m[1]) + '.ts');
  for (const m of text.matchAll(/import\('(\.[^']+?)(?:\.js)?'\)/g)) out.push(resolve(dirname(file), m[1]) + '.ts');
  return out;
}

/** Which layers each layer may import (besides itself). Edges are the folders around the core. */
const EDGES = ['config', 'proc', 'exec', 'state', 'control', 'log', 'monitors', 'alerts', 'systemd', 'native', 'bundle'];
const BASE = ['core', 'views', 'errors', 'version'];
const ALLOWED: Record<string, string[]> = {
  core: [],
  errors: [],
  version: [],
  views: ['core'],
  ...Object.fromEntries(EDGES.map((e) => [e, [...BASE, ...EDGES]])),
  web: [...BASE, ...EDGES],
  daemon: [...BASE, ...EDGES, 'web'],
  cli: [...BASE, ...EDGES, 'web', 'daemon'],
};

describe('the import structure of src/', () => {
  const files = sources(SRC);

  it('every import points down: core imports nothing, views only core, web and the edges never the daemon or the CLI', () => {
    const wrong: string[] = [];
    for (const f of files) {
      const from = layerOf(f);
      const allowed = ALLOWED[from];
      assert.ok(allowed !== undefined, `src/${from} is in no layer of this test: add it to ALLOWED`);
      for (const target of importsOf(f)) {
        if (relative(SRC, target).startsWith('..')) continue; // outside src/ (the cluster demo's lab)
        const to = layerOf(target);
        if (to !== from && !allowed.includes(to)) wrong.push(`${relative(SRC, f)} → ${relative(SRC, target)}`);
      }
    }
    assert.deepEqual(wrong, []);
  });

  it('the rooms of the daemon point down too: shared ← entries ← pfile ← failsafe', () => {
    const ROOMS: Record<string, string[]> = { shared: [], entries: ['shared'], pfile: ['entries', 'shared'], failsafe: ['pfile', 'entries', 'shared'] };
    const DAEMON = join(SRC, 'daemon');
    const roomOf = (f: string): string => relative(DAEMON, f).split('/')[0];
    const wrong: string[] = [];
    for (const f of files.filter((x) => layerOf(x) === 'daemon')) {
      const from = roomOf(f);
      assert.ok(ROOMS[from] !== undefined, `src/daemon/${from} is in no room of this test: add it to ROOMS`);
      for (const target of importsOf(f)) {
        if (layerOf(target) !== 'daemon') continue;
        const to = roomOf(target);
        if (to !== from && !ROOMS[from].includes(to)) wrong.push(`${relative(SRC, f)} → ${relative(SRC, target)}`);
      }
    }
    assert.deepEqual(wrong, []);
  });

  it('no file of the daemon is over 400 lines (a room that grows is split)', () => {
    const long = files
      .filter((f) => layerOf(f) === 'daemon')
      .map((f) => [relative(SRC, f), readFileSync(f, 'utf8').split('\n').length - 1] as const)
      .filter(([, n]) => n > 400);
    assert.deepEqual(long, []);
  });
});
