// The web page's files: read from the package at run time (src/web/assets/), so the package
// must ship them: an `npm pack` that left them out would start a daemon whose page is gone.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { relative } from 'node:path';
import { ASSET_DIR, ASSETS, pageAssets } from '../../src/web/assets';
import { ROOT } from '../helpers/harness';

describe('the web page files', () => {
  it('are all read, with their content types, and none is empty', () => {
    const assets = pageAssets();
    assert.deepEqual([...assets.keys()], ['/', '/app.js', '/dom.js', '/cards.js', '/app.css', '/favicon.svg']);
    for (const [path, a] of assets) assert.ok(a.body.length > 100, `${path} is ${a.body.length} bytes`);
    assert.match(assets.get('/')!.type, /^text\/html/);
  });

  it('are in the npm package (npm pack --dry-run), where the daemon looks for them', () => {
    const r = spawnSync('npm', ['pack', '--dry-run', '--json', '--ignore-scripts'], { cwd: ROOT, encoding: 'utf8', timeout: 120_000 });
    assert.equal(r.status, 0, r.stderr);
    const files = new Set((JSON.parse(r.stdout) as { files: { path: string }[] }[])[0].files.map((f) => f.path));
    const dir = relative(ROOT, ASSET_DIR);
    assert.equal(dir, 'src/web/assets');
    for (const a of Object.values(ASSETS)) assert.ok(files.has(`${dir}/${a.file}`), `the package lacks ${dir}/${a.file}: add "${dir}/" to "files" in package.json`);
  });
});
