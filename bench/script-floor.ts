// `node dist/bench/script-floor.js SCRIPT [N] [K] [--ballast MB]`: this machine's floor for a
// mass restart. Runs SCRIPT N times (default 1,000), at most K at once (default 32, pcheck's
// MAX_CONCURRENT_SCRIPTS), spawned as pcheck spawns a restart script (detached, output piped,
// PS_PNAME set), from a process that does nothing else; prints when every script had exited
// and when every process they started was in /proc. `--ballast MB` first grows this process's
// heap by MB (fork copies the page tables: a bigger parent forks slower, as pcheck does).
// SCRIPT must start a process whose argv[0] is $PS_PNAME (the bench's restart.sh, kept with
// `npm run bench -- --keep`). Kills what the scripts started, by pid. See docs/PERFORMANCE.md.
import { spawn } from 'node:child_process';
import { readFileSync, readdirSync } from 'node:fs';
import { nowMs } from './proc';

const args = process.argv.slice(2);
const ballastAt = args.indexOf('--ballast');
const ballastMb = ballastAt >= 0 ? Number(args.splice(ballastAt, 2)[1]) : 0;
const [script, nArg, kArg] = args;
if (script === undefined) {
  process.stderr.write('usage: node dist/bench/script-floor.js SCRIPT [N] [K] [--ballast MB]\n');
  process.exit(2);
}
const N = Number(nArg ?? 1000);
const K = Number(kArg ?? 32);
const tag = `psfloor${process.pid}-`;
// live objects, ~1 KB each: kept reachable until the end so that every fork copies them
const ballast = Array.from({ length: ballastMb * 1024 }, (_, i) => ({ i, s: 'x'.repeat(1000) + i }));

/** pids whose argv[0] carries this run's tag. */
function started(): number[] {
  const pids: number[] = [];
  for (const d of readdirSync('/proc')) {
    if (!/^\d+$/.test(d)) continue;
    try {
      if (readFileSync(`/proc/${d}/cmdline`, 'latin1').startsWith(tag)) pids.push(Number(d));
    } catch {
      /* gone */
    }
  }
  return pids;
}

const t0 = nowMs();
let next = 0;
let running = 0;
let exited = 0;
let spawnMs = 0;

function pump(): void {
  while (running < K && next < N) {
    const env = { PATH: '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin', PS_PNAME: `${tag}${next++}` };
    const s = nowMs();
    const child = spawn(script, [], { detached: true, env, stdio: ['ignore', 'pipe', 'pipe'] });
    spawnMs += nowMs() - s;
    running++;
    child.stdout.resume();
    child.stderr.resume();
    child.on('close', () => {
      running--;
      if (++exited === N) finish(nowMs() - t0);
      else pump();
    });
  }
}

function finish(allExited: number): void {
  const look = (): void => {
    const pids = started();
    if (pids.length < N && nowMs() - t0 < 60000) {
      setTimeout(look, 10);
      return;
    }
    const allThere = nowMs() - t0;
    for (const pid of pids) {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        /* gone */
      }
    }
    const rss = process.memoryUsage().rss / 2 ** 20;
    process.stdout.write(
      `${N} scripts, ${K} at a time, parent RSS ${rss.toFixed(0)} MB (ballast ${ballast.length > 0 ? ballastMb : 0} MB): ` +
        `all exited ${allExited.toFixed(0)} ms, all ${pids.length} processes in /proc ${allThere.toFixed(0)} ms; ` +
        `spawn() on the parent's loop ${(spawnMs / N).toFixed(2)} ms each, ${spawnMs.toFixed(0)} ms in all\n`,
    );
  };
  look();
}

pump();
