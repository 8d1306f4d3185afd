// `npm run demo`: pcheck heals a demo service while you watch. It writes the embedded demo
// pfile (examples/demo/demo.pfile.in) to a work directory, starts the service and pcheck,
// kills the service three times (healed each time) and a fourth time (retry-over: pcheck
// exits 1, as a cluster monitor would see it), showing `padmin -c 'show pent'` on the way
// and the measured times at the end.
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const ROOT = join(__dirname, '..', '..', '..');
const DEMO_DIR = join(ROOT, 'examples', 'demo');
const PNAME = join(DEMO_DIR, 'demo-service');
const keep = process.argv.includes('--keep');

const work = mkdtempSync(join(tmpdir(), 'procsafe-demo-'));
const env = { ...process.env, PROCSAFE_RUN_DIR: join(work, 'run') };
const pfile = join(work, 'demo.pfile');
writeFileSync(pfile, readFileSync(join(DEMO_DIR, 'demo.pfile.in'), 'utf8').replaceAll('@DEMO_DIR@', DEMO_DIR).replaceAll('@WORK_DIR@', work));

const say = (m: string) => process.stdout.write(`\x1b[1m>>> ${m}\x1b[0m\n`);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Pids of the demo service, read from /proc (argv[0] is its path). */
function servicePids(): number[] {
  const out: number[] = [];
  for (const d of readdirSync('/proc')) {
    if (!/^\d+$/.test(d)) continue;
    try {
      if (readFileSync(`/proc/${d}/cmdline`, 'latin1').split('\0')[0] !== PNAME) continue;
      if (/^State:\s+Z/m.test(readFileSync(`/proc/${d}/status`, 'latin1'))) continue;
      out.push(Number(d));
    } catch {
      /* gone */
    }
  }
  return out;
}

function padmin(command: string): void {
  say(`padmin -f ${pfile} -c '${command}'`);
  const r = spawnSync(process.execPath, [join(ROOT, 'bin', 'padmin'), '-f', pfile, '-c', command], { env, encoding: 'utf8' });
  process.stdout.write(r.stdout + r.stderr + '\n');
}

interface Round {
  down: number;
  up: number;
  seen: number;
}

async function main(): Promise<number> {
  say(`work directory ${work}; pfile:`);
  process.stdout.write(readFileSync(pfile, 'utf8') + '\n');
  spawnSync(join(DEMO_DIR, 'start-demo.sh'), { stdio: 'ignore' });
  say(`demo-service started, pid ${servicePids().join(', ')}; starting pcheck -f ${pfile}`);

  const pc = spawn(process.execPath, [join(ROOT, 'bin', 'pcheck'), '-f', pfile], { env, stdio: ['ignore', 'pipe', 'inherit'] });
  const lines: { at: number; text: string }[] = [];
  let buf = '';
  pc.stdout.setEncoding('utf8').on('data', (d: string) => {
    process.stdout.write(d);
    buf += d;
    let i;
    while ((i = buf.indexOf('\n')) >= 0) {
      lines.push({ at: performance.now(), text: buf.slice(0, i) });
      buf = buf.slice(i + 1);
    }
  });
  const exited = new Promise<number | null>((r) => pc.on('exit', (c) => r(c)));
  const waitLine = async (s: string, from: number) => {
    for (let i = 0; i < 1000; i++) {
      const hit = lines.slice(from).find((l) => l.text.includes(s));
      if (hit) return hit.at;
      await sleep(10);
    }
    throw new Error(`pcheck did not log "${s}"`);
  };

  await waitLine(') Up', 0);
  padmin('show pent');
  const rounds: Round[] = [];
  for (let round = 1; round <= 4; round++) {
    await sleep(1500);
    const [pid] = servicePids();
    const from = lines.length;
    say(`round ${round}: kill -9 ${pid}${round === 4 ? ' (retries used up: expect RETRY_OVER:EXIT)' : ''}`);
    const t = performance.now();
    process.kill(pid, 'SIGKILL');
    if (round === 4) break;
    let seen = 0;
    while (seen === 0) {
      if (servicePids().some((p) => p !== pid)) seen = performance.now() - t;
      else await sleep(1);
    }
    rounds.push({ down: (await waitLine('] Down', from)) - t, up: (await waitLine(') Up', from)) - t, seen });
    await sleep(100);
    padmin('show pent');
  }
  const code = await exited;
  say(`pcheck exited with code ${code} (1 = retry-over exit: a cluster monitor would now fail the group over)`);
  padmin('show pent');
  say('measured (kill -9 → ...):');
  process.stdout.write('| round | Down logged | Up logged | new process in /proc |\n|---|---|---|---|\n');
  rounds.forEach((r, i) => process.stdout.write(`| ${i + 1} | ${r.down.toFixed(1)} ms | ${r.up.toFixed(1)} ms | ${r.seen.toFixed(1)} ms |\n`));
  for (const p of servicePids()) process.kill(p, 'SIGKILL');
  if (keep) say(`kept ${work}`);
  else rmSync(work, { recursive: true, force: true });
  return code === 1 ? 0 : 1;
}

main().then(
  (c) => process.exit(c),
  (e: unknown) => {
    process.stderr.write(`demo failed: ${String(e)}\n`);
    for (const p of servicePids()) process.kill(p, 'SIGKILL');
    process.exit(1);
  },
);
