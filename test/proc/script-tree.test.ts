// killScriptTree with real processes: a script's group and session die, the adopted program
// and its children live.
import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { killScriptTree } from '../../src/proc/script-tree';
import { waitFor } from '../fixtures/proc/processes';

function field(pid: number, n: number): string | null {
  try {
    const line = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return line.slice(line.lastIndexOf(')') + 2).split(' ')[n - 3];
  } catch {
    return null;
  }
}
const alive = (pid: number) => field(pid, 3) !== null && field(pid, 3) !== 'Z';

describe('killScriptTree', () => {
  const pids: number[] = [];
  after(() => pids.forEach((p) => alive(p) && process.kill(p, 'SIGKILL')));

  it('kills the script and the helpers in its group and session, spares the adopted program and its child', async () => {
    // a detached script (its pid = group = session) starting: a program with a child, a helper
    // in the same group, a helper in a group of its own (same session); then it hangs
    const script = spawn(
      'bash',
      ['-c', '(sleep 1001 & exec sleep 1000) & echo $!; sleep 1002 & echo $!; set -m; sleep 1003 & echo $!; set +m; exec sleep 1004'],
      { detached: true, stdio: ['ignore', 'pipe', 'ignore'] },
    );
    const root = script.pid!;
    pids.push(root);
    let out = '';
    script.stdout.on('data', (d: Buffer) => (out += d.toString()));
    await waitFor('three pids', () => out.trim().split('\n').length === 3);
    const [program, helper, ownGroup] = out.trim().split('\n').map(Number);
    pids.push(program, helper, ownGroup);
    await waitFor('the program to fork its child', () => readFileSync(`/proc/${program}/task/${program}/children`, 'utf8').trim() !== '');
    const child = Number(readFileSync(`/proc/${program}/task/${program}/children`, 'utf8').trim());
    pids.push(child);
    assert.equal(Number(field(ownGroup, 5)), ownGroup, 'the helper leads its own group');
    assert.equal(Number(field(ownGroup, 6)), root, '... in the script\'s session');
    const r = killScriptTree(root, new Set([program]));
    assert.deepEqual(new Set(r.killed), new Set([root, helper, ownGroup]));
    assert.deepEqual(new Set(r.spared), new Set([program, child]));
    await waitFor('the killed ones to die', () => !alive(root) && !alive(helper) && !alive(ownGroup));
    assert.ok(alive(program) && alive(child), 'the program and its child live');
  });

  it('never signals pid 0, 1 or a negative id', () => {
    for (const bad of [0, 1, -5]) assert.deepEqual(killScriptTree(bad, new Set()), { killed: [], spared: [] });
  });
});
