// The load-and-soak run of `npm run soak` (bench/soak-run.ts), small: 20 entries among 200
// unrelated processes, 200 kill/heal cycles in batches of 5, against the real pcheck. Keeps
// the soak code working, and asserts what the full run reports: every kill healed, logged
// once (Down, Try to restart, Up per entry, in order, in LOG_FILE), counted once in
// `padmin show pent`, no fd growth, and nothing left behind. RSS is sampled but not judged
// here: 200 cycles are still V8's warm-up.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { Soak } from '../../bench/soak-run';
import type { SoakOptions } from '../../bench/soak-report';

const deathWatch = process.env.PROCSAFE_DEATH_WATCH === 'poll' ? 'poll' : 'pidfd';

const options: SoakOptions = {
  entries: 20,
  cycles: 200,
  background: 200,
  batch: 5,
  deathWatch,
  seed: 7,
  sampleEvery: 20,
  sampleSeconds: 5,
  warmup: 0.1,
  pollMs: 2,
  settleMs: 100,
  snapshot: false,
  keep: false,
};

/** Live processes whose command line mentions `dir` (the soak's services and scripts). */
function processesUnder(dir: string): number[] {
  const out: number[] = [];
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    try {
      if (readFileSync(`/proc/${name}/cmdline`, 'latin1').includes(dir)) out.push(Number(name));
    } catch {
      /* gone */
    }
  }
  return out;
}

describe('soak (small)', () => {
  it('heals every kill, logs and counts each once, keeps its fds, and cleans up', { timeout: 90_000 }, async () => {
    const soak = new Soak(options, 'soak-smoke.test');
    const r = await soak.run();
    assert.deepEqual(r.errors, []);
    assert.equal(r.run.kills, 200);
    assert.equal(r.run.healed, 200);
    assert.equal(r.healMs.n, 200);
    assert.equal(r.upMs.n, 200, 'an Up line for every replacement');

    const l = r.logCheck;
    assert.ok(l);
    assert.deepEqual(l.mismatches, []);
    assert.equal(l.down, 200);
    assert.equal(l.tryRestart, 200);
    assert.equal(l.up, 220, '200 heals + 20 at start-up');
    assert.deepEqual([l.setPidFail, l.retryOver, l.other], [0, 0, 0], l.otherSamples.join(' | '));

    const s = r.stateCheck;
    assert.ok(s);
    assert.deepEqual(s.mismatches, []);
    assert.equal(s.restartCountSum, 200);

    const g = r.growth;
    assert.ok(g);
    assert.ok(r.samples.length >= 10, `${r.samples.length} samples`);
    assert.ok(g.fds.ok, `fds ${JSON.stringify(g.fds)}`);
    assert.deepEqual([g.watchFds.min, g.watchFds.max], [20, 20], 'one death-watch fd per watched process');
    assert.ok(g.rss.endKb > 0 && g.cpuSPer1000 > 0);

    assert.equal(existsSync(soak.work), false, 'work directory removed');
    assert.deepEqual(processesUnder(soak.work), [], 'no service left running');
  });
});
