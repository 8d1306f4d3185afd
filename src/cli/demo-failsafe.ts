// `npm run demo:failsafe`: the example FailSafe stack (examples/failsafe) while you watch.
// Copies the folder to a work directory (replacing @WORK_DIR@ and @NODE@), runs
// `pcheck --config --rehearse` on it, and shows `padmin status` as procsafe first heals a
// killed web server in place (its pfile entry), then restarts group web when its HTTP
// monitor fails, then stops both groups in reverse order at SIGTERM.
import { spawn, spawnSync } from 'node:child_process';
import { chmodSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { get } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { realpathSync } from 'node:fs';

const ROOT = join(__dirname, '..', '..', '..');
const SRC = join(ROOT, 'examples', 'failsafe');
const work = mkdtempSync(join(tmpdir(), 'procsafe-failsafe-'));
const env = { ...process.env, PROCSAFE_RUN_DIR: join(work, 'run'), PROCSAFE_STATE_DIR: join(work, 'state') };
const say = (m: string) => process.stdout.write(`\x1b[1m>>> ${m}\x1b[0m\n`);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

for (const name of readdirSync(SRC)) {
  const text = readFileSync(join(SRC, name), 'utf8').replaceAll('@WORK_DIR@', work).replaceAll('@NODE@', realpathSync(process.execPath));
  const out = join(work, name.replace(/\.in$/, ''));
  writeFileSync(out, text);
  if (name.endsWith('.sh')) chmodSync(out, 0o755);
}

function padmin(...words: string[]): string {
  const r = spawnSync(process.execPath, [join(ROOT, 'bin', 'padmin'), ...words], { env, encoding: 'utf8' });
  return r.stdout + r.stderr;
}

function statusJson(): { groups: { name: string; state: string; restarts: number }[] } | null {
  try {
    return JSON.parse(padmin('status', '--json')) as { groups: { name: string; state: string; restarts: number }[] };
  } catch {
    return null;
  }
}

async function until(what: string, ok: () => boolean, ms = 30_000): Promise<void> {
  const end = Date.now() + ms;
  while (!ok()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await sleep(100);
  }
}

const httpGet = (path: string) =>
  new Promise<void>((resolve) => get({ host: '127.0.0.1', port: 18080, path }, (res) => res.resume().on('end', resolve)).on('error', () => resolve()));

async function main(): Promise<number> {
  say(`work directory ${work}; pcheck --config ${join(work, 'procsafe.ini')} --rehearse`);
  const pc = spawn(process.execPath, [join(ROOT, 'bin', 'pcheck'), '--config', join(work, 'procsafe.ini'), '--rehearse'], { env, stdio: ['ignore', 'inherit', 'inherit'] });
  const exited = new Promise<number | null>((r) => pc.on('exit', (c) => r(c)));
  await until('both groups Online', () => statusJson()?.groups.every((g) => g.state === 'Online') ?? false);
  await sleep(1500);
  say('padmin status');
  process.stdout.write(padmin('status') + '\n');

  const pid = Number(readFileSync(join(work, 'web.pid'), 'utf8'));
  say(`kill -9 ${pid} (the web server): its pfile entry restarts it in place`);
  process.kill(pid, 'SIGKILL');
  await sleep(2500);

  say('GET /break: the web server answers 500; monitor web-http fails four times and restarts group web');
  await httpGet('/break');
  await until('group web restarted', () => (statusJson()?.groups.find((g) => g.name === 'web')?.restarts ?? 0) >= 1);
  await until('group web Online', () => statusJson()?.groups.find((g) => g.name === 'web')?.state === 'Online');
  await sleep(2500);
  say('padmin status');
  process.stdout.write(padmin('status') + '\n');

  say('SIGTERM: groups stop in reverse order (web, then worker)');
  pc.kill('SIGTERM');
  const code = await exited;
  rmSync(work, { recursive: true, force: true });
  return code === 0 ? 0 : 1;
}

main().then(
  (c) => process.exit(c),
  (e: unknown) => {
    process.stderr.write(`demo failed: ${String(e)}\n`);
    process.exit(1);
  },
);
