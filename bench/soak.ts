// `npm run soak`: load and soak of a real pcheck — 1,000 entries, 10,000 unrelated processes
// in the table, 10,000 kill/heal cycles — with pcheck's RSS, fds, threads and CPU sampled
// throughout and every heal checked in its LOG_FILE and `padmin show pent`.
// Prints a markdown report and writes bench/results/soak-<UTC time>.json (and .md).
// Progress goes to stderr. Exits 1 when a kill was not healed or logged once, or pcheck grew.
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { nowMs } from './proc';
import { ROOT } from './suts';
import { passed, renderSoak, type SoakOptions } from './soak-report';
import { Soak } from './soak-run';

const USAGE = `Usage: npm run soak -- [--entries N] [--cycles N] [--background N] [--batch N] [--death-watch pidfd|poll]
  --entries N          pfile entries, each a distinct argv[0] (default 1000)
  --cycles N           kill/heal cycles (default 10000)
  --background N       unrelated sleep processes in the table (default 10000)
  --batch N            watched processes killed at once, distinct entries (default 10)
  --death-watch MODE   pidfd (default; the native pidfd watch) or poll (PROCSAFE_DEATH_WATCH=poll)
  --seed N             seed of the victims (default: time)
  --sample-every N     sample pcheck every N cycles (default 100), and at least every
  --sample-seconds S   S seconds (default 5)
  --warmup F           share of the cycles left out of the growth fit (default 0.1)
  --poll-ms N          /proc poll period while a batch heals (default 2)
  --settle-ms N        pause before each sample, after the batch's last Up line (default 200)
  --keep               keep the work directory (pcheck.log, the pfile) in /tmp
`;

const { values: f } = parseArgs({
  options: {
    entries: { type: 'string', default: '1000' },
    cycles: { type: 'string', default: '10000' },
    background: { type: 'string', default: '10000' },
    batch: { type: 'string', default: '10' },
    'death-watch': { type: 'string', default: 'pidfd' },
    seed: { type: 'string' },
    'sample-every': { type: 'string', default: '100' },
    'sample-seconds': { type: 'string', default: '5' },
    warmup: { type: 'string', default: '0.1' },
    'poll-ms': { type: 'string', default: '2' },
    'settle-ms': { type: 'string', default: '200' },
    keep: { type: 'boolean', default: false },
    help: { type: 'boolean', short: 'h', default: false },
  },
  strict: true,
});

function fail(msg: string): never {
  process.stderr.write(`soak: ${msg}\n${USAGE}`);
  process.exit(2);
}

if (f.help) {
  process.stdout.write(USAGE);
  process.exit(0);
}
function num(name: string, v: string | undefined, min: number, integer = true): number {
  const x = Number(v);
  if (!Number.isFinite(x) || x < min || (integer && !Number.isInteger(x))) fail(`--${name} must be ${integer ? 'an integer' : 'a number'} ≥ ${min}, not '${v}'`);
  return x;
}
const mode = f['death-watch'];
if (mode !== 'pidfd' && mode !== 'poll') fail(`--death-watch must be pidfd or poll, not '${mode}'`);
const options: SoakOptions = {
  entries: num('entries', f.entries, 1),
  cycles: num('cycles', f.cycles, 1),
  background: num('background', f.background, 0),
  batch: num('batch', f.batch, 1),
  deathWatch: mode,
  seed: f.seed === undefined ? Date.now() % 1e9 : num('seed', f.seed, 0),
  sampleEvery: num('sample-every', f['sample-every'], 1),
  sampleSeconds: num('sample-seconds', f['sample-seconds'], 0.1, false),
  warmup: num('warmup', f.warmup, 0, false),
  pollMs: num('poll-ms', f['poll-ms'], 1),
  settleMs: num('settle-ms', f['settle-ms'], 0),
  snapshot: true,
  keep: f.keep ?? false,
};
if (options.batch > options.entries) fail(`--batch (${options.batch}) cannot exceed --entries (${options.entries})`);
if (options.warmup >= 1) fail('--warmup is a share below 1');

const t0 = nowMs();
const say = (msg: string) => process.stderr.write(`[${((nowMs() - t0) / 1000).toFixed(0).padStart(5)}s] ${msg}\n`);
const command = `npm run soak${process.argv.length > 2 ? ' -- ' + process.argv.slice(2).join(' ') : ''}`;
const soak = new Soak(options, command, say);
say(`work dir ${soak.work}; seed ${options.seed}`);
for (const sig of ['SIGINT', 'SIGTERM'] as const) {
  process.on(sig, () => {
    say(`${sig}: killing what the soak started`);
    soak.abort();
    process.exit(130);
  });
}

void soak.run().then((r) => {
  const dir = join(ROOT, 'bench', 'results');
  mkdirSync(dir, { recursive: true });
  const base = join(dir, `soak-${r.startedAt.slice(0, 19).replace(/:/g, '')}Z`);
  const md = renderSoak(r);
  writeFileSync(`${base}.json`, JSON.stringify(r, null, 2) + '\n');
  writeFileSync(`${base}.md`, md);
  process.stdout.write(md);
  say(`done in ${(r.durationS / 60).toFixed(1)} min; ${base}.json and .md written`);
  process.exit(passed(r) ? 0 : 1);
});
