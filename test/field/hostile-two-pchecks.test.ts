// Hostile probe (field suite): two pchecks, each with its own pfile (own IPCKEY, own state file),
// whose entries name the same program — an operator who copied a PENT line into a second pfile,
// or two teams' pfiles on one server. Each pcheck alone is right; together, after one kill,
// both run the restart script and two copies start. Expected: one copy.
// OPEN (see docs/RELIABILITY.md, "What the hostile operator's probe found"): this test fails.
import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { kill, sandboxes, sleep, waitFor } from '../helpers/harness';

describe('two pchecks whose pfiles watch the same program', () => {
  const { box, cleanup } = sandboxes();
  after(cleanup);

  it('a kill of the program is healed by one new copy, not one per pcheck', async () => {
    const a = box();
    const b = box();
    const svc = a.service('svc');
    const pfileA = a.pfile({ pents: [`${svc.pname}:${svc.script}:0:3:none`] });
    const pfileB = b.pfile({ pents: [`${svc.pname}:${svc.script}:0:3:none`] });
    const pid = await a.startService(svc);
    const pcA = a.pcheck(pfileA);
    const pcB = b.pcheck(pfileB);
    await pcA.waitLine(`(${svc.pname} ,pid=${pid}) Up`);
    await pcB.waitLine(`(${svc.pname} ,pid=${pid}) Up`);
    kill(pid, 'SIGKILL');
    await waitFor(() => a.showPent(pfileA)[0].proc_sts === 'AVAIL' && b.showPent(pfileB)[0].proc_sts === 'AVAIL', 10_000, 'both entries AVAIL again');
    await sleep(1000);
    const log = `pcheck A:\n${pcA.lines.map((l) => l.text).join('\n')}\npcheck B:\n${pcB.lines.map((l) => l.text).join('\n')}`;
    assert.equal(a.pidsOf(svc).length, 1, `copies running: ${a.pidsOf(svc).join(' ')}\n${log}`);
    kill(pcA.pid, 'SIGTERM');
    kill(pcB.pid, 'SIGTERM');
    await Promise.all([pcA.exited, pcB.exited]);
  });
});
