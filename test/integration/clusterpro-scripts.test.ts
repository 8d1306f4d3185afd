// SPEC §10 "Unchanged CLUSTERPRO scripts", with the real pcheck --config: the start.sh and
// stop.sh CLUSTERPRO generates (examples/failsafe/, copied as the demo copies them) run
// unchanged for start, restart and stop — CLP_EVENT=START for all three, PS_EVENT exact —
// and their clplogcmd calls land in pcheck's log at their level. clplogcmd also serves a
// pfile entry's restart script, and falls back to syslog (tag pcheck) with no pcheck.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { chmodSync, existsSync, readFileSync, readdirSync, realpathSync, writeFileSync } from 'node:fs';
import { get } from 'node:http';
import { join } from 'node:path';
import { FailsafeSandbox } from '../helpers/failsafe';
import { ROOT, Sandbox, freePort, kill, waitFor, type Pcheck } from '../helpers/harness';
import { startRsyslog, type Rsyslog } from '../helpers/rsyslog';

const CLPLOGCMD = join(ROOT, 'bin', 'clplogcmd');
/** stdout lines as systemd's journal gets them: `<N>` is the severity (3 err, 4 warning, 6 info). */
const JOURNAL = { JOURNAL_STREAM: '8:12345' };

/** examples/failsafe copied into the sandbox as `npm run demo:failsafe` copies it (and on a port of its own). */
function copyExample(sb: Sandbox, port: number): void {
  const src = join(ROOT, 'examples', 'failsafe');
  for (const name of readdirSync(src)) {
    const text = readFileSync(join(src, name), 'utf8')
      .replaceAll('@WORK_DIR@', sb.dir)
      .replaceAll('@NODE@', realpathSync(process.execPath))
      .replaceAll('18080', String(port));
    const out = join(sb.dir, name.replace(/\.in$/, ''));
    writeFileSync(out, text);
    if (name.endsWith('.sh')) chmodSync(out, 0o755);
  }
}

function httpStatus(port: number): Promise<number | null> {
  return new Promise((resolve) => {
    get({ host: '127.0.0.1', port, path: '/', timeout: 2000 }, (res) => {
      res.resume();
      resolve(res.statusCode ?? null);
    }).on('error', () => resolve(null));
  });
}

/** Waits until the web server answers 200 (the template starts it in the background). */
async function answers(port: number, ms = 5000): Promise<void> {
  const end = performance.now() + ms;
  while ((await httpStatus(port)) !== 200) {
    if (performance.now() > end) assert.fail(`nothing answers 200 on port ${port} after ${ms} ms`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

const webPid = (sb: Sandbox): number | null => {
  try {
    return Number(readFileSync(join(sb.dir, 'web.pid'), 'utf8'));
  } catch {
    return null;
  }
};
const alive = (pid: number): boolean => existsSync(`/proc/${pid}`) && !/^State:\s+Z/m.test(readFileSync(`/proc/${pid}/status`, 'utf8'));

describe("CLUSTERPRO's generated start.sh and stop.sh run unchanged (examples/failsafe)", () => {
  const sb = new FailsafeSandbox();
  let pc: Pcheck;
  let port = 0;

  before(async () => {
    port = await freePort();
    copyExample(sb, port);
    // the example's group web, with the template scripts as they are
    sb.ini(`[group:web]\nstart = "${join(sb.dir, 'start.sh')}"\nstop = "${join(sb.dir, 'stop.sh')}"\n`);
    pc = sb.failsafe(['--rehearse'], JOURNAL);
    await sb.until('group web Online', (s) => s.groups[0]?.state === 'Online');
  });
  after(() => sb.cleanup());

  it('start: the NORMAL branch runs (CLP_EVENT=START, CLP_DISK=SUCCESS, CLP_SERVER=HOME) and the web server answers', async () => {
    await pc.waitLine('Group web start: NORMAL2');
    await pc.waitLine('Group web start: EXIT');
    const pid = await waitFor(() => webPid(sb), 5000, 'web.pid');
    sb.track(pid);
    await answers(port);
    assert.equal(pc.count('NO_CLP'), 0);
  });

  it("clplogcmd -m MSG -l LEVEL writes MSG into pcheck's log at that level, naming the group", async () => {
    const line = await pc.waitLine('Group web clplogcmd: start.sh: starting the web server');
    assert.equal(line.text, '<6>Group web clplogcmd: start.sh: starting the web server', 'INFO is severity 6 (info)');
    const log = readFileSync(join(sb.dir, 'procsafe.log'), 'utf8');
    assert.match(log, /pcheck\[\d+\]: Group web clplogcmd: start\.sh: starting the web server\n/);
  });

  it('a group restart runs stop.sh and start.sh in their NORMAL branch: the web server is replaced', async () => {
    const before = webPid(sb)!;
    const from = pc.lines.length;
    const r = sb.admin('group', 'restart', 'web');
    assert.equal(r.code, 0, r.stderr);
    await pc.waitLine('Group web stop: NORMAL2', 10_000, from);
    await pc.waitLine('Group web clplogcmd: stop.sh: stopping the web server', 10_000, from);
    await pc.waitLine('Group web start: NORMAL2', 10_000, from);
    await pc.waitLine(/Group web: Starting -> Online/, 10_000, from);
    const after = await waitFor(() => (webPid(sb) !== before ? webPid(sb) : null), 5000, 'a new web.pid');
    sb.track(after);
    await waitFor(() => !alive(before), 5000, 'the old web server gone');
    await answers(port);
    assert.equal(pc.count('NO_CLP'), 0, 'no branch ran NO_CLP');
    assert.equal(pc.count('start failed') + pc.count('stop script failed'), 0);
  });

  it('SIGTERM stops the group through stop.sh (NORMAL branch): the web server is gone, pcheck exits 0', async () => {
    const pid = webPid(sb)!;
    kill(pc.pid, 'SIGTERM');
    assert.equal(await pc.exited, 0);
    assert.ok(pc.lines.some((l) => l.text.includes('Group web clplogcmd: stop.sh: stopping the web server')));
    assert.equal(pc.count('NO_CLP'), 0);
    await waitFor(() => !alive(pid), 5000, 'the web server stopped');
  });
});

describe('the environment of group scripts', () => {
  const sb = new FailsafeSandbox();
  after(() => sb.cleanup());

  it('PS_EVENT is START, RESTART or STOP while CLP_EVENT is START for all three', async () => {
    const show = 'echo "PS_EVENT=$PS_EVENT CLP_EVENT=$CLP_EVENT CLP_DISK=$CLP_DISK CLP_SERVER=$CLP_SERVER"';
    sb.ini(`[group:app]\nstart = "${sb.script('start.sh', show)}"\nstop = "${sb.script('stop.sh', show)}"\n`);
    const pc = sb.failsafe(['--rehearse']);
    await pc.waitLine('Group app start: PS_EVENT=START CLP_EVENT=START CLP_DISK=SUCCESS CLP_SERVER=HOME');
    await sb.until('app Online', (s) => s.groups[0].state === 'Online');
    assert.equal(sb.admin('group', 'restart', 'app').code, 0);
    await pc.waitLine('Group app stop: PS_EVENT=RESTART CLP_EVENT=START');
    await pc.waitLine('Group app start: PS_EVENT=RESTART CLP_EVENT=START');
    await sb.until('app Online', (s) => s.groups[0].state === 'Online' && s.groups[0].restarts === 1);
    kill(pc.pid, 'SIGTERM');
    assert.equal(await pc.exited, 0);
    assert.ok(pc.lines.some((l) => l.text.includes('Group app stop: PS_EVENT=STOP CLP_EVENT=START')));
  });

  it('an activation retry inside a restart runs with PS_EVENT=RESTART, as the restart it belongs to', async () => {
    const tried = join(sb.dir, 'tried');
    const start = sb.script('flaky-start.sh', `echo "start $PS_EVENT"\nif [ "$PS_EVENT" = RESTART ] && [ ! -e ${tried} ]; then touch ${tried}; echo "port busy"; exit 1; fi\nexit 0`);
    sb.ini(`[group:app]\nstart = "${start}"\nactivation_retries = 1\n`);
    const pc = sb.failsafe(['--rehearse']);
    const online = await pc.waitLine('Group app: Starting -> Online');
    const from = online.index + 1;
    assert.equal(sb.admin('group', 'restart', 'app').code, 0);
    const retry = await pc.waitLine('Group app: start failed (exit 1); activation retry 1/1', 10_000, from);
    await pc.waitLine('Group app: Starting -> Online', 10_000, retry.index);
    const starts = pc.lines.slice(from).filter((l) => l.text.includes('Group app start: start ')).map((l) => l.text.replace(/^.*Group app start: /, ''));
    assert.deepEqual(starts, ['start RESTART', 'start RESTART']);
    kill(pc.pid, 'SIGTERM');
    assert.equal(await pc.exited, 0);
  });
});

describe('clplogcmd from a pfile entry, by hand, and with no pcheck', () => {
  const sb = new Sandbox();
  let syslog: Rsyslog | null = null;
  after(async () => {
    await syslog?.stop();
    sb.cleanup();
  });

  it("from an entry's restart script (pcheck -f), the line goes to that pcheck's log, naming the entry", async () => {
    const svc = sb.service('app', {
      scriptBody: `clplogcmd -m "restarting after pid $PS_OLD_PID died" -l WARN\nsetsid bash -c 'exec -a "$0" sleep infinity' '${join(sb.dir, 'app')}' </dev/null >/dev/null 2>&1 &\n`,
    });
    const pfile = sb.pfile({ pents: [`${svc.pname}:${svc.script}:0:3:none`] });
    const first = await sb.startService(svc);
    const pc = sb.pcheck(pfile, [], JOURNAL);
    await pc.waitLine(`(${svc.pname} ,pid=${first}) Up`);
    kill(first, 'SIGKILL');
    const line = await pc.waitLine(`(${svc.pname}) clplogcmd: restarting after pid ${first} died`);
    assert.equal(line.text, `<4>(${svc.pname}) clplogcmd: restarting after pid ${first} died`, 'WARN is severity 4 (warning)');
    await pc.waitLine(/\) Up$/, 10_000, line.index);
    kill(pc.pid, 'SIGTERM');
    assert.equal(await pc.exited, 0);
  });

  it('with no pcheck answering, the line goes to syslog with the tag pcheck, at its level (logger)', async () => {
    syslog = await startRsyslog(sb.dir);
    const env = { PATH: process.env.PATH ?? '/usr/bin:/bin', PROCSAFE_SYSLOG_SOCKET: syslog.sock };
    const byHand = spawnSync(CLPLOGCMD, ['-m', 'start.sh run by hand', '-l', 'ERR'], { env, encoding: 'utf8' });
    assert.equal(byHand.status, 0, byHand.stderr);
    const gone = spawnSync(CLPLOGCMD, ['-m', '--- pcheck gone ---'], { env: { ...env, PS_SOCKET: join(sb.dir, 'no.sock'), PS_GROUP: 'web' }, encoding: 'utf8' });
    assert.equal(gone.status, 0, gone.stderr);
    const lines = await waitFor(
      () => {
        const text = existsSync(syslog!.out) ? readFileSync(syslog!.out, 'utf8') : '';
        return text.includes('pcheck gone') ? text : null;
      },
      5000,
      'the lines in syslog',
    );
    assert.match(lines, /^daemon\.err pcheck\[\d+\]: clplogcmd: start\.sh run by hand$/m);
    assert.match(lines, /^daemon\.info pcheck\[\d+\]: Group web clplogcmd: --- pcheck gone ---$/m);
  });

  it('bad usage exits 2 with a hint; nowhere to write exits 1 with the line on stderr', () => {
    const env = { PATH: process.env.PATH ?? '/usr/bin:/bin', PROCSAFE_SYSLOG_SOCKET: join(sb.dir, 'nothing-here.sock') };
    const noMessage = spawnSync(CLPLOGCMD, ['-l', 'INFO'], { env, encoding: 'utf8' });
    assert.equal(noMessage.status, 2);
    assert.match(noMessage.stderr, /give the message with -m MESSAGE/);
    const badLevel = spawnSync(CLPLOGCMD, ['-m', 'x', '-l', 'DEBUG'], { env, encoding: 'utf8' });
    assert.equal(badLevel.status, 2);
    assert.match(badLevel.stderr, /-l DEBUG: the level is one of ERR, WARN, INFO/);
    const nowhere = spawnSync(CLPLOGCMD, ['-m', 'lost line', '--alert', '-i', '12'], { env, encoding: 'utf8' });
    assert.equal(nowhere.status, 1);
    assert.match(nowhere.stderr, /clplogcmd: clplogcmd: lost line\n.*not written to procsafe's log \(PS_SOCKET is not set.*\) nor to syslog/);
  });
});
