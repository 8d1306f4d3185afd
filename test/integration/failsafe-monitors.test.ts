// Every FailSafe monitor type against the real thing, through the real pcheck --config:
// normal → failure → `retries + 1` failures → the target group restarted (its stop then
// start script) → normal again. Each case breaks its target in a way the group's start
// script repairs, as an operator's start script would.
import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { FailsafeSandbox } from '../helpers/failsafe';
import { kill, sleep, type Pcheck } from '../helpers/harness';

const NODE = process.execPath;

interface Case {
  type: string;
  /** the type-specific monitor keys */
  keys: (dir: string) => string;
  /** start script body: (re)creates a healthy target */
  start: (dir: string) => string;
  /** stop script body */
  stop: (dir: string) => string;
  /** breaks the target */
  breakIt: (sb: FailsafeSandbox, pc: Pcheck) => Promise<void> | void;
  /** extra set-up and tear-down (network namespaces) */
  setup?: () => void;
  teardown?: () => void;
  /** the monitor's own keys that differ from the defaults below */
  extra?: string;
}

const sh = (cmd: string) => {
  const r = spawnSync('bash', ['-c', cmd], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`${cmd}: ${r.stderr}`);
};
const killPidFile = (dir: string, name: string) => `[ -f ${dir}/${name}.pid ] && kill -9 $(cat ${dir}/${name}.pid) 2>/dev/null; rm -f ${dir}/${name}.pid`;
const daemon = (dir: string, name: string, argv: string) => `setsid ${argv} </dev/null >/dev/null 2>&1 & echo $! > ${dir}/${name}.pid`;

const HTTP_JS = `const fs=require('fs');require('http').createServer((q,s)=>{const b=fs.existsSync(process.argv[2]+'/broken');s.writeHead(b?500:200);s.end(b?'broken':'ok');}).listen(+process.argv[1],'127.0.0.1')`;
const TCP_JS = `require('net').createServer((c)=>c.end()).listen(+process.argv[1],'127.0.0.1')`;
let port = 20000 + (process.pid % 20000);
const ns = `ps${process.pid % 100000}`;
// a link-local /30 of our own (the machine's eth0 may hold any TEST-NET address); checked
// with `ip route get` to go through our veth before any ping
const net = `169.254.${(process.pid % 250) + 1}`;
const HOST_ADDR = `${net}.5`;
const PEER_ADDR = `${net}.6`;
const vethA = `psa${process.pid % 100000}`;
const vethB = `psb${process.pid % 100000}`;

const cases: Case[] = [
  {
    type: 'http',
    keys: () => `url = http://127.0.0.1:${port}/`,
    start: (d) => `rm -f ${d}/broken\n${daemon(d, 'svc', `${NODE} -e "${HTTP_JS}" ${port} ${d}`)}\nsleep 0.3`,
    stop: (d) => killPidFile(d, 'svc'),
    breakIt: (sb) => sh(`touch ${sb.dir}/broken`),
  },
  {
    type: 'tcp',
    keys: () => `host = 127.0.0.1\nport = ${port}`,
    start: (d) => `${daemon(d, 'svc', `${NODE} -e "${TCP_JS}" ${port}`)}\nsleep 0.3`,
    stop: (d) => killPidFile(d, 'svc'),
    breakIt: (sb) => sh(`kill -9 $(cat ${sb.dir}/svc.pid)`),
  },
  {
    type: 'pid',
    keys: (d) => `pid_file = ${d}/svc.pid`,
    start: (d) => daemon(d, 'svc', 'sleep 1000'),
    stop: (d) => killPidFile(d, 'svc'),
    breakIt: (sb) => sh(`kill -9 $(cat ${sb.dir}/svc.pid)`),
  },
  {
    type: 'disk',
    keys: (d) => `write_dir = ${d}/data`,
    start: (d) => `rm -rf ${d}/data; mkdir ${d}/data`,
    stop: () => 'true',
    breakIt: (sb) => sh(`rm -rf ${sb.dir}/data; touch ${sb.dir}/data`),
  },
  {
    type: 'custom',
    keys: (d) => `command = "${d}/check.sh"\nmode = sync`,
    start: (d) => `rm -f ${d}/broken`,
    stop: () => 'true',
    breakIt: (sb) => sh(`touch ${sb.dir}/broken`),
  },
  {
    type: 'custom',
    extra: 'async',
    keys: (d) => `command = "${d}/watch.sh"\nmode = async`,
    start: (d) => `rm -f ${d}/broken`,
    stop: () => 'true',
    breakIt: (sb) => sh(`touch ${sb.dir}/broken`),
  },
  {
    type: 'resource',
    keys: (d) => `pname = ${d}/busy\ncpu_percent = 50\nsamples = 2`,
    start: (d) => `rm -f ${d}/hot\n${daemon(d, 'svc', `bash -c 'exec -a "$0" bash -c "while :; do if [ -e ${d}/hot ]; then :; else sleep 0.1; fi; done"' ${d}/busy`)}`,
    stop: (d) => `rm -f ${d}/hot; ${killPidFile(d, 'svc')}`,
    breakIt: (sb) => sh(`touch ${sb.dir}/hot`),
  },
  {
    type: 'stall',
    keys: () => 'max_delay_ms = 300',
    start: () => 'true',
    stop: () => 'true',
    // a wedged supervisor: SIGSTOP for a second, as a hung disk or a swap storm would, and
    // again until the monitor has failed twice in a row (the second stop must come before the
    // next check, 0.3 s after the resume: a busy host may miss that once, so repeat)
    breakIt: async (_sb, pc) => {
      for (let i = 0; i < 10 && pc.count('restarting group app') === 0; i++) {
        kill(pc.pid, 'SIGSTOP');
        await sleep(1000);
        kill(pc.pid, 'SIGCONT');
        await sleep(100);
      }
    },
  },
  {
    type: 'ping',
    keys: () => `host = ${PEER_ADDR}`,
    setup: () => veth(),
    teardown: () => unveth(),
    start: () => `ip netns exec ${ns} ip link set ${vethB} up`,
    stop: () => 'true',
    breakIt: () => sh(`ip netns exec ${ns} ip link set ${vethB} down`),
  },
  {
    type: 'nic',
    keys: () => `interface = ${vethA}`,
    setup: () => veth(),
    teardown: () => unveth(),
    start: () => `ip netns exec ${ns} ip link set ${vethB} up`,
    stop: () => 'true',
    breakIt: () => sh(`ip netns exec ${ns} ip link set ${vethB} down`),
  },
];

/** A veth pair: vethA on the host (HOST_ADDR/30), vethB in our own namespace (PEER_ADDR/30). */
function veth(): void {
  unveth();
  sh(`ip netns add ${ns}`);
  sh(`ip link add ${vethA} type veth peer name ${vethB}`);
  sh(`ip link set ${vethB} netns ${ns}`);
  sh(`ip addr add ${HOST_ADDR}/30 dev ${vethA} && ip link set ${vethA} up`);
  sh(`ip netns exec ${ns} ip addr add ${PEER_ADDR}/30 dev ${vethB} && ip netns exec ${ns} ip link set ${vethB} up && ip netns exec ${ns} ip link set lo up`);
  const route = spawnSync('ip', ['route', 'get', PEER_ADDR], { encoding: 'utf8' }).stdout;
  if (!route.includes(`dev ${vethA}`)) throw new Error(`the route to ${PEER_ADDR} does not go through ${vethA}: ${route}`);
}
function unveth(): void {
  spawnSync('ip', ['link', 'del', vethA]);
  spawnSync('ip', ['netns', 'del', ns]);
}

for (const c of cases) {
  const name = `${c.type}${c.extra ? `-${c.extra}` : ''}`;
  describe(`monitor type ${name}`, () => {
    const sb = new FailsafeSandbox();
    after(() => {
      c.teardown?.();
      sb.cleanup();
    });

    it('normal → failure → group restart → back to normal', async () => {
      port++;
      c.setup?.();
      const d = sb.dir;
      sb.script('watch.sh', `while [ ! -e ${d}/broken ]; do sleep 0.1; done; echo broken; exit 3`);
      sb.script('check.sh', `[ ! -e ${d}/broken ]`);
      const start = sb.script('start.sh', `echo "start $PS_EVENT"\n${c.start(d)}`);
      const stop = sb.script('stop.sh', `echo "stop $PS_EVENT"\n${c.stop(d)}`);
      sb.ini(
        `[group:app]\nstart = "${start}"\nstop = "${stop}"\n\n` +
          `[monitor:m]\ntype = ${c.type}\n${c.keys(d)}\ntarget = app\ninterval = 0.3\ntimeout = 1\nretries = 1\nrestart_threshold = 5\ngrace = 3600\n`,
      );
      const pc = sb.failsafe();
      await sb.until('the monitor to be Normal after a check', (s) => s.monitors[0].status === 'Normal' && s.monitors[0].lastCheckAt !== null);
      assert.equal(sb.group('app').state, 'Online');
      const t = Date.now();
      await c.breakIt(sb, pc);
      await pc.waitLine(/Monitor m failed 2 times: restarting group app \(group restart 1\/5\)/, 20_000);
      await pc.waitLine('Group app stop: stop RESTART', 10_000);
      await pc.waitLine('Group app start: start RESTART', 10_000);
      const s = await sb.until('Normal again after the group restart', (v) => v.monitors[0].status === 'Normal' && v.groups[0].state === 'Online' && v.groups[0].restarts >= 1, 20_000);
      assert.equal(s.monitors[0].groupRestarts >= 1, true);
      process.stdout.write(`# ${name}: broken → Normal again in ${Date.now() - t} ms\n`);
      kill(pc.pid, 'SIGTERM');
      assert.equal(await pc.exited, 0);
      await pc.waitLine('Group app stop: stop STOP');
    });
  });
}

describe('monitor type process (a pfile whose entries live in the group)', () => {
  const sb = new FailsafeSandbox();
  after(() => sb.cleanup());

  it('a retry-over `group` of an entry restarts the group, whose start script brings the process back', async () => {
    const svc = sb.service();
    const start = sb.script('start.sh', `echo "start $PS_EVENT"\n${svc.script}`);
    const stop = sb.script('stop.sh', `echo "stop $PS_EVENT"\nfor p in $(pgrep -x -f '${svc.pname} infinity'); do kill -9 $p; done; true`);
    const pfile = sb.pfile({ param: { INITIAL_WAIT: 2 }, pents: [`${svc.pname}:${svc.script}:0:0:group`] });
    sb.ini(`[group:app]\nstart = "${start}"\nstop = "${stop}"\npfile = ${pfile}\n`);
    const pc = sb.failsafe();
    const up = await pc.waitLine(`(${svc.pname} ,pid=`);
    const pid = Number(/pid=(\d+)/.exec(up.text)![1]);
    kill(pid, 'SIGKILL');
    await pc.waitLine(`(${svc.pname}) RETRY_OVER:GROUP`);
    await pc.waitLine('Monitor app-pfile failed 1 times: restarting group app (group restart 1/1)');
    const again = await pc.waitLine(`(${svc.pname} ,pid=`, 15_000, up.index + 1);
    assert.notEqual(Number(/pid=(\d+)/.exec(again.text)![1]), pid);
    const s = await sb.until('entry AVAIL, counters from 0', (v) => v.pfiles[0].entries[0].proc_sts === 'AVAIL');
    assert.equal(s.pfiles[0].entries[0].retry_count, 0);
    assert.equal(s.groups[0].restarts, 1);
    kill(pc.pid, 'SIGTERM');
    assert.equal(await pc.exited, 0);
  });
});

