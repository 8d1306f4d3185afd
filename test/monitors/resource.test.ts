import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { createProbe } from '../../src/monitors/index';
import type { Probe } from '../../src/monitors/types';
import { check, killPid, monitor } from './helpers';

const children: ChildProcess[] = [];
after(() => {
  for (const c of children) killPid(c.pid);
});

/** A process whose argv[0] is `name` (a unique string: no file needed) running `command`. */
function startNamed(name: string, command: string): ChildProcess {
  const c = spawn('bash', ['-c', `exec -a "$0" ${command}`, name], { stdio: 'ignore' });
  children.push(c);
  return c;
}

const unique = (what: string): string => `/procsafe-test/${what}-${process.pid}-${Math.random().toString(36).slice(2, 8)}`;
const pause = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Checks `n` times, `gapMs` apart (the daemon's interval, shortened). */
async function checks(p: Probe, n: number, gapMs = 300) {
  const out = [];
  for (let i = 0; i < n; i++) {
    if (i > 0) await pause(gapMs);
    out.push(await check(p));
  }
  return out;
}

describe('resource probe', () => {
  // The limit is low (10 %) so that a busy loop is over it even on a loaded CI machine.
  it('fails once a busy loop has been over cpu_percent for `samples` consecutive checks', async () => {
    const name = unique('busy');
    const c = startNamed(name, `bash -c 'while :; do :; done'`);
    await pause(100); // let bash exec into its new name
    const p = createProbe(monitor('resource', { pname: name, includeStrings: [], cpuPercent: 10, rssMb: null, samples: 3 }));
    try {
      const [first, second, third, fourth] = await checks(p, 4);
      assert.equal(first.ok, true, first.detail);
      assert.match(first.detail, new RegExp(`^pid ${c.pid} \\(${name}\\): cpu n/a \\(first sample\\), rss [\\d.]+ MiB$`));
      assert.equal(second.ok, true, second.detail);
      assert.match(second.detail, /cpu \d+\.\d% \(limit 10%, over 1\/3\)/);
      assert.equal(third.ok, true, third.detail);
      assert.match(third.detail, /over 2\/3/);
      assert.equal(fourth.ok, false, fourth.detail);
      assert.match(fourth.detail, /over 3\/3/);
      const pct = Number(/cpu ([\d.]+)%/.exec(fourth.detail)?.[1]);
      assert.ok(pct > 10 && pct < 130, fourth.detail);
    } finally {
      p.close();
    }
  });

  it('is ok for a sleeping process, with its cpu near 0', async () => {
    const name = unique('idle');
    startNamed(name, 'sleep 1000');
    await pause(100);
    const p = createProbe(monitor('resource', { pname: name, includeStrings: [], cpuPercent: 50, rssMb: 100, samples: 1 }));
    try {
      for (const r of await checks(p, 3, 200)) assert.equal(r.ok, true, r.detail);
      const last = await check(p);
      assert.match(last.detail, /cpu 0\.0% \(limit 50%\), rss [\d.]+ MiB \(limit 100 MiB\)$/);
    } finally {
      p.close();
    }
  });

  it('fails on rss_mb from the first check for a process holding 200 MiB, matched by include_strings', async () => {
    const marker = unique('rss');
    // node, not python: always there; the buffer is filled so that its pages are resident
    const c = spawn(process.execPath, ['-e', 'globalThis.b = Buffer.alloc(200 * 1024 * 1024, 1); console.log("ready"); setInterval(() => {}, 1e6);', marker], {
      stdio: ['ignore', 'pipe', 'ignore'],
    });
    children.push(c);
    await new Promise((resolve) => c.stdout?.once('data', resolve));
    const p = createProbe(monitor('resource', { pname: process.execPath, includeStrings: [marker], cpuPercent: null, rssMb: 100, samples: 1 }));
    try {
      const r = await check(p);
      assert.equal(r.ok, false, r.detail);
      assert.match(r.detail, new RegExp(`^pid ${c.pid} \\(.*\\[${marker}\\]\\): cpu .*, rss 2\\d\\d\\.\\d MiB \\(limit 100 MiB, over 1/1\\)$`));
    } finally {
      p.close();
    }
  });

  it('fails with a warning when no process matches, and starts afresh on a new one', async () => {
    const name = unique('later');
    const p = createProbe(monitor('resource', { pname: name, includeStrings: [], cpuPercent: 50, rssMb: null, samples: 1 }));
    try {
      const none = await check(p);
      assert.equal(none.ok, false);
      assert.equal(none.warning, true);
      assert.equal(none.detail, `no process matches ${name}`);

      startNamed(name, 'sleep 1000');
      await pause(100);
      const found = await check(p);
      assert.equal(found.ok, true, found.detail);
      assert.match(found.detail, /cpu n\/a \(first sample\)/);
    } finally {
      p.close();
    }
  });

  it('watches the oldest of several matching processes', async () => {
    const name = unique('pair');
    const older = startNamed(name, 'sleep 1000');
    await pause(50);
    startNamed(name, 'sleep 1000');
    await pause(100);
    const p = createProbe(monitor('resource', { pname: name, includeStrings: [], cpuPercent: null, rssMb: 100, samples: 1 }));
    try {
      const r = await check(p);
      assert.match(r.detail, new RegExp(`^pid ${older.pid} `));
    } finally {
      p.close();
    }
  });
});
