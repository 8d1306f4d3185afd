// The FailSafe-mode daemon (`pcheck --config FILE.ini`, SPEC §8): groups of start/stop
// scripts, monitors with recovery chains, pfiles whose entries live in groups, schedules,
// and a control socket for `padmin status|group|monitor|reload`. It wires the runners
// (group-runner.ts, monitor-runner.ts) and the embedded pfile daemons together; the
// decisions are made by the pure machines in src/core/.
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { FailsafeConfig, FinalAction, GroupState, MonitorConfig, ScheduleConfig, WebConfig } from '../../core/failsafe-model';
import { startWebServer, type WebAction, type WebServer } from '../../web/server';
import { LatencyHistograms, LoopLagMeter, renderMetrics } from '../../web/metrics';
import { describeScheduleRun, planSchedules, tickSchedules, type SchedulePlan } from '../../core/schedule-plan';
import { implicitProcessMonitors } from '../../core/failsafe-model';
import { withScriptLog } from '../../control/script-log';
import { isOsAction } from '../../core/states';
import { loadPfile } from '../../config/pfile';
import { startControlServer } from '../../control/server';
import { ControlErrorCode, failsafeSocketPath, type ControlRequest, type ControlResponse } from '../../control/protocol';
import { runOsAction } from '../../exec/os-action';
import { openScriptOutputDir, type ScriptOutputDir } from '../../exec/script-output-dir';
import type { Logger } from '../../log/logger';
import { version } from '../../cli/version';
import { createProcTable } from '../../proc/proc-table';
import { systemClock } from '../clock';
import { PfileDaemon } from '../pfile-daemon';
import { createDeathWatcher, deathWatchStatus } from '../watcher';
import { FailsafeCommandError, parseFailsafeCommand } from './commands';
import { GroupRunner } from './group-runner';
import { MonitorRunner } from './monitor-runner';
import { formatStatus, type StatusView } from './status';
import { watchFiles } from './config-watch';
import { createSystemdLink, type SystemdLink } from '../../systemd/daemon-link';
import type { Notifier } from '../../systemd/notify';
import type { EventKind, EventSink, ProcsafeEvent } from '../../core/events';
import { formatAlerts, type Alerter } from '../../alerts/alerter';

export interface FailsafeDaemonOptions {
  config: FailsafeConfig;
  runDir: string;
  rehearse: boolean;
  /** SIGTERM leaves the groups running (their stop scripts are not run). */
  keepRunning: boolean;
  logger: Logger;
  /** re-reads the ini file for reload; throws ConfigError */
  loadConfig: (path: string) => FailsafeConfig;
  /** sd_notify for the whole process (the embedded pfile daemons get none). */
  notifier?: Notifier | null;
  /** every event of the groups, monitors and entries (the web page's live feed, metrics) */
  onEvent?: EventSink;
  /** mail / webhook / syslog alerts and the alert log ([alert]) */
  alerter?: Alerter | null;
  /** where the web page's token file goes when [web] token_file is not set */
  stateDir: string;
}


interface PfileHolder {
  daemon: PfileDaemon;
  group: string | null;
  done: Promise<number>;
}

function pfileGroups(cfg: FailsafeConfig): Map<string, string | null> {
  const m = new Map<string, string | null>();
  for (const mon of cfg.monitors) if (mon.type === 'process') m.set(mon.pfile, mon.target);
  for (const g of cfg.groups) if (g.pfile !== null) m.set(g.pfile, g.name);
  return m;
}

const same = (a: unknown, b: unknown) => JSON.stringify(a) === JSON.stringify(b);

export class FailsafeDaemon {
  private cfg: FailsafeConfig;
  private readonly log: Logger;
  private readonly groups = new Map<string, GroupRunner>();
  private readonly monitors = new Map<string, MonitorRunner>();
  private readonly pfiles = new Map<string, PfileHolder>();
  private schedules: SchedulePlan = planSchedules([], Date.now());
  private readonly suspendTimers = new Map<string, NodeJS.Timeout>();
  private control: { close(): Promise<void> } | null = null;
  /** where group start/stop scripts write (null: pipes) */
  private outputDir: ScriptOutputDir | null = null;
  private unwatch: (() => void) | null = null;
  private configHash = '';
  private readonly startedAt = Date.now();
  private readonly sd: SystemdLink;
  private web: WebServer | null = null;
  private lag: LoopLagMeter | null = null;
  private readonly latency = new LatencyHistograms();
  /** one tick a second: feeds the watchdog from the loop, and drives the schedules */
  private loopTimer: NodeJS.Timeout | null = null;
  private stopping = false;
  private finish: (code: number) => void = () => undefined;
  readonly socket: string;

  constructor(private readonly opts: FailsafeDaemonOptions) {
    this.cfg = opts.config;
    this.log = opts.logger;
    this.socket = failsafeSocketPath(opts.runDir);
    this.sd = createSystemdLink({
      notifier: opts.notifier ?? null,
      status: () => this.statusLine(),
      monitorIntervalSec: 1,
      warn: (m) => this.log.warning(m),
    });
  }

  /** The STATUS= line for systemd: groups and monitors that are not fine. */
  private statusLine(): string {
    const groups = [...this.groups.values()].map((g) => `${g.cfg.name} ${g.state}`).join(', ');
    const bad = [...this.monitors.values()].filter((m) => m.state.status === 'Error').map((m) => m.cfg.name);
    return `groups: ${groups || 'none'}; monitors in error: ${bad.length === 0 ? 'none' : bad.join(', ')}${deathWatchStatus()}`;
  }

  async run(): Promise<number> {
    const done = new Promise<number>((resolve) => (this.finish = resolve));
    this.control = await startControlServer(this.socket, withScriptLog(this.log, (req) => this.onRequest(req)));
    this.outputDir = openScriptOutputDir(this.opts.runDir, 'failsafe', (m) => this.log.warning(m));
    this.log.info(`Start pcheck (config='${this.cfg.path}', FailSafe mode: ${this.cfg.groups.length} groups, ${this.cfg.monitors.length} monitors${this.opts.rehearse ? ', rehearsal' : ''})`);
    // before anything is started: a [web] listen that cannot be served ends pcheck (exit 2) with nothing running
    if (this.cfg.web) {
      try {
        await this.startWeb(this.cfg.web);
      } catch (e) {
        await this.control.close().catch(() => undefined);
        throw e;
      }
    }
    this.configHash = this.hashConfigFiles();
    for (const g of this.cfg.groups) this.groups.set(g.name, this.newGroup(g));
    for (const [path, group] of pfileGroups(this.cfg)) await this.addPfile(path, group);
    for (const m of [...this.cfg.monitors, ...implicitProcessMonitors(this.cfg)]) this.addMonitor(m);
    this.setSchedules(this.cfg.schedules);
    this.watchConfig();
    this.loopTimer = setInterval(() => {
      this.sd.pass();
      this.sd.changed();
      if (this.schedules.schedules.length > 0) this.scheduleTick();
    }, 1000);
    await this.startGroupsInOrder(this.cfg.groups.map((g) => g.name));
    this.sd.ready();
    return done;
  }

  // ---- groups ---------------------------------------------------------------------------

  private newGroup(cfg: FailsafeConfig['groups'][number]): GroupRunner {
    return new GroupRunner(cfg, {
      log: this.log,
      outputDir: this.outputDir,
      socket: this.socket,
      onStateChanged: (name, from, to) => this.onGroupState(name, from, to),
      onFinalAction: (name, action) => {
        this.emit('final_action', name, `Group ${name}: start failed; final action ${action}`, { group: name, action });
        this.finalAction(action, `group ${name}`, name);
      },
    });
  }

  private emit(kind: EventKind, subject: string, message: string, fields: Record<string, string | number | null>): void {
    this.publish({ kind, at: Date.now(), server: this.cfg.daemon.name, subject, message, fields });
  }

  /** One event to every consumer: alerts, then the live feed. */
  private publish(e: ProcsafeEvent): void {
    this.opts.alerter?.emit(e);
    this.opts.onEvent?.(e);
    this.web?.publish(e);
    this.web?.statusChanged();
  }

  // ---- web page -------------------------------------------------------------------------

  private async startWeb(cfg: WebConfig): Promise<void> {
    this.lag = new LoopLagMeter();
    this.web = await startWebServer({
      listen: cfg.listen,
      tokenFile: cfg.tokenFile,
      allow: cfg.allow,
      fleet: cfg.fleet,
      fleetIntervalMs: cfg.fleetIntervalSec * 1000,
      stateDir: this.opts.stateDir,
      log: this.log,
      status: () => this.status(),
      recentEvents: () => this.opts.alerter?.recent(100) ?? [],
      metrics: () => {
        this.latency.collect([...this.pfiles].map(([pfile, p]) => ({ pfile, takeHealTimes: () => p.daemon.takeHealTimes(), takeDetectionTimes: () => p.daemon.takeDetectionTimes() })));
        return renderMetrics(this.status(), { mode: 'failsafe', loopLagSeconds: this.lag?.takeMaxSeconds() ?? 0, latency: this.latency });
      },
      act: async (a) => this.webAction(a),
    });
    // the token opens the page: shown in full only to a person at a terminal, never to a log
    // sink (syslog, LOG_FILE and the journal keep it, and others may read them)
    this.log.notice(`Web page: ${this.web.baseUrl} (token in ${cfg.tokenFile ?? join(this.opts.stateDir, 'web.token')})`);
    if (process.stdout.isTTY) process.stdout.write(`Open the web page: ${this.web.url}\n`);
  }

  /** An operation from the web page takes the same path as padmin. */
  private webAction(a: WebAction): { ok: boolean; message: string } {
    let r: ControlResponse;
    if (a.target === 'entry') {
      const p = this.pfiles.get(a.pfile);
      if (!p) return { ok: false, message: `no pfile ${a.pfile}` };
      r = p.daemon.command(`${a.op} pent ${a.pentId}`);
    } else {
      r = this.onRequest({ command: `${a.target} ${a.op} ${a.name}` });
    }
    this.web?.statusChanged();
    return r.ok ? { ok: true, message: r.text ?? 'done' } : { ok: false, message: r.error };
  }

  /** Starts groups one after the other, in file order: each once the previous has left Starting. */
  private async startGroupsInOrder(names: string[]): Promise<void> {
    for (const name of names) {
      const g = this.groups.get(name);
      if (!g || this.stopping) continue;
      g.send({ type: 'start' });
      await this.waitGroup(name, (s) => s !== 'Starting', (g.cfg.startTimeout + 5) * 1000 * (g.cfg.activationRetries + 1));
    }
  }

  private waitGroup(name: string, done: (s: GroupState) => boolean, timeoutMs: number): Promise<void> {
    return new Promise((resolve) => {
      const t0 = performance.now(); // monotonic: a clock jump must not cut the wait short
      const tick = () => {
        const g = this.groups.get(name);
        if (!g || done(g.state) || performance.now() - t0 > timeoutMs) resolve();
        else setTimeout(tick, 20);
      };
      tick();
    });
  }

  private onGroupState(name: string, from: GroupState, to: GroupState): void {
    this.log.info(`Group ${name}: ${from} -> ${to}`);
    this.web?.statusChanged();
    for (const [, p] of this.pfiles) {
      if (p.group !== name) continue;
      if (to === 'Online') p.daemon.setGroupOnline(true, name);
      else if (from === 'Online' || to === 'Error') p.daemon.setGroupOnline(false, name);
    }
    for (const m of this.monitors.values()) if (m.cfg.target === name) m.onGroupState(to);
  }

  // ---- monitors -------------------------------------------------------------------------

  private addMonitor(cfg: MonitorConfig): void {
    const m = new MonitorRunner(cfg, {
      log: this.log,
      monoNow: () => systemClock().mono,
      restartGroup: (group) => this.groups.get(group)?.send({ type: 'restart' }),
      finalAction: (action, mon) => this.finalAction(action, `monitor ${mon.cfg.name}`, mon.cfg.target),
      groupState: (group) => this.groups.get(group)?.state ?? null,
      groupSince: (group) => this.groups.get(group)?.stateSinceMono ?? null,
      event: (kind, message, fields) => this.emit(kind, cfg.name, message, fields),
    });
    this.monitors.set(cfg.name, m);
    m.start();
  }

  // ---- pfiles ---------------------------------------------------------------------------

  private async addPfile(path: string, group: string | null): Promise<void> {
    const table = createProcTable();
    const daemon = new PfileDaemon({
      pfile: loadPfile(path),
      runDir: this.opts.runDir,
      rehearse: this.opts.rehearse,
      logger: this.log,
      table,
      watcher: createDeathWatcher(table),
      loadPfile,
      onGroupRetryOver: (pname) => this.onPfileRetryOver(path, pname),
      onEvent: (e) => this.publish(e),
      serverName: this.cfg.daemon.name,
      onStateChange: () => this.web?.statusChanged(),
    });
    const holder: PfileHolder = { daemon, group, done: Promise.resolve(0) };
    this.pfiles.set(path, holder);
    holder.done = daemon.run();
    try {
      await daemon.started();
    } catch (e) {
      // refused (IPCKEY or SHM_DUMP_FILE held by another pcheck): run() rejects with the same error
      holder.done.catch(() => undefined);
      this.pfiles.delete(path);
      throw e;
    }
    // an entry's retry-over `exit` inside FailSafe mode stops the whole daemon with exit 1
    void holder.done.then((code) => {
      if (code !== 0 && !this.stopping && this.pfiles.get(path) === holder) void this.stop(code, `pfile='${path}' retry-over exit: stopping pcheck`);
    });
    // monitoring of entries follows their group: off until the group is Online
    if (group !== null && this.groups.get(group)?.state !== 'Online') daemon.setGroupOnline(false, group);
  }

  private onPfileRetryOver(path: string, pname: string): void {
    const mon = [...this.monitors.values()].find((m) => m.cfg.type === 'process' && m.cfg.pfile === path);
    if (!mon) {
      this.log.err(`(${pname}) RETRY_OVER:GROUP but no group holds pfile='${path}'; nothing to recover`);
      return;
    }
    mon.feed({ type: 'result', ok: false, detail: `(${pname}) RETRY_OVER:GROUP` });
  }

  // ---- final actions --------------------------------------------------------------------

  private finalAction(action: FinalAction, source: string, group: string | null): void {
    switch (action) {
      case 'none':
        this.log.notice(`Final action none (${source}): nothing more is done`);
        return;
      case 'stop_group':
        if (group !== null) this.groups.get(group)?.send({ type: 'stop' });
        return;
      case 'stop_daemon':
        void this.stop(1, `Final action stop_daemon (${source}): stopping pcheck`);
        return;
    }
    if (!isOsAction(action)) return;
    this.log.crit(`(${source}) FATAL`);
    void this.osAction(action);
  }

  private async osAction(action: 'shutdown' | 'reboot' | 'panic'): Promise<void> {
    // the final_action alert must leave before the machine goes down
    if (!this.opts.rehearse) await this.opts.alerter?.close();
    await runOsAction(action, { rehearse: this.opts.rehearse, rehearseLog: join(this.opts.runDir, 'rehearse.log') }).then(
      (r) => {
        if (r.rehearsed) this.log.notice(`REHEARSE: would ${action}: ${r.command}`);
      },
      (e: unknown) => this.log.crit(`OS action ${action} failed: ${(e as Error).message}`),
    );
  }

  // ---- schedules ------------------------------------------------------------------------

  private setSchedules(list: ScheduleConfig[]): void {
    this.schedules = planSchedules(list, Date.now());
  }

  /** A late tick runs what became due meanwhile, once (core/schedule-plan.ts). */
  private scheduleTick(): void {
    const r = tickSchedules(this.schedules, Date.now());
    this.schedules = r.plan;
    for (const run of r.runs) {
      this.log.notice(describeScheduleRun(run));
      if (!run.skipped) this.runSchedule(run.cfg);
    }
  }

  private runSchedule(cfg: ScheduleConfig): void {
    const a = cfg.action;
    if (a.kind === 'restart_group') {
      this.groups.get(a.group)?.send({ type: 'restart' });
      return;
    }
    const m = this.monitors.get(a.monitor);
    if (!m) return;
    m.suspend('schedule');
    const prev = this.suspendTimers.get(a.monitor);
    if (prev) clearTimeout(prev);
    this.suspendTimers.set(
      a.monitor,
      setTimeout(() => {
        this.suspendTimers.delete(a.monitor);
        this.log.notice(`Schedule ${cfg.name}: suspension of monitor ${a.monitor} over`);
        this.monitors.get(a.monitor)?.resume('schedule');
      }, a.durationSec * 1000),
    );
  }

  // ---- padmin ---------------------------------------------------------------------------

  status(): StatusView {
    const pfiles: StatusView['pfiles'] = [];
    for (const [path, p] of this.pfiles) pfiles.push({ path, group: p.group, entries: p.daemon.views() });
    return {
      server: { name: this.cfg.daemon.name, pid: process.pid, version: version(), startedAt: this.startedAt, rehearse: this.opts.rehearse, config: this.cfg.path },
      groups: [...this.groups.values()].map((g) => ({ name: g.cfg.name, state: g.state, restarts: g.run.restarts, lastScript: g.lastScript })),
      monitors: [...this.monitors.values()].map((m) => ({
        name: m.cfg.name,
        type: m.cfg.type,
        target: m.cfg.target,
        status: m.state.status,
        failures: m.state.failures,
        retries: m.cfg.retries,
        groupRestarts: m.state.groupRestarts,
        restartThreshold: m.cfg.restartThreshold,
        finalAction: m.cfg.finalAction,
        finalActionDone: m.state.finalActionDone,
        detail: m.state.detail,
        lastCheckAt: m.lastCheckAt,
      })),
      pfiles,
    };
  }

  private onRequest(req: ControlRequest): ControlResponse {
    if (req.command === 'info') {
      return { ok: true, data: { mode: 'failsafe', config: this.cfg.path, pid: process.pid, name: this.cfg.daemon.name } };
    }
    let cmd;
    try {
      cmd = parseFailsafeCommand(req.command);
    } catch (e) {
      if (e instanceof FailsafeCommandError) return { ok: false, code: ControlErrorCode.UNKNOWN_COMMAND, error: e.message };
      throw e;
    }
    switch (cmd.kind) {
      case 'status': {
        const v = this.status();
        return { ok: true, text: formatStatus(v), data: v };
      }
      case 'reload':
        return this.reload('padmin');
      case 'alerts': {
        const events = this.opts.alerter?.recent(50) ?? [];
        return { ok: true, text: formatAlerts(events), data: events };
      }
      case 'group': {
        const g = this.groups.get(cmd.name);
        if (!g) return { ok: false, code: ControlErrorCode.BAD_ARGUMENT, error: `no group "${cmd.name}"; groups: ${[...this.groups.keys()].join(', ') || '(none)'}` };
        this.log.notice(`Command execute. [group ${cmd.op} ${cmd.name}] config='${this.cfg.path}'`);
        // an operator's restart is a group restart too, for the alert log and the page
        if (cmd.op === 'restart') this.emit('group_restart', cmd.name, `Command execute. [group restart ${cmd.name}]`, { group: cmd.name, by: 'operator' });
        g.send({ type: cmd.op });
        return { ok: true, text: `group ${cmd.name}: ${cmd.op} requested (now ${g.state})` };
      }
      case 'monitor': {
        const m = this.monitors.get(cmd.name);
        if (!m) return { ok: false, code: ControlErrorCode.BAD_ARGUMENT, error: `no monitor "${cmd.name}"; monitors: ${[...this.monitors.keys()].join(', ') || '(none)'}` };
        this.log.notice(`Command execute. [monitor ${cmd.op} ${cmd.name}] config='${this.cfg.path}'`);
        if (cmd.op === 'suspend') m.suspend();
        else if (cmd.op === 'resume') m.resume();
        else m.feed({ type: 'clear' });
        return { ok: true, text: `monitor ${cmd.name}: ${m.state.status}` };
      }
    }
  }

  // ---- reload ---------------------------------------------------------------------------

  /** Validates the new configuration first; a bad one is refused and the running one stays.
   *  Unchanged groups and monitors keep running and keep their counters. */
  reload(by: string): ControlResponse {
    let next: FailsafeConfig;
    try {
      next = this.opts.loadConfig(this.cfg.path);
    } catch (e) {
      const m = (e as Error).message;
      this.log.err(`Reload refused (${by}): ${m}; the running configuration stays`);
      return { ok: false, code: ControlErrorCode.REFUSED, error: m };
    }
    this.log.notice(`Command execute. [reload] config='${this.cfg.path}' (${by})`);
    this.configHash = this.hashConfigFiles();
    const newGroups: string[] = [];
    for (const g of next.groups) {
      const cur = this.groups.get(g.name);
      if (cur) cur.cfg = g; // a changed group keeps its state: no restart of the application for a new timeout
      else {
        this.groups.set(g.name, this.newGroup(g));
        newGroups.push(g.name);
      }
    }
    for (const name of [...this.groups.keys()]) {
      if (next.groups.some((g) => g.name === name)) continue;
      this.log.warning(`Group ${name} is no longer in the configuration: left as it is (${this.groups.get(name)!.state}), no longer managed`);
      this.groups.delete(name);
    }
    const wanted = pfileGroups(next);
    for (const [path, p] of [...this.pfiles]) {
      if (!wanted.has(path)) {
        this.pfiles.delete(path);
        void p.daemon.close();
      } else {
        p.group = wanted.get(path) ?? null;
        p.daemon.command('reload');
      }
    }
    const added = [...wanted].filter(([path]) => !this.pfiles.has(path));
    const monitors = [...next.monitors, ...implicitProcessMonitors(next)];
    for (const [name, m] of [...this.monitors]) {
      const n = monitors.find((x) => x.name === name);
      if (n && same(n, m.cfg)) continue;
      m.close();
      this.monitors.delete(name);
    }
    void (async () => {
      // a pfile refused now (its IPCKEY or SHM_DUMP_FILE held by another pcheck) is left out, said once
      for (const [path, group] of added) await this.addPfile(path, group).catch((e: unknown) => this.log.err(`pfile='${path}' is not watched: ${(e as Error).message}`));
      for (const m of monitors) if (!this.monitors.has(m.name)) this.addMonitor(m);
      await this.startGroupsInOrder(newGroups);
    })();
    this.cfg = next;
    this.opts.alerter?.reconfigure(next.alert);
    this.setSchedules(next.schedules);
    this.watchConfig();
    return { ok: true, text: `reloaded ${next.path}: ${next.groups.length} groups, ${monitors.length} monitors` };
  }

  private configFiles(): string[] {
    return [this.cfg.path, ...pfileGroups(this.cfg).keys()];
  }

  private hashConfigFiles(): string {
    const h = createHash('sha256');
    for (const f of this.configFiles()) {
      try {
        h.update(f).update(readFileSync(f));
      } catch {
        h.update(`${f}: missing`);
      }
    }
    return h.digest('hex');
  }

  /** A change of the ini file or one of its pfiles reloads, once the content really changed. */
  private watchConfig(): void {
    this.unwatch?.();
    this.unwatch = watchFiles(this.configFiles(), () => {
      if (this.stopping || this.hashConfigFiles() === this.configHash) return;
      this.reload('file watch');
    });
  }

  // ---- stop -----------------------------------------------------------------------------

  async stopOnSignal(name: 'SIGTERM' | 'SIGINT', num: number): Promise<void> {
    if (this.stopping) return;
    this.log.notice(`${name} Catch (${num})!!`);
    await this.stop(0, 'Stop pcheck!!');
  }

  private async stop(code: number, reason: string): Promise<void> {
    if (this.stopping) return;
    this.stopping = true;
    if (code !== 0) this.log.crit(reason);
    this.sd.stopping(code === 0 ? 'on signal' : reason);
    this.unwatch?.();
    if (this.loopTimer) clearInterval(this.loopTimer);
    for (const t of this.suspendTimers.values()) clearTimeout(t);
    for (const m of this.monitors.values()) m.close();
    for (const p of this.pfiles.values()) await p.daemon.close();
    if (!this.opts.keepRunning) {
      // groups stop in reverse order of the file, each once the previous has stopped
      for (const g of [...this.groups.values()].reverse()) {
        g.send({ type: 'stop' });
        await this.waitGroup(g.cfg.name, (s) => s === 'Offline' || s === 'Error', (g.cfg.stopTimeout + 5) * 1000);
      }
    }
    this.outputDir?.close();
    await this.control?.close().catch(() => undefined);
    await this.web?.close().catch(() => undefined);
    this.lag?.stop();
    await this.opts.alerter?.close(); // the last alerts (a final action) go out first, 2 s at most
    this.log.notice(code === 0 ? reason : 'Stop pcheck!!');
    this.finish(code);
  }
}
