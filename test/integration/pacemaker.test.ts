// The OCF agent etc/ocf/pcheck under a REAL single-node Pacemaker + Corosync cluster on
// loopback (root, Debian packages pacemaker, pacemaker-cli-utils, corosync; the recipe is
// /work/shared/recipes/pacemaker-single-node.md). Pacemaker starts pcheck through the agent;
// pcheck heals the first kill of the watched process by itself; the second kill is a
// retry-over, pcheck exits 1, the monitor reports it not running, Pacemaker counts a
// failure and starts pcheck again, which starts the process again. Then the fail count is
// cleared, and at migration-threshold the node is banned (-INFINITY).
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ROOT, PCHECK, Sandbox, fileHas, kill, sleep, waitFor, type Service } from '../helpers/harness';
import { Cluster, alive, run } from '../helpers/pacemaker';

const ID = 'procsafe_pcheck';
/** the application's own resource, before pcheck in the group, as in docs/pacemaker.md */
const APP = 'app';
const GROUP = 'g_app';
const THRESHOLD = 3;
const AGENT = join(ROOT, 'etc', 'ocf', 'pcheck');
const SHELLFUNCS = '/usr/lib/ocf/lib/heartbeat/ocf-shellfuncs';

// ---- the agent on its own: OCF exit codes, pid checks (no cluster needed) ----------------

describe('the pcheck OCF agent on its own returns the OCF exit codes', () => {
  const variants = [['standalone (no ocf-shellfuncs)', '/nonexistent']];
  if (existsSync(SHELLFUNCS)) variants.push(['with ocf-shellfuncs', '/usr/lib/ocf/lib/heartbeat']);
  for (const [label, functionsDir] of variants) {
    it(`${label}: validates, starts detached, monitors, refuses reused pids and zombies, and stops only pcheck`, async () => {
      const sb = new Sandbox();
      try {
        const svc = sb.service('app');
        const pfile = sb.pfile({ param: { INITIAL_WAIT: 1 }, pents: [`${svc.pname}:${svc.script}:0:1:exit`] });
        const pidFile = join(sb.dir, `pcheck${pfile.replace(/[/ ]/g, '_')}.pid`);
        const params = { pfile, pcheck: PCHECK, run_dir: sb.runDir, pid_dir: sb.dir };
        const agent = (action: string, over: Record<string, string> = {}, extra: Record<string, string> = {}) => {
          const env: Record<string, string> = { PATH: process.env.PATH ?? '/usr/bin:/bin', OCF_FUNCTIONS_DIR: functionsDir, ...extra };
          for (const [k, v] of Object.entries({ ...params, ...over })) env[`OCF_RESKEY_${k}`] = v;
          const r = spawnSync('/bin/sh', [AGENT, action], { env, encoding: 'utf8', timeout: 30_000 });
          return { code: r.status, stderr: r.stderr };
        };

        const md = spawnSync('/bin/sh', [AGENT, 'meta-data'], { env: { PATH: process.env.PATH, OCF_FUNCTIONS_DIR: functionsDir }, encoding: 'utf8' });
        assert.equal(md.status, 0);
        assert.match(md.stdout, /<resource-agent name="pcheck"/);
        assert.equal(agent('validate-all').code, 0);
        assert.equal(agent('validate-all', { pfile: '' }).code, 6, 'no pfile: OCF_ERR_CONFIGURED');
        assert.equal(agent('validate-all', { pfile: 'relative.pfile' }).code, 6, 'relative pfile: OCF_ERR_CONFIGURED');
        const missing = agent('validate-all', { pfile: join(sb.dir, 'missing.pfile') });
        assert.equal(missing.code, 5, 'pfile missing on this node: OCF_ERR_INSTALLED');
        assert.match(missing.stderr, /ocf-exit-reason:pfile .*missing\.pfile does not exist/);
        assert.equal(agent('validate-all', { pcheck: '/nonexistent/pcheck' }).code, 5, 'no pcheck: OCF_ERR_INSTALLED');
        assert.equal(agent('monitor', { pfile: join(sb.dir, 'missing.pfile') }).code, 7, 'a probe where nothing is installed: not running');
        assert.equal(agent('frobnicate').code, 3, 'OCF_ERR_UNIMPLEMENTED');

        // a pfile pcheck refuses (exit 2): OCF_ERR_ARGS, with the parser's message
        const bad = join(sb.dir, 'bad.pfile');
        writeFileSync(bad, '##### PARAM #####\nIPCKEY zz\n##### PENT #####\n');
        const b = agent('start', { pfile: bad });
        assert.equal(b.code, 2);
        assert.match(b.stderr, /ocf-exit-reason:pcheck refused pfile .*bad\.pfile:2: IPCKEY/);

        assert.equal(agent('monitor').code, 7, 'no pid file: OCF_NOT_RUNNING');
        assert.equal(agent('stop').code, 0, 'stopping a stopped resource succeeds');

        const app = await sb.startService(svc);
        assert.equal(agent('start').code, 0);
        const pc = Number(readFileSync(pidFile, 'utf8'));
        assert.equal(sb.showPent(pfile)[0].proc_sts, 'AVAIL', 'start returned once padmin answers');
        assert.equal(agent('monitor').code, 0);
        assert.equal(agent('monitor', {}, { OCF_CHECK_LEVEL: '10' }).code, 0, 'depth 10 asks padmin');
        assert.equal(agent('start').code, 0, 'start of a started resource');
        assert.equal(Number(readFileSync(pidFile, 'utf8')), pc, 'and no second pcheck');

        assert.equal(agent('stop').code, 0);
        assert.equal(alive(pc), false, 'pcheck stopped');
        assert.equal(existsSync(pidFile), false, 'pid file removed');
        assert.deepEqual(sb.pidsOf(svc), [app], 'the watched process keeps running');
        assert.equal(agent('monitor').code, 7);

        // a pid file naming a live process that is not our pcheck (a reused pid)
        writeFileSync(pidFile, `${process.pid}\n`);
        assert.equal(agent('monitor').code, 7, 'a reused pid is not our pcheck');
        assert.equal(agent('stop').code, 0, 'and stop does not signal it');
        assert.equal(existsSync(pidFile), false);

        // a pid file naming a zombie (PID 1 reaps orphans late on some machines)
        const parent = spawn('/bin/sh', ['-c', 'sleep 0 & exec sleep 30'], { stdio: 'ignore' });
        sb.track(parent.pid!);
        const zombie = await waitFor(() => {
          const kids = spawnSync('pgrep', ['-P', String(parent.pid)], { encoding: 'utf8' }).stdout.trim().split(/\s+/).filter(Boolean).map(Number);
          return kids.find((k) => /^State:\s+Z/m.test(readFileSync(`/proc/${k}/status`, 'latin1')));
        }, 5000, 'a zombie');
        writeFileSync(pidFile, `${zombie}\n`);
        assert.equal(agent('monitor').code, 7, 'a zombie is not running');
        kill(parent.pid!, 'SIGKILL');
        await sleep(10);
      } finally {
        sb.cleanup();
      }
    });
  }
});

// ---- the agent under a real cluster -------------------------------------------------------

describe('the pcheck OCF agent under a real single-node Pacemaker cluster', () => {
  const sb = new Sandbox();
  const cluster = new Cluster();
  const pidDir = join(sb.dir, 'pids');
  const pcheckPids = new Set<number>();
  let svc: Service;
  let pfile: string;
  let pidFile: string;
  let created = false;
  /** inode and mtime of the Dummy app's state file: start touches it, stop removes it */
  const appStamp = () => {
    const st = statSync(join(cluster.dir, 'app.state'));
    return `${st.ino}:${st.mtimeMs}`;
  };
  let appStarted = '';
  const timings: string[] = [];

  /** The pid in the agent's pid file, if it is a live pcheck on our pfile. */
  const pcheckPid = (): number | undefined => {
    if (!existsSync(pidFile)) return undefined;
    const pid = Number(readFileSync(pidFile, 'utf8').trim());
    if (!pid || !alive(pid)) return undefined;
    const argv = readFileSync(`/proc/${pid}/cmdline`, 'latin1').split('\0');
    if (!argv.includes(PCHECK) || !argv.includes(pfile)) return undefined;
    pcheckPids.add(pid);
    return pid;
  };
  /** `show pent` of the one entry, or undefined while no pcheck answers. */
  const pent = (): Record<string, string> | undefined => {
    try {
      return sb.showPent(pfile)[0];
    } catch {
      return undefined;
    }
  };
  const availWithPidOtherThan = (old: number | null) => () => {
    const e = pent();
    return e && e.proc_sts === 'AVAIL' && e.pid !== String(old) && sb.pidsOf(svc).includes(Number(e.pid)) ? Number(e.pid) : undefined;
  };
  const logs = () =>
    `\n--- agent output ---\n${tail(join(pidDir, `pcheck${pfile.replace(/[/ ]/g, '_')}.log`))}` +
    `\n--- pacemaker.log ---\n${cluster.log('pacemaker.log')}\n--- crm_mon ---\n${run('crm_mon', ['-1', '-rf']).stdout}`;

  before(async () => {
    const t = await cluster.start();
    timings.push(`corosync quorate ${t.corosyncMs.toFixed(0)} ms, controller S_IDLE ${t.idleMs.toFixed(0)} ms after starting corosync`);
    cluster.installAgent(AGENT, 'procsafe', 'pcheck');

    svc = sb.service('app');
    // No SHM_DUMP_FILE: a pcheck that Pacemaker starts again begins with fresh counters.
    // (With a state file it would restore retry_count 1 and, the process being gone, go to
    // retry-over again after INITIAL_WAIT: see docs/pacemaker.md.)
    pfile = join(sb.dir, 'app.pfile');
    writeFileSync(
      pfile,
      [
        '##### PARAM #####',
        `IPCKEY 0x${sb.ipckey.toString(16)}`,
        'MONITOR_INTERVAL 10',
        'INITIAL_WAIT 1',
        'RESTART_WAIT 5',
        `LOG_FILE ${join(sb.dir, 'pcheck.log')}`,
        'SYSLOG off',
        '##### PENT #####',
        `${svc.pname}:${svc.script}:0:1:exit`,
        '',
      ].join('\n'),
    );
    pidFile = join(pidDir, `pcheck${pfile.replace(/[/ ]/g, '_')}.pid`);
  });

  after(async () => {
    try {
      if (created) {
        cluster.deleteResource(GROUP, 'group');
        await waitFor(() => !cluster.isRunning(ID) && !cluster.isRunning(APP), 20_000, `${GROUP} to stop after its deletion`, 200).catch(() => undefined);
      }
    } finally {
      await cluster.stop();
      for (const p of pcheckPids) if (alive(p)) kill(p, 'SIGKILL');
      sb.cleanup();
      cluster.removeDir();
      // measured timings (shown as comments in the test output)
      for (const t of [...timings, ...cluster.notes]) process.stdout.write(`${t}\n`);
    }
  });

  it('Pacemaker reads the agent meta-data: pfile required and unique, pcheck, run_dir, pid_dir, and the actions', () => {
    const r = run('crm_resource', ['--show-metadata', 'ocf:procsafe:pcheck']);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /<parameter name="pfile" unique="1" required="1">/);
    for (const p of ['pcheck', 'run_dir', 'pid_dir']) assert.match(r.stdout, new RegExp(`<parameter name="${p}"`));
    assert.match(r.stdout, /<content type="string" default="\/usr\/bin\/pcheck" \/>/);
    for (const a of ['start', 'stop', 'monitor', 'validate-all', 'meta-data']) assert.match(r.stdout, new RegExp(`<action name="${a}" +timeout="\\d+s"`));
  });

  it('starts pcheck through the agent, detached, and padmin shows the watched process AVAIL', async () => {
    const first = await sb.startService(svc);
    // the group: the application's resource (a Dummy here, no recurring monitor: pcheck
    // watches the processes), then pcheck, so pcheck starts after it and stops before it
    const xml =
      `<group id="${GROUP}">` +
      `<primitive id="${APP}" class="ocf" provider="pacemaker" type="Dummy">` +
      `<instance_attributes id="${APP}-ia"><nvpair id="${APP}-ia-state" name="state" value="${join(cluster.dir, 'app.state')}"/></instance_attributes>` +
      `</primitive>` +
      `<primitive id="${ID}" class="ocf" provider="procsafe" type="pcheck">` +
      `<meta_attributes id="${ID}-meta"><nvpair id="${ID}-meta-mt" name="migration-threshold" value="${THRESHOLD}"/></meta_attributes>` +
      `<instance_attributes id="${ID}-ia">` +
      `<nvpair id="${ID}-ia-pfile" name="pfile" value="${pfile}"/>` +
      `<nvpair id="${ID}-ia-pcheck" name="pcheck" value="${PCHECK}"/>` +
      `<nvpair id="${ID}-ia-run_dir" name="run_dir" value="${sb.runDir}"/>` +
      `<nvpair id="${ID}-ia-pid_dir" name="pid_dir" value="${pidDir}"/>` +
      `</instance_attributes>` +
      `<operations>` +
      `<op id="${ID}-monitor-2s" name="monitor" interval="2s" timeout="10s"/>` +
      `<op id="${ID}-start-0" name="start" interval="0s" timeout="20s"/>` +
      `<op id="${ID}-stop-0" name="stop" interval="0s" timeout="20s"/>` +
      `</operations></primitive></group>`;
    const rsc = join(cluster.dir, 'rsc.xml');
    writeFileSync(rsc, xml);
    const t0 = performance.now();
    const r = cluster.cibadmin(['--create', '-o', 'resources', '--xml-file', rsc]);
    assert.equal(r.code, 0, r.stderr);
    created = true;
    await waitFor(() => cluster.isRunning(ID), 20_000, `crm_resource --locate -r ${ID} to say "is running on"`, 100).catch((e: Error) => {
      throw new Error(e.message + logs());
    });
    timings.push(`resource created → "is running on": ${(performance.now() - t0).toFixed(0)} ms`);

    // crm_resource says "is running on" as soon as the start operation is recorded as pending
    // (record-pending); the agent returns from start only once padmin answers, so wait for that too.
    const e = await waitFor(pent, 20_000, 'padmin show pent to answer (the agent start to complete)', 50).catch((err: Error) => {
      throw new Error(err.message + logs());
    });
    const pc = await waitFor(pcheckPid, 5000, 'the pid file to name a live pcheck on our pfile');
    // detached: its own session, not a child of the agent (which has exited)
    const stat = readFileSync(`/proc/${pc}/stat`, 'latin1');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    assert.equal(Number(fields[3]), pc, 'pcheck leads its own session (setsid)');
    // PROCSAFE_RUN_DIR came from the run_dir parameter, through the agent
    const environ = readFileSync(`/proc/${pc}/environ`, 'latin1').split('\0');
    assert.ok(environ.includes(`PROCSAFE_RUN_DIR=${sb.runDir}`), 'pcheck got PROCSAFE_RUN_DIR from run_dir');


    assert.ok(cluster.isRunning(APP), 'the application resource runs too');
    appStarted = appStamp();
    assert.equal(e.proc_sts, 'AVAIL');
    assert.equal(e.pid, String(first));
    assert.equal(e.retry_count, '0');
    assert.equal(cluster.failcount(ID), 0);
  });

  it('a first kill of the watched process is healed by pcheck alone: same pcheck, fail count 0', async () => {
    const pc = pcheckPid();
    assert.ok(pc);
    const old = Number(pent()!.pid);
    const t0 = performance.now();
    kill(old, 'SIGKILL');
    const next = await waitFor(availWithPidOtherThan(old), 10_000, 'pcheck to restart the process', 20);
    timings.push(`1st kill → AVAIL again (pcheck heals): ${(performance.now() - t0).toFixed(0)} ms`);
    sb.track(next);
    const e = pent()!;
    assert.equal(e.retry_count, '1');
    assert.equal(e.restart_count, '1');
    await new Promise((r) => setTimeout(r, 2500)); // at least one monitor interval
    assert.equal(pcheckPid(), pc, 'the same pcheck still runs');
    assert.equal(cluster.failcount(ID), 0, 'Pacemaker saw no failure');
  });

  it('on the second kill pcheck retries over and exits 1; Pacemaker counts a failure and runs pcheck again, which starts the process again', async () => {
    const pc = pcheckPid()!;
    const old = Number(pent()!.pid);
    const from = readFileSync(join(sb.dir, 'pcheck.log'), 'utf8').length;
    const t0 = performance.now();
    kill(old, 'SIGKILL');
    const log = () => readFileSync(join(sb.dir, 'pcheck.log'), 'utf8').slice(from);
    await waitFor(() => log().includes(`(${svc.pname}) RETRY_OVER:EXIT`) && log().includes(`(${svc.pname}) FATAL`), 5000, 'RETRY_OVER:EXIT and FATAL in the log');
    await waitFor(() => !alive(pc), 5000, `pcheck ${pc} to exit`);
    const tExit = performance.now() - t0;

    await waitFor(() => cluster.failcount(ID) >= 1, 15_000, 'crm_failcount >= 1', 100).catch((e: Error) => {
      throw new Error(e.message + logs());
    });
    const tFail = performance.now() - t0;
    const pc2 = await waitFor(() => {
      const p = pcheckPid();
      return p !== undefined && p !== pc && cluster.isRunning(ID) ? p : undefined;
    }, 15_000, 'Pacemaker to start a new pcheck', 100);
    const tRunning = performance.now() - t0;
    const next = await waitFor(availWithPidOtherThan(old), 15_000, 'the new pcheck to start the process (after INITIAL_WAIT)', 50);
    const tAvail = performance.now() - t0;
    sb.track(next);
    timings.push(
      `2nd kill → pcheck exited 1: ${tExit.toFixed(0)} ms; → failcount ≥ 1: ${tFail.toFixed(0)} ms; ` +
        `→ resource running again (new pcheck ${pc2}): ${tRunning.toFixed(0)} ms; → process AVAIL again (pid ${next}): ${tAvail.toFixed(0)} ms`,
    );
    assert.ok(fileHas(join(sb.dir, 'pcheck.log'), `(${svc.pname}) process not found`), 'the new pcheck found the process missing and restarted it');
    assert.equal(appStamp(), appStarted, 'Pacemaker restarted only pcheck, the last member of the group; the application resource stayed up');
    // the agent reported "not running" (7) for the monitor; Pacemaker recovered it
    const mon = cluster.monXml();
    assert.match(mon, new RegExp(`<failure op_key="${ID}_monitor_2000"[^>]*exitcode="7"`), mon);
  });

  it('crm_resource --cleanup clears the fail count and the resource keeps running', async () => {
    const pc = pcheckPid();
    const r = cluster.cleanupResource(ID);
    assert.equal(r.code, 0, r.stderr);
    await waitFor(() => cluster.failcount(ID) === 0, 10_000, 'crm_failcount to be 0', 100);
    await waitFor(() => cluster.isRunning(ID), 10_000, `${ID} running after the cleanup`, 100);
    assert.equal(pcheckPid(), pc, 'the cleanup re-probed the running pcheck and left it alone');
  });

  it(`at migration-threshold (${THRESHOLD}) Pacemaker bans the node: score -INFINITY, pcheck stays stopped, and with a second node the whole group would move`, async () => {
    const t0 = performance.now();
    for (let n = 1; n <= THRESHOLD; n++) {
      // a fresh pcheck used its one retry to start the missing process, so a kill retries over
      const p = await waitFor(availWithPidOtherThan(null), 15_000, `the process AVAIL before kill ${n}`, 50);
      const pc = pcheckPid();
      kill(p, 'SIGKILL');
      await waitFor(() => cluster.failcount(ID) >= n, 15_000, `crm_failcount >= ${n}`, 100).catch((e: Error) => {
        throw new Error(e.message + logs());
      });
      if (n < THRESHOLD) await waitFor(() => pcheckPid() !== undefined && pcheckPid() !== pc, 15_000, 'a new pcheck', 100);
    }
    await waitFor(() => cluster.role(ID) === 'Stopped', 15_000, `crm_mon to show ${ID} role="Stopped"`, 200);
    timings.push(`${THRESHOLD} retry-overs → banned and Stopped: ${(performance.now() - t0).toFixed(0)} ms`);
    assert.equal(cluster.score(ID), '-INFINITY');
    assert.equal(cluster.failcount(ID), THRESHOLD);
    assert.equal(cluster.isRunning(ID), false);
    assert.equal(pcheckPid(), undefined, 'no pcheck runs');
    assert.equal(existsSync(pidFile), false, 'the stop removed the pid file');
    // alone, this node keeps the group's earlier members; with a second node the whole group moves
    assert.ok(cluster.isRunning(APP), 'on a single node the application resource stays');
    const peer = `${cluster.node}-peer`;
    const plan = cluster.simulatePeer(peer);
    assert.match(plan, new RegExp(`Move\\s+${APP}\\s+\\(\\s*${cluster.node} -> ${peer}\\s*\\)`), plan);
    assert.match(plan, new RegExp(`Start\\s+${ID}\\s+\\(\\s*${peer}\\s*\\)`), plan);
  });
});

function tail(path: string): string {
  try {
    return readFileSync(path, 'utf8').split('\n').slice(-20).join('\n');
  } catch {
    return '(none)';
  }
}
