// A server where the addon cannot load (no prebuild for its platform, nothing compiled):
// pcheck says so at start, with the cause and what it costs, shows the death watch in
// `padmin show param`, `padmin -c list`, their --json and systemd's STATUS=, still tells
// systemd READY=1 as its own pid (through systemd-notify), and heals with the /proc poll.
// Beside it the usual install, with the addon: pidfd everywhere, no warning.
import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { Receiver } from '../helpers/notify-receiver';
import { Sandbox, kill } from '../helpers/harness';

// node-gyp-build: PREBUILDS_ONLY skips native/build/Release, npm_config_arch stands for a
// machine no prebuild fits (what an arm64 or riscv64 server without a compiler gets)
const NO_ADDON = { PREBUILDS_ONLY: '1', npm_config_arch: 'riscv64' };

describe('the death watch and sd_notify, with and without the native addon', () => {
  const boxes: Sandbox[] = [];
  const receivers: Receiver[] = [];
  after(async () => {
    await Promise.all(receivers.map((r) => r.stop()));
    boxes.forEach((b) => b.cleanup());
  });

  async function start(extraEnv: Record<string, string>) {
    const sb = new Sandbox();
    boxes.push(sb);
    const svc = sb.service('svc');
    const pfile = sb.pfile({ pents: [`${svc.pname}:${svc.script}:60:3:none`] });
    const pid = await sb.startService(svc);
    const r = await Receiver.start(join(sb.dir, 'notify.sock'));
    receivers.push(r);
    // PROCSAFE_DEATH_WATCH cleared: the run of the suite with the poll forced must not decide it
    const env = { NOTIFY_SOCKET: r.address, WATCHDOG_USEC: '', WATCHDOG_PID: '', JOURNAL_STREAM: '', PROCSAFE_DEATH_WATCH: '', ...extraEnv };
    const pc = sb.pcheck(pfile, [], env);
    await pc.waitLine(`(${svc.pname} ,pid=${pid}) Up`);
    const ready = await r.waitFor((d) => d.head === 'READY=1', 'READY=1');
    return { sb, svc, pfile, pid, pc, r, ready };
  }

  it('without the addon: a warning at start names the cause and the cost; show param, list, --json and STATUS= say poll; READY=1 still comes from pcheck; a death is healed', async () => {
    const { sb, svc, pfile, pid, pc, ready } = await start(NO_ADDON);
    const warning = await pc.waitLine('native addon not loaded');
    assert.match(
      warning.text,
      /native addon not loaded \(no build or prebuild for platform=linux arch=riscv64 .*libc=glibc .*; compile one with procsafe-build-native\): deaths are noticed by polling \/proc every 20 ms, not by pidfd events; syslog goes through logger\(1\); sd_notify through systemd-notify\(1\), which needs root/,
    );
    await pc.waitLine('death watch: poll)');

    assert.equal(ready.pid, pc.pid, 'systemd-notify sent READY=1 as pcheck (NotifyAccess=main accepts it)');
    // systemd-notify adds MAINPID= with pcheck's pid (no change for systemd)
    assert.equal(ready.text, `MAINPID=${pc.pid}\nREADY=1\nSTATUS=watching 1 entry: 1 AVAIL; restarts: 0; death watch: poll`);

    const param = sb.padmin(pfile, 'show param');
    assert.equal(param.code, 0, param.stderr);
    assert.match(param.stdout, /^DEATH_WATCH {8}= poll \(native addon not loaded: no build or prebuild for platform=linux arch=riscv64 .*\)$/m);
    const pj = JSON.parse(sb.padmin(pfile, 'show param', ['--json']).stdout) as Record<string, unknown>;
    assert.equal(pj.deathWatch, 'poll');
    assert.match(String(pj.deathWatchReason), /^native addon not loaded: no build or prebuild/);
    assert.equal(pj.nativeAddon, null);

    const list = sb.padmin(null, 'list');
    assert.match(list.stdout, /^IPCKEY +PID +ENTRIES +DEATH_WATCH +PFILE$/m);
    assert.match(list.stdout, new RegExp(`^0x${sb.ipckey.toString(16)} +${pc.pid} +1 +poll +${pfile}$`, 'm'));
    const lj = JSON.parse(sb.padmin(null, 'list', ['--json']).stdout) as { pid: number; deathWatch: string }[];
    assert.deepEqual(lj.map((i) => [i.pid, i.deathWatch]), [[pc.pid, 'poll']]);

    const from = pc.lines.length;
    kill(pid, 'SIGKILL');
    await pc.waitLine(`Process [${svc.pname} , pid=${pid}] Down`, 10_000, from);
    const up = await pc.waitLine(/ ,pid=(\d+)\) Up/, 10_000, from);
    sb.track(Number(/pid=(\d+)/.exec(up.text)![1]));
    kill(pc.pid, 'SIGTERM');
    assert.equal(await pc.exited, 0);
  });

  it('with the addon: pidfd in show param, list, --json; no warning; READY=1 from pcheck; STATUS= as usual', async () => {
    const { sb, pfile, pc, ready } = await start({});
    await pc.waitLine('death watch: pidfd)');
    assert.equal(ready.pid, pc.pid);
    assert.equal(ready.text, 'READY=1\nSTATUS=watching 1 entry: 1 AVAIL; restarts: 0');
    assert.match(sb.padmin(pfile, 'show param').stdout, /^DEATH_WATCH {8}= pidfd$/m);
    const pj = JSON.parse(sb.padmin(pfile, 'show param', ['--json']).stdout) as Record<string, unknown>;
    assert.deepEqual([pj.deathWatch, pj.deathWatchReason], ['pidfd', null]);
    assert.match(String(pj.nativeAddon), /native\/(build\/Release\/procsafe_native|prebuilds\/linux-x64\/procsafe-native\.glibc)\.node$/);
    const lj = JSON.parse(sb.padmin(null, 'list', ['--json']).stdout) as { pid: number; deathWatch: string }[];
    assert.deepEqual(lj.map((i) => [i.pid, i.deathWatch]), [[pc.pid, 'pidfd']]);
    assert.equal(pc.count('native addon not loaded'), 0);
    kill(pc.pid, 'SIGTERM');
    assert.equal(await pc.exited, 0);
  });
});
