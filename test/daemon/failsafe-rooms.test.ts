// The rooms of the FailSafe daemon (src/daemon/failsafe/) one by one, with a logger that keeps
// its lines and a clock the test sets: groups (who may start a group an operator stopped),
// monitors (an entry's retry-over as a typed event; chains restored and kept over a reload),
// final actions (their limit, counted in the history the state file keeps), persistence (the
// state file written and read back), schedules. The integration tests run the real daemon.
import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { GroupConfig, MonitorConfig, ScheduleConfig } from '../../src/core/failsafe-model';
import type { FinalActionRecord } from '../../src/core/final-action-limit';
import { FinalActions } from '../../src/daemon/failsafe/final-actions';
import { Groups } from '../../src/daemon/failsafe/groups';
import type { MonitorRunner } from '../../src/daemon/failsafe/monitor-runner';
import { configKey, Monitors } from '../../src/daemon/failsafe/monitors';
import { FailsafeState } from '../../src/daemon/failsafe/persistence';
import { Schedules } from '../../src/daemon/failsafe/schedules';
import type { ChainRecord } from '../../src/state/failsafe-state';
import { memLogger } from './fakes';

const dirs: string[] = [];
after(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

function tmp(): string {
  const d = mkdtempSync(join(tmpdir(), 'procsafe-fs-rooms-'));
  dirs.push(d);
  return d;
}

function group(name: string, over: Partial<GroupConfig> = {}): GroupConfig {
  return { name, start: ['/bin/true'], stop: ['/bin/true'], startTimeout: 5, stopTimeout: 5, pfile: null, activationRetries: 0, finalAction: 'none', ...over };
}

function processMonitor(name: string, target: string, pfile: string, over: Partial<MonitorConfig> = {}): MonitorConfig {
  return { name, type: 'process', pfile, target, timing: 'active', interval: 5, timeout: 5, retries: 0, startWait: 0, restartThreshold: 2, grace: 0, finalAction: 'reboot', ...over } as MonitorConfig;
}

function groupsRoom() {
  const { log, lines } = memLogger();
  let changes = 0;
  const groups = new Groups({ log, socket: '/run/none.sock', outputDir: () => null, onStateChanged: () => undefined, onFinalAction: () => undefined, changed: () => changes++ });
  return { groups, lines, changes: () => changes };
}

describe('the groups room', () => {
  it('a group the operator stopped is not restarted by a monitor or a schedule, and its record says who stopped it', () => {
    const { groups, lines } = groupsRoom();
    groups.set(group('web'));
    assert.ok(groups.operator('stop', 'web'));
    groups.restart('web', 'monitor web-http');
    assert.equal(groups.state('web'), 'Offline');
    assert.ok(lines.includes('Group web not restarted for monitor web-http: stopped by the operator (padmin group start web starts it)'), lines.join('\n'));
    assert.deepEqual(groups.records().web, { state: 'Offline', stoppedBy: 'operator', restarts: 0, script: null });
  });

  it('its final action stop_group is a stop on purpose too; the operator starting it clears that', () => {
    const { groups, lines } = groupsRoom();
    groups.set(group('db'));
    groups.stopByFinalAction('db');
    assert.equal(groups.records().db.stoppedBy, 'final_action');
    groups.restart('db', 'schedule nightly');
    assert.ok(lines.some((l) => l.includes('Group db not restarted for schedule nightly: stopped by its final action')));
    groups.operator('start', 'db');
    assert.equal(groups.records().db.stoppedBy, null);
    groups.operator('stop', 'db'); // back to Offline, its start script's exit does not matter here
  });

  it('set() of a running group keeps its runner (new keys, no restart); drop() lets it go, said once', () => {
    const { groups, lines, changes } = groupsRoom();
    assert.equal(groups.set(group('web')), true);
    const runner = groups.get('web');
    assert.equal(groups.set(group('web', { stopTimeout: 30 })), false);
    assert.equal(groups.get('web'), runner);
    assert.equal(groups.get('web')?.cfg.stopTimeout, 30);
    const before = changes();
    groups.drop('web');
    assert.equal(groups.get('web'), undefined);
    assert.ok(lines.includes('Group web is no longer in the configuration: left as it is (Offline), no longer managed'));
    assert.equal(changes(), before + 1, 'the state file forgets it');
    assert.equal(groups.operator('start', 'nope'), null);
  });
});

function monitorsRoom(restored: (name: string, key: string) => ChainRecord | undefined = () => undefined, refuse: string | null = null) {
  const { log, lines } = memLogger();
  const restarts: string[] = [];
  const finals: string[] = [];
  const events: { kind: string; message: string; fields: Record<string, unknown> }[] = [];
  const monitors = new Monitors({
    log,
    groupState: () => 'Online',
    groupSince: () => 0,
    restartGroup: (g, m) => restarts.push(`${g} by ${m}`),
    finalAction: (a, m: MonitorRunner, announce) => {
      finals.push(`${a} by ${m.cfg.name}`);
      announce(refuse);
      return refuse;
    },
    event: (kind, _name, message, fields) => events.push({ kind, message, fields }),
    changed: () => undefined,
    restored,
  });
  return { monitors, lines, restarts, finals, events };
}

describe('the monitors room', () => {
  it("an entry's retry-over (group) reaches the process monitor of its pfile as a typed event: a failure, then a group restart", () => {
    const { monitors, restarts, lines } = monitorsRoom();
    monitors.add(processMonitor('web-pfile', 'web', '/etc/web.pfile'));
    monitors.entryRetryOver('/etc/web.pfile', '/opt/web');
    assert.deepEqual(restarts, ['web by web-pfile']);
    assert.equal(monitors.get('web-pfile')?.state.groupRestarts, 1);
    assert.ok(lines.some((l) => l.includes('/opt/web')), lines.join('\n'));
    monitors.closeAll();
  });

  it('a retry-over of a pfile no group holds is said, and recovers nothing', () => {
    const { monitors, restarts, lines } = monitorsRoom();
    monitors.entryRetryOver('/etc/lost.pfile', '/opt/x');
    assert.deepEqual(restarts, []);
    assert.ok(lines.includes("(/opt/x) RETRY_OVER:GROUP but no group holds pfile='/etc/lost.pfile'; nothing to recover"));
  });

  it('the chain the previous pcheck left (same configuration) is restored: its final action done is not done again', () => {
    const cfg = processMonitor('web-pfile', 'web', '/etc/web.pfile', { restartThreshold: 1 });
    const rec: ChainRecord = { config: configKey(cfg), failures: 0, groupRestarts: 1, finalActionDone: true, changedAt: 1, suspended: false };
    const { monitors, finals, restarts } = monitorsRoom((name, key) => (name === 'web-pfile' && key === rec.config ? rec : undefined));
    monitors.add(cfg);
    assert.equal(monitors.get('web-pfile')?.state.finalActionDone, true);
    monitors.entryRetryOver('/etc/web.pfile', '/opt/web');
    assert.deepEqual(finals, [], 'done before the restart of pcheck: not again');
    assert.deepEqual(restarts, []);
    assert.equal(monitors.records()['web-pfile'].finalActionDone, true);
    monitors.closeAll();
  });

  it('a final action max_final_actions refuses: its final_action event says not done (no alert tells of a reboot that did not happen), and the chain keeps why', () => {
    const why = 'max_final_actions 0: no OS final action is ever done';
    const { monitors, events } = monitorsRoom(undefined, why);
    monitors.add(processMonitor('web-pfile', 'web', '/etc/web.pfile', { restartThreshold: 0 }));
    monitors.entryRetryOver('/etc/web.pfile', '/opt/web');
    const final = events.filter((e) => e.kind === 'final_action');
    assert.equal(final.length, 1, JSON.stringify(events));
    assert.match(final[0].message, /final action reboot: .*\(not done: max_final_actions 0: no OS final action is ever done\)/);
    assert.equal(final[0].fields.refused, why);
    assert.equal(monitors.records()['web-pfile'].finalActionRefused, why);
    monitors.closeAll();
  });

  it('a restored chain whose reason is empty is done, alike in the log and in the state (no "NOT DONE ()")', () => {
    const cfg = processMonitor('web-pfile', 'web', '/etc/web.pfile', { restartThreshold: 1 });
    const rec: ChainRecord = { config: configKey(cfg), failures: 0, groupRestarts: 1, finalActionDone: true, finalActionRefused: '', changedAt: 1, suspended: false };
    const { monitors, lines } = monitorsRoom(() => rec);
    monitors.add(cfg);
    assert.equal(monitors.get('web-pfile')?.state.finalActionRefused, null);
    assert.ok(lines.includes('Monitor web-pfile restored: failures 0, group restarts 1/1, final action reboot done'), lines.join('\n'));
    monitors.closeAll();
  });

  it('reload: an unchanged monitor keeps its counters, a changed one is replaced (returned to add)', () => {
    const { monitors } = monitorsRoom();
    const a = processMonitor('a', 'web', '/etc/a.pfile');
    const b = processMonitor('b', 'db', '/etc/b.pfile');
    monitors.add(a);
    monitors.add(b);
    monitors.entryRetryOver('/etc/a.pfile', '/opt/a');
    const kept = monitors.get('a');
    const toAdd = monitors.reconcile([a, { ...b, retries: 3 }]);
    assert.equal(monitors.get('a'), kept);
    assert.equal(monitors.get('a')?.state.groupRestarts, 1);
    assert.deepEqual(toAdd.map((m) => m.name), ['b']);
    assert.equal(monitors.get('b'), undefined);
    monitors.closeAll();
  });
});

function finalsRoom(max = 1, history: FinalActionRecord[] = []) {
  const { log, lines } = memLogger();
  const runDir = tmp();
  const calls: string[] = [];
  let persisted = 0;
  const finals = new FinalActions({
    log,
    rehearse: true,
    runDir,
    limit: () => ({ max, windowSec: 3600 }),
    history,
    persistNow: () => persisted++,
    stopGroup: (g) => calls.push(`stop group ${g}`),
    stopDaemon: (r) => calls.push(`stop daemon: ${r}`),
    beforeOsAction: async () => void calls.push('alerts out'),
  });
  return { finals, lines, runDir, calls, history, persisted: () => persisted };
}

describe('the final actions room', () => {
  it('an OS action runs once per window (max_final_actions 1): the second is logged and recorded, not done', async () => {
    const r = finalsRoom();
    await r.finals.os('reboot', 'monitor web-http', true).done;
    assert.equal(r.history.length, 1);
    assert.equal(r.persisted(), 1, 'the history is on disk before the machine goes down');
    assert.ok(r.lines.includes('(monitor web-http) FATAL'));
    await r.finals.os('reboot', 'monitor web-http', true).done;
    assert.equal(r.history.length, 1);
    const rehearsed = readFileSync(join(r.runDir, 'rehearse.log'), 'utf8');
    assert.match(rehearsed, /REHEARSE reboot: not done: /);
    assert.ok(r.lines.some((l) => l.startsWith('Final action reboot (monitor web-http) not done: ')), r.lines.join('\n'));
    assert.deepEqual(r.calls, [], 'a rehearsal sends no alert first (it does not go down)');
  });

  it('the history of an earlier pcheck counts (it is the state file’s)', async () => {
    const r = finalsRoom(1, [{ action: 'reboot', at: Date.now() - 60_000, source: 'monitor x' }]);
    await r.finals.os('shutdown', '/opt/app', false).done;
    assert.equal(r.history.length, 1);
    assert.ok(!existsSync(join(r.runDir, 'rehearse.log')) || !/would shutdown/.test(readFileSync(join(r.runDir, 'rehearse.log'), 'utf8')));
  });

  it("an entry's refused retry-over OS action names the entry once in parentheses, and the announce comes before anything is done", async () => {
    const r = finalsRoom(1, [{ action: 'reboot', at: Date.now() - 60_000, source: 'monitor x' }]);
    const told: (string | null)[] = [];
    await r.finals.os('shutdown', '/opt/app', false, (no) => told.push(no)).done;
    assert.ok(r.lines.some((l) => l.startsWith('Final action shutdown (/opt/app) not done: 1 OS final action within the last 3600s')), r.lines.join('\n'));
    assert.deepEqual(told, ['1 OS final action within the last 3600s (max_final_actions 1 per final_action_window)']);
    const ok = finalsRoom();
    const order: string[] = [];
    const res = ok.finals.os('reboot', 'group web', true, (no) => order.push(`announce ${String(no)} after ${ok.persisted()} writes`));
    assert.equal(res.refused, null);
    await res.done;
    assert.deepEqual(order, ['announce null after 0 writes'], 'the alert is handed over before the state is written and the machine goes down');
  });

  it('none, stop_group and stop_daemon are not OS actions: no limit, no FATAL', () => {
    const r = finalsRoom(0);
    r.finals.run('none', 'monitor a', 'web');
    r.finals.run('stop_group', 'monitor a', 'web');
    r.finals.run('stop_daemon', 'group web', 'web');
    assert.deepEqual(r.calls, ['stop group web', 'stop daemon: Final action stop_daemon (group web): stopping pcheck']);
    assert.ok(r.lines.includes('Final action none (monitor a): nothing more is done'));
  });
});

describe('the persistence room', () => {
  function state(path: string, bootId = 'boot-1') {
    const { log, lines } = memLogger();
    const s = new FailsafeState({
      path,
      log,
      bootId,
      config: () => '/etc/procsafe.ini',
      groups: () => ({ web: { state: 'Online', stoppedBy: null, restarts: 2 } }),
      monitors: () => ({ m: { config: 'K', failures: 1, groupRestarts: 1, finalActionDone: true, changedAt: 5, suspended: false } }),
    });
    return { s, lines };
  }

  it('writes groups, chains, final actions and pfile entries; the next pcheck (same boot) reads them back', () => {
    const path = join(tmp(), 'sub', 'failsafe.state');
    const a = state(path).s;
    a.finalActions.push({ action: 'reboot', at: 123, source: 'monitor m' });
    a.storeFor('/etc/a.pfile').write({ version: 1, pfile: '/etc/a.pfile', pcheckPid: 1, writtenAt: 1, bootId: 'boot-1', ended: null }, { json: () => [], objects: () => [] }, false);
    a.ended = 'SIGTERM';
    a.persistNow();
    const b = state(path).s;
    assert.equal(b.sameBoot, true);
    assert.equal(b.previous?.ended, 'SIGTERM');
    assert.deepEqual(b.group('web'), { state: 'Online', stoppedBy: null, restarts: 2 });
    assert.equal(b.chain('m', 'K')?.finalActionDone, true);
    assert.equal(b.chain('m', 'other configuration'), undefined, 'a changed monitor starts afresh');
    assert.deepEqual(b.finalActions, [{ action: 'reboot', at: 123, source: 'monitor m' }]);
    assert.ok('snapshot' in b.storeFor('/etc/a.pfile').read());
    assert.equal(state(path, 'boot-2').s.sameBoot, false, 'another boot');
  });

  it('a corrupt file is set aside and said; pcheck starts afresh', () => {
    const path = join(tmp(), 'failsafe.state');
    writeFileSync(path, '{"version":1,"torn');
    const { s, lines } = state(path);
    assert.equal(s.previous, null);
    assert.ok(lines.some((l) => l.startsWith(`State file ${path} is corrupt`)), lines.join('\n'));
  });

  it('a file set aside for a bad record keeps its OS final actions: max_final_actions still counts the reboot it holds', () => {
    const path = join(tmp(), 'failsafe.state');
    const a = state(path).s;
    const at = Date.now() - 60_000;
    a.finalActions.push({ action: 'reboot', at, source: 'monitor m' });
    a.persistNow();
    const text = JSON.parse(readFileSync(path, 'utf8')) as { groups: Record<string, { state: string }> };
    text.groups.web.state = 'Sleeping'; // a hand edit
    writeFileSync(path, JSON.stringify(text));
    const { s, lines } = state(path);
    assert.equal(s.previous, null);
    assert.deepEqual(s.finalActions, [{ action: 'reboot', at, source: 'monitor m' }]);
    assert.ok(lines.some((l) => l.startsWith(`State file ${path} is corrupt (groups.web.state is not a group state)`) && l.endsWith('(its 1 OS final action record(s) kept: max_final_actions still counts them)')), lines.join('\n'));
  });

  it("a chain's finalActionRefused that is not a string (a hand edit) does not make the file corrupt: the chain reads as done", () => {
    const path = join(tmp(), 'failsafe.state');
    state(path).s.persistNow();
    const text = JSON.parse(readFileSync(path, 'utf8')) as { monitors: Record<string, { finalActionRefused: unknown }> };
    text.monitors.m.finalActionRefused = 5;
    writeFileSync(path, JSON.stringify(text));
    const { s } = state(path);
    assert.equal(s.chain('m', 'K')?.finalActionDone, true);
  });

  it('a write that fails is said once, and said again when it works', async () => {
    const dir = tmp();
    const blocker = join(dir, 'file');
    writeFileSync(blocker, 'x');
    const { s, lines } = state(join(blocker, 'failsafe.state')); // its directory is a file
    s.persistNow();
    s.persistNow();
    assert.equal(lines.filter((l) => l.startsWith('Cannot write state file')).length, 1);
  });
});

describe('the schedules room', () => {
  it('a due restart_group restarts through the groups room (which may refuse it); a suspension ends after its window', async () => {
    const { log, lines } = memLogger();
    let now = new Date(2026, 0, 5, 2, 59, 59).getTime(); // cron reads local time
    const restarts: string[] = [];
    const cfg: ScheduleConfig[] = [{ name: 'nightly', cron: '0 3 * * *', action: { kind: 'restart_group', group: 'web' } }];
    const s = new Schedules({ log, restartGroup: (g, by) => restarts.push(`${g} by ${by}`), monitor: () => undefined, now: () => now }, cfg);
    assert.equal(s.any, true);
    s.tick();
    assert.deepEqual(restarts, []);
    now += 2000;
    s.tick();
    assert.deepEqual(restarts, ['web by schedule nightly']);
    assert.ok(lines.length > 0);
    s.close();
  });
});
