// Command line of `npm run bench` (parsed by both the outer process and the measuring one).
import { parseArgs } from 'node:util';

// ---- command line ------------------------------------------------------------------------

export const { values: flags } = parseArgs({
  args: process.argv.slice(2),
  options: {
    quick: { type: 'boolean', default: false },
    only: { type: 'string' },
    'idle-seconds': { type: 'string' },
    kills: { type: 'string' },
    seed: { type: 'string' },
    n: { type: 'string' },
    keep: { type: 'boolean', default: false },
    diagnostics: { type: 'boolean', default: false },
    'no-subreaper': { type: 'boolean', default: false },
    help: { type: 'boolean', short: 'h', default: false },
  },
  strict: true,
});

export const USAGE = `Usage: npm run bench -- [--quick] [--only procsafe|monit|supervisord] [--idle-seconds N] [--kills N] [--seed N] [--keep]
  --quick            smoke run: 10 kills per row, 5 s idle windows, N up to 100
  --only WHICH       measure one supervisor only (procsafe, monit or supervisord)
  --idle-seconds N   length of each idle CPU window (default 30; 5 with --quick)
  --kills N          kills per heal row (default 40; 10 with --quick)
  --seed N           seed of the random victims and pauses (default: time)
  --n LIST           the N values, comma-separated (default 10,100,1000; 10,100 with --quick)
  --keep             keep the work directory in /tmp
  --diagnostics      also: the mass kill without SHM_DUMP_FILE (procsafe)
  --no-subreaper     do not re-execute below bench/subreaper (orphans then go to PID 1)
`;

if (flags.help) {
  process.stdout.write(USAGE);
  process.exit(0);
}

export const ONLY = flags.only ?? null;
if (ONLY !== null && !['procsafe', 'monit', 'supervisord'].includes(ONLY)) {
  process.stderr.write(`bench: --only must be procsafe, monit or supervisord\n${USAGE}`);
  process.exit(2);
}
export const QUICK = flags.quick ?? false;
export const IDLE_SECONDS = Number(flags['idle-seconds'] ?? (QUICK ? 5 : 30));
export const KILLS = Number(flags.kills ?? (QUICK ? 10 : 40));
export const SEED = Number(flags.seed ?? Date.now() % 1e9);
export const NS = (flags.n ?? (QUICK ? '10,100' : '10,100,1000')).split(',').map(Number);
if (NS.some((n) => !Number.isInteger(n) || n < 1)) {
  process.stderr.write('bench: --n takes positive integers separated by commas\n');
  process.exit(2);
}
export const HEAL_NS = [10, 100];
export const MASS_N = NS[NS.length - 1];
export const BACKGROUND = 2000;
export const MONIT30_KILLS = QUICK ? 3 : 5;
export const SCRIPT_RUNS = 20;
export const DIAGNOSTICS = flags.diagnostics ?? false;
/** kills of the one "bench not a subreaper" row (each waits ~1.5 s for PID 1 to reap). */
export const NOSR_KILLS = Math.min(KILLS, 20);
export const PADMIN_RUNS = 20;
for (const [k, v] of [['--idle-seconds', IDLE_SECONDS], ['--kills', KILLS], ['--seed', SEED]] as const) {
  if (!Number.isFinite(v) || v <= 0) {
    process.stderr.write(`bench: ${k} must be a positive number\n`);
    process.exit(2);
  }
}

export const wants = (what: 'procsafe' | 'monit' | 'supervisord') => ONLY === null || ONLY === what;

