// SPEC §10 "Escalation no faster than the configuration", with the real pcheck --config:
// after a group (re)start the monitor's next check waits `interval` (plus `start_wait`), so a
// service that needs 1.2 s to listen is not failed at once and the chain does not run to its
// final action; two monitors failing at once restart the group once, count it once and send
// one alert (docs/failsafe.md "Timing of checks" and "Two monitors, one restart").
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { FailsafeSandbox } from '../helpers/failsafe';
import { freePort, kill, pidsWhere, sleep, waitFor, type Pcheck } from '../helpers/harness';

/** `2026-12-06 07:43:29.687 pcheck[1]: …` → epoch ms of the line's local time stamp. */
const stampOf = (line: string): number => new Date(line.slice(0, 23).replace(' ', 'T')).getTime();

const INTERVAL = 3;
const LISTEN_DELAY_MS = 1200;

describe('after a group (re)start, the next check waits a whole interval', () => {
  const sb = new FailsafeSandbox();
  let pc: Pcheck;
  let port = 0;
  const figures: string[] = [];
  let spawnedAt = 0;

  before(async () => {
    port = await freePort();
    // a web service that takes 1.2 s before it listens (loading its configuration, warming a cache)
    const server = join(sb.dir, 'slow-server.js');
    writeFileSync(
      server,
      `const http = require('node:http');\nsetTimeout(() => http.createServer((q, s) => s.end('ok\\n')).listen(${port}, '127.0.0.1'), ${LISTEN_DELAY_MS});\n`,
    );
    // written as operators write them: nohup … &, no redirections
    const start = sb.script('start.sh', `cd ${sb.dir}\nnohup ${process.execPath} ${server} &\necho $! > ${sb.dir}/web.pid`);
    const stop = sb.script('stop.sh', `kill $(cat ${sb.dir}/web.pid)\nexit 0`);
    // the defaults otherwise: retries 0, start_wait 0
    sb.ini(
      `[group:web]\nstart = "${start}"\nstop = "${stop}"\n\n` +
        `[monitor:web-http]\ntype = http\nurl = http://127.0.0.1:${port}/\ntarget = web\ninterval = ${INTERVAL}\ntimeout = 2\nrestart_threshold = 3\nfinal_action = reboot\n`,
    );
    spawnedAt = Date.now();
    pc = sb.failsafe(['--rehearse']);
  });
  after(() => {
    if (process.env.PROCSAFE_FIGURES) process.stdout.write(figures.map((f) => `# ${f}\n`).join(''));
    sb.cleanup();
  });

  it('the first check comes an interval after the group is Online, and finds the service listening', async () => {
    const online = await pc.waitLine('Group web: Starting -> Online');
    const s = await sb.until('the first check', (v) => v.monitors[0].lastCheckAt !== null, 15_000);
    const m = s.monitors[0];
    const wait = m.lastCheckAt! - stampOf(online.text);
    figures.push(`pcheck started → group Online ${stampOf(online.text) - spawnedAt} ms; Online → first check ${wait} ms (interval ${INTERVAL * 1000} ms)`);
    assert.ok(wait >= INTERVAL * 1000 - 50, `first check ${wait} ms after Online`);
    assert.equal(m.status, 'Normal', m.detail);
    assert.equal(pc.count('restarting group'), 0);
    assert.equal(pc.count('final action'), 0);
  });

  it('a killed service: one group restart, then an interval before the next check; the chain does not reach the final action', async () => {
    const pid = Number(readFileSync(join(sb.dir, 'web.pid'), 'utf8'));
    const from = pc.lines.length;
    const killedAt = Date.now();
    kill(pid, 'SIGKILL');
    const restart = await pc.waitLine('restarting group web (group restart 1/3)', 15_000, from);
    const online = await pc.waitLine('Group web: Starting -> Online', 15_000, restart.index);
    const s = await sb.until('a check after the restart', (v) => (v.monitors[0].lastCheckAt ?? 0) > stampOf(online.text), 15_000);
    const wait = s.monitors[0].lastCheckAt! - stampOf(online.text);
    figures.push(`kill → group restart ${stampOf(restart.text) - killedAt} ms; restart → Online ${stampOf(online.text) - stampOf(restart.text)} ms; Online → next check ${wait} ms`);
    assert.ok(wait >= INTERVAL * 1000 - 50, `next check ${wait} ms after the restart`);
    assert.equal(s.monitors[0].status, 'Normal', s.monitors[0].detail);
    assert.equal(s.monitors[0].groupRestarts, 1);
    await sleep(INTERVAL * 1000);
    assert.equal(pc.count('restarting group web'), 1, 'one restart');
    assert.equal(pc.count('final action') + pc.count('REHEARSE'), 0, 'no final action');
    const pidNow = Number(readFileSync(join(sb.dir, 'web.pid'), 'utf8'));
    sb.track(pidNow);
  });

  it('SIGTERM stops the group and exits 0', async () => {
    kill(pc.pid, 'SIGTERM');
    assert.equal(await pc.exited, 0);
  });
});

describe('two monitors failing at once restart the group once, count it once, and send one alert', () => {
  const sb = new FailsafeSandbox();
  let hooks: { kind: string; subject: string }[] = [];
  let receiver: Server;

  before(async () => {
    receiver = createServer((req, res) => {
      let body = '';
      req.on('data', (d: Buffer) => (body += d.toString()));
      req.on('end', () => {
        const e = JSON.parse(body) as { kind: string; subject: string };
        hooks.push({ kind: e.kind, subject: e.subject });
        res.end();
      });
    });
    await new Promise<void>((r) => receiver.listen(0, '127.0.0.1', r));
  });
  after(() => {
    receiver.close();
    sb.cleanup();
  });

  it('the second failure sees the group already restarting: not counted, no alert', async () => {
    const broken = join(sb.dir, 'broken');
    const hold = join(sb.dir, 'hold');
    // while `hold` exists a check waits: both monitors' checks are then under way together,
    // and removing it makes both fail within milliseconds of each other
    const check = sb.script('check.sh', `while [ -e ${hold} ]; do sleep 0.02; done\n[ ! -e ${broken} ]`);
    const start = sb.script('start.sh', 'echo "start $PS_EVENT"');
    const stop = sb.script('stop.sh', `rm -f ${broken}`); // the restart repairs it
    const mon = (name: string) => `[monitor:${name}]\ntype = custom\ncommand = "${check}"\ntarget = app\ninterval = 1\ntimeout = 5\nrestart_threshold = 2\nfinal_action = reboot\n`;
    const port = (receiver.address() as { port: number }).port;
    sb.ini(
      `[group:app]\nstart = "${start}"\nstop = "${stop}"\n\n${mon('check-a')}\n${mon('check-b')}\n` +
        `[alert]\nwebhook_url = http://127.0.0.1:${port}/hook\nevents = group_restart,monitor_error,final_action\n`,
    );
    const pc = sb.failsafe(['--rehearse']);
    await sb.until('both monitors checked once', (s) => s.monitors.every((m) => m.lastCheckAt !== null && m.status === 'Normal'), 15_000);
    hooks = [];
    const from = pc.lines.length;
    writeFileSync(hold, '');
    // each monitor has begun its next check (interval 1 s) and waits: two check.sh processes
    await waitFor(() => pidsWhere((c) => c.includes(check)).length >= 2, 10_000, 'both checks waiting on the hold file', 20);
    writeFileSync(broken, '');
    rmSync(hold);
    const restart = await pc.waitLine('restarting group app (group restart 1/2)', 10_000, from);
    // the other monitor's failing check is either reported `failed while group app is Stopping:
    // not counted` or, when the restart comes first, cancelled with it: never counted either way
    const quiet = /Monitor check-a failed/.test(restart.text) ? 'check-b' : 'check-a';
    await pc.waitLine('Group app: Starting -> Online', 10_000, from);
    // a few more checks of both, all healthy
    await sleep(2500);
    const s = sb.status();
    assert.equal(s.groups[0].restarts, 1, `the group restarted once:\n${pc.lines.slice(from).map((l) => l.text).join('\n')}`);
    assert.deepEqual(s.monitors.map((m) => m.groupRestarts).sort(), [0, 1], 'counted by one monitor only');
    assert.equal(pc.lines.filter((l) => /pcheck\[\d+\]: Monitor check-[ab] failed .*: restarting group app/.test(l.text)).length, 1, 'one restart in the log');
    await waitFor(() => hooks.some((h) => h.kind === 'group_restart'), 5000, 'the group_restart alert');
    await sleep(300);
    assert.deepEqual(
      hooks.filter((h) => h.kind === 'group_restart').length,
      1,
      `one group_restart alert: ${JSON.stringify(hooks)}`,
    );
    assert.equal(hooks.filter((h) => h.subject === quiet).length, 0, `no alert from ${quiet}: ${JSON.stringify(hooks)}`);
    assert.equal(pc.count('final action'), 0);
    rmSync(broken, { force: true });
    kill(pc.pid, 'SIGTERM');
    assert.equal(await pc.exited, 0);
  });
});
