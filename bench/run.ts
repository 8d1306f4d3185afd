// `npm run bench`: "Heal in milliseconds at any scale" — procsafe (pidfd and poll death
// watch) against monit 5.33 and supervisord 4.2.5, side by side, in one run:
//   1. heal latency: SIGKILL a watched process → a NEW process with the same command line
//      exists, seen by polling /proc every 1 ms (not from logs); N = 10 and 100;
//   2. detection latency (kill → pcheck's `Down` line arriving on its stdout pipe), and
//      1,000 simultaneous kills;
//   3. idle cost (CPU % of one core and RSS of the supervisor's process tree) at N = 10,
//      100, 1,000, with and without 2,000 unrelated background processes;
//   4. the restart script's own run time, and `padmin show pent` against 1,000 entries.
// Prints a markdown report (stdout, and bench/results/latest.md) and writes every sample to
// bench/results/latest.json. Progress goes to stderr.
//
// The bench re-executes itself below bench/subreaper.c (compiled with cc on first use), a
// child subreaper that reaps adopted orphans at once; see docs/PERFORMANCE.md.
//
// Flags: --quick (smoke run: 10 kills, 5 s idle windows, N ≤ 100), --only procsafe|monit|
// supervisord, --idle-seconds N (default 30), --kills N (default 40), --n 10,100,1000, --seed N, --keep.
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { flags } from './cli';

const ROOT = join(__dirname, '..', '..');

// ---- below the subreaper -----------------------------------------------------------------

/** Compiles bench/subreaper.c into dist/bench/subreaper when missing or older; null without cc. */
function subreaperBinary(): string | null {
  const src = join(ROOT, 'bench', 'subreaper.c');
  const bin = join(__dirname, 'subreaper');
  if (existsSync(bin) && statSync(bin).mtimeMs >= statSync(src).mtimeMs) return bin;
  const r = spawnSync('cc', ['-O2', '-Wall', '-o', bin, src], { stdio: 'inherit' });
  return r.status === 0 ? bin : null;
}

const reexec = !process.env.PROCSAFE_BENCH_SUBREAPER && !flags['no-subreaper'] ? subreaperBinary() : null;
if (!process.env.PROCSAFE_BENCH_SUBREAPER && !flags['no-subreaper'] && reexec === null) {
  process.stderr.write('bench: cannot compile bench/subreaper.c (no cc?); running without a subreaper: orphans go to PID 1\n');
}

if (reexec !== null) {
  // The measuring bench runs below the subreaper; this process only waits for it.
  const child = spawn(reexec, [process.execPath, __filename, ...process.argv.slice(2)], { stdio: 'inherit' });
  for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) process.on(sig, () => child.kill(sig));
  child.on('exit', (code, sig) => process.exit(code ?? (sig ? 128 : 1)));
} else {
  void import('./bench.js').then((m) => m.runBench());
}
