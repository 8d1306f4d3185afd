// `node dist/bench/exec-race.js [RUNS]`: does the process table lose a process that one of
// its scans caught in the middle of execve()?
//
// Each run starts a service the way the bench's restart script does (setsid bash -c 'exec -a
// NAME sleep infinity'), scans /proc back to back for 15 ms while it execs, then scans again
// 30 ms later and checks that the settled process is in the table. A process caught between
// the kernel setting comm and arg_start and setting arg_end reads an empty cmdline; if the
// table caches that, the process stays invisible to every later scan (see docs/PERFORMANCE.md).
// Exits 1 when any run lost its process. Kills what it started, by pid.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createProcTable } from '../src/proc/proc-table';
import { nowMs } from './proc';

const runs = Number(process.argv[2] ?? 300);
const dir = mkdtempSync(join(tmpdir(), 'psrace-'));
const table = createProcTable();
const started: number[] = [];
let lost = 0;

function findReal(pname: string): number | null {
  for (const d of readdirSync('/proc')) {
    try {
      if (readFileSync(`/proc/${d}/cmdline`, 'latin1').startsWith(`${pname}\0`)) return Number(d);
    } catch {
      /* gone */
    }
  }
  return null;
}

try {
  for (let i = 0; i < runs; i++) {
    const pname = join(dir, `svc${i}`);
    spawnSync('bash', ['-c', `setsid bash -c 'exec -a "$0" sleep infinity' '${pname}' </dev/null >/dev/null 2>&1 &`]);
    const scanUntil = nowMs() + 15;
    while (nowMs() < scanUntil) table.scan();
    const settle = nowMs() + 30;
    while (nowMs() < settle) {
      /* let it finish exec'ing */
    }
    const seen = table.scan().some((p) => p.argv[0] === pname);
    const real = findReal(pname);
    if (real !== null) started.push(real);
    if (real !== null && !seen) {
      lost++;
      process.stdout.write(`run ${i + 1}: pid ${real} runs as ${pname} but the table does not list it\n`);
    }
  }
} finally {
  for (const pid of started) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      /* gone */
    }
  }
  rmSync(dir, { recursive: true, force: true });
}
process.stdout.write(`${lost} of ${runs} new processes invisible to later scans\n`);
process.exitCode = lost > 0 ? 1 : 0;
