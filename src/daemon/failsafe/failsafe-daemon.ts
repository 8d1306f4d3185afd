// The FailSafe-mode daemon (`pcheck --config FILE.ini`, SPEC §8): the wiring of its rooms —
// groups, monitors, pfiles (entry sets sharing one process table, death watcher and scanner),
// schedules, final actions, persistence, padmin requests, reload, the web page — around the pure
// machines of src/core/, and how it starts and stops.
import type { Alerter } from '../../alerts/alerter';
import type { EventKind, EventSink, ProcsafeEvent } from '../../core/events';
import { implicitProcessMonitors, type FailsafeConfig, type GroupState } from '../../core/failsafe-model';
import type { Pfile } from '../../core/model';
import type { RetryOverAction } from '../../core/states';
import { isOsAction } from '../../core/states';
import { failsafeSocketPath, type ControlRequest, type ControlResponse } from '../../control/protocol';
import { startControlServer } from '../../control/server';
import { withScriptLog } from '../../control/script-log';
import { openScriptOutputDir, type ScriptOutputDir } from '../../exec/script-output-dir';
import type { Logger } from '../../log/logger';
import type { DeathWatcher, ProcessTable } from '../../proc/types';
import { readBootId } from '../../state/state-file';
import { createSystemdLink, type SystemdLink } from '../../systemd/daemon-link';
import type { Notifier } from '../../systemd/notify';
import type { StatusView } from '../../views/status-view';
import type { EntryRuntime } from '../entries/entry-runtime';
import { closeEntryServices, createEntryServices, type EntryServices } from '../entries/services';
import { buildEvent, type EventFields } from '../shared/events';
import { StopSequence, type StopSignal } from '../shared/stop-sequence';
import { deathWatchStatus } from '../shared/watcher';
import { ConfigWatch } from './config-watch';
import { reloadFailsafe } from './config-reload';
import { FinalActions } from './final-actions';
import { beginGroup } from './group-start';
import { Groups } from './groups';
import { Monitors } from './monitors';
import { FailsafeState, type FailsafeEnd } from './persistence';
import { Pfiles } from './pfiles';
import { answerFailsafe } from './requests';
import { pfileGroups, type Rooms } from './rooms';
import { Schedules } from './schedules';
import { statusLine, statusOf } from './status';
import { startWebPage, type WebPage } from './web-page';

export interface FailsafeDaemonOptions {
  config: FailsafeConfig;
  runDir: string;
  rehearse: boolean;
  /** SIGTERM leaves the groups running (their stop scripts are not run). */
  keepRunning: boolean;
  logger: Logger;
  /** re-reads the ini file for reload; throws ConfigError */
  loadConfig: (path: string) => FailsafeConfig;
  loadPfile: (path: string) => Pfile;
  /** the one process table and death watcher of the process (every pfile's entries share them) */
  table: ProcessTable;
  watcher: DeathWatcher;
  /** the FailSafe state file (`[daemon] state_file`, or the default) */
  statePath: string;
  /** sd_notify for the whole process */
  notifier?: Notifier | null;
  /** every event of the groups, monitors and entries (the web page's live feed, metrics) */
  onEvent?: EventSink;
  /** mail / webhook / syslog alerts and the alert log ([alert]) */
  alerter?: Alerter | null;
  /** where the web page's token file goes when [web] token_file is not set */
  stateDir: string;
}

/** On stop, how long pcheck waits for the restart scripts it killed to be reaped (their last output). */
const STOP_SCRIPTS_WAIT_MS = 1000;

export class FailsafeDaemon {
  private readonly log: Logger;
  private readonly rooms: Rooms;
  private readonly services: EntryServices;
  private readonly sd: SystemdLink;
  private readonly stops: StopSequence;
  private readonly watch: ConfigWatch;
  private control: { close(): Promise<void> } | null = null;
  private web: WebPage | null = null;
  /** where group start/stop scripts write (null: pipes) */
  private outputDir: ScriptOutputDir | null = null;
  /** one tick a second: feeds the watchdog from the loop, drives the schedules */
  private loopTimer: NodeJS.Timeout | null = null;
  private finish: (code: number) => void = () => undefined;
  readonly socket: string;

  constructor(private readonly opts: FailsafeDaemonOptions) {
    const log = (this.log = opts.logger);
    this.socket = failsafeSocketPath(opts.runDir);
    this.stops = new StopSequence(log);
    this.services = createEntryServices({ table: opts.table, watcher: opts.watcher, log, me: `pcheck pid ${process.pid} (config ${opts.config.path})` });
    const bootId = readBootId();
    const changed = () => this.rooms.state.persistSoon();
    let cfg = opts.config;
    const groups = new Groups({
      log,
      socket: this.socket,
      outputDir: () => this.outputDir,
      onStateChanged: (name, from, to) => this.onGroupState(name, from, to),
      onFinalAction: (name, action) => {
        const message = `Group ${name}: start failed; final action ${action}`;
        this.rooms.finals.run(action, `group ${name}`, name, (refused) =>
          this.emit('final_action', name, refused === null ? message : `${message} (not done: ${refused})`, refused === null ? { group: name, action } : { group: name, action, refused }),
        );
      },
      changed,
    });
    const state: FailsafeState = new FailsafeState({ path: opts.statePath, log, bootId, config: () => cfg.path, groups: () => groups.records(), monitors: () => monitors.records() });
    const monitors: Monitors = new Monitors({
      log,
      groupState: (g) => groups.state(g),
      groupSince: (g) => groups.get(g)?.stateSinceMono ?? null,
      restartGroup: (g, m) => groups.restart(g, `monitor ${m}`),
      finalAction: (action, m, announce) => this.rooms.finals.run(action, `monitor ${m.cfg.name}`, m.cfg.target, announce),
      event: (kind, name, message, fields) => this.emit(kind, name, message, fields),
      changed,
      restored: (name, key) => state.chain(name, key),
    });
    const pfiles = new Pfiles({
      services: this.services,
      runDir: opts.runDir,
      bootId,
      serverName: cfg.daemon.name,
      loadPfile: opts.loadPfile,
      sectionStore: (path) => state.storeFor(path),
      onEvent: (e) => this.publish(e),
      onStateChange: () => this.web?.server.statusChanged(),
      retryOver: (path, action, rt) => this.entryRetryOver(path, action, rt),
      groupOnline: (g) => groups.state(g) === 'Online',
    });
    const finals = new FinalActions({
      log,
      rehearse: opts.rehearse,
      runDir: opts.runDir,
      limit: () => ({ max: cfg.daemon.maxFinalActions, windowSec: cfg.daemon.finalActionWindow }),
      history: state.finalActions,
      persistNow: () => state.persistNow(true),
      stopGroup: (g) => groups.stopByFinalAction(g),
      stopDaemon: (reason) => void this.stop(1, reason, 'stop_daemon'),
      beforeOsAction: async () => opts.alerter?.close(),
    });
    const schedules = new Schedules({ log, restartGroup: (g, by) => groups.restart(g, by), monitor: (m) => monitors.get(m), now: () => Date.now() }, cfg.schedules);
    this.rooms = {
      log,
      get cfg() {
        return cfg;
      },
      set cfg(next) {
        cfg = next;
      },
      groups,
      monitors,
      pfiles,
      schedules,
      finals,
      state,
      alerter: opts.alerter ?? null,
      rehearse: opts.rehearse,
      startedAt: Date.now(),
      stopping: () => this.stops.stopping,
      emit: (kind, subject, message, fields) => this.emit(kind, subject, message, fields),
    };
    this.watch = new ConfigWatch(
      () => [cfg.path, ...pfileGroups(cfg).keys()],
      () => void this.reload('file watch'),
    );
    this.sd = createSystemdLink({ notifier: opts.notifier ?? null, status: () => statusLine(this.rooms) + deathWatchStatus(), monitorIntervalSec: 1, warn: (m) => log.warning(m) });
  }

  status(): StatusView {
    return statusOf(this.rooms);
  }

  async run(): Promise<number> {
    const done = new Promise<number>((resolve) => (this.finish = resolve));
    const r = this.rooms;
    const cfg = r.cfg;
    this.control = await startControlServer(this.socket, withScriptLog(this.log, (req) => this.request(req)));
    this.outputDir = openScriptOutputDir(this.opts.runDir, 'failsafe', (m) => this.log.warning(m));
    this.log.info(`Start pcheck (config='${cfg.path}', FailSafe mode: ${cfg.groups.length} groups, ${cfg.monitors.length} monitors${this.opts.rehearse ? ', rehearsal' : ''})`);
    // before anything is started: a [web] listen that cannot be served ends pcheck (exit 2) with nothing running
    if (cfg.web) {
      try {
        this.web = await startWebPage(r, cfg.web, { stateDir: this.opts.stateDir, request: (req) => this.request(req) });
      } catch (e) {
        await this.control.close().catch(() => undefined);
        throw e;
      }
    }
    for (const g of cfg.groups) r.groups.set(g);
    for (const [path, group] of pfileGroups(cfg)) await r.pfiles.add(path, group);
    for (const m of [...cfg.monitors, ...implicitProcessMonitors(cfg)]) r.monitors.add(m);
    this.watch.arm();
    this.loopTimer = setInterval(() => {
      this.sd.pass();
      this.sd.changed();
      if (r.schedules.any) r.schedules.tick();
      r.state.retryIfFailed();
    }, 1000);
    r.state.persistNow();
    await r.groups.inOrder(r.groups.names(), (g) => beginGroup(r, g), () => this.stops.stopping);
    this.sd.ready();
    return done;
  }

  private request(req: ControlRequest): ControlResponse {
    const res = answerFailsafe(this.rooms, req, (by) => this.reload(by));
    this.web?.server.statusChanged();
    return res;
  }

  private emit(kind: EventKind, subject: string, message: string, fields: EventFields): void {
    this.publish(buildEvent(kind, this.rooms.cfg.daemon.name, subject, message, fields));
  }

  /** One event to every consumer: alerts, then the live feed. */
  private publish(e: ProcsafeEvent): void {
    this.opts.alerter?.emit(e);
    this.opts.onEvent?.(e);
    this.web?.server.publish(e);
    this.web?.server.statusChanged();
  }

  private onGroupState(name: string, from: GroupState, to: GroupState): void {
    this.log.info(`Group ${name}: ${from} -> ${to}`);
    this.web?.server.statusChanged();
    // Online from Starting is a (re)start: entries start from 0; from Offline it was adopted as it ran
    this.rooms.pfiles.onGroupState(name, from, to, from === 'Starting');
    this.rooms.monitors.onGroupState(name, to);
  }

  private entryRetryOver(path: string, action: RetryOverAction, rt: EntryRuntime): void {
    // an entry's retry-over `exit` inside FailSafe mode stops the whole daemon with exit 1
    if (action === 'exit') void this.stop(1, `pfile='${path}' retry-over exit: stopping pcheck`, 'retry-over exit');
    else if (isOsAction(action)) this.rooms.finals.os(action, rt.pent.pname, false);
    else if (action === 'group') this.rooms.monitors.entryRetryOver(path, rt.pent.pname);
  }

  /** Validates the new configuration and every pfile first; a bad one is refused and the running one stays. */
  reload(by: string): ControlResponse {
    const r = this.rooms;
    const res = reloadFailsafe(r, {
      loadConfig: (path) => this.opts.loadConfig(path),
      addLater: (pfiles, monitors, groups) =>
        void (async () => {
          // a pfile refused now (its IPCKEY or SHM_DUMP_FILE held by another pcheck) is left out, said once
          for (const [path, group] of pfiles) await r.pfiles.add(path, group).catch((e: unknown) => this.log.err(`pfile='${path}' is not watched: ${(e as Error).message}`));
          for (const m of monitors) if (!r.monitors.get(m.name)) r.monitors.add(m);
          await r.groups.inOrder(groups, async (g) => g.send({ type: 'start' }), () => this.stops.stopping);
        })(),
      replaced: (next) => {
        this.opts.alerter?.reconfigure(next.alert);
        r.schedules.set(next.schedules);
        this.watch.arm();
      },
    }, by);
    if (!res.ok) this.watch.arm(); // the refused edit is not refused again at every event of the file watch
    return res;
  }

  stopOnSignal(name: StopSignal, num: number): Promise<void> {
    return this.stops.onSignal(name, num, () => this.stop(0, 'Stop pcheck!!', name));
  }

  /** On an internal error: nothing may start afterwards (restart and start scripts are stopped). */
  stopScripts(): void {
    const spare = this.services.deaths.taken();
    this.services.scripts.close();
    for (const set of this.rooms.pfiles.sets()) void set.close();
    for (const g of this.rooms.groups.all()) void g.halt(spare);
  }

  private async stop(code: number, reason: string, ended: FailsafeEnd): Promise<void> {
    if (!this.stops.begin()) return;
    const r = this.rooms;
    if (code !== 0) this.log.crit(reason);
    this.sd.stopping(code === 0 ? 'on signal' : reason);
    this.watch.stop();
    if (this.loopTimer) clearInterval(this.loopTimer);
    r.schedules.close();
    r.monitors.closeAll();
    // what entries watch is spared when the group start scripts are stopped
    const spare = this.services.deaths.taken();
    const killed = await r.pfiles.closeAll();
    closeEntryServices(this.services);
    await r.groups.stopAll(this.opts.keepRunning, spare);
    if (killed.length > 0) await Promise.race([Promise.all(killed), new Promise((res) => setTimeout(res, STOP_SCRIPTS_WAIT_MS).unref())]);
    this.outputDir?.close();
    r.state.ended = this.opts.keepRunning && code === 0 ? 'keep-running' : ended;
    r.state.persistNow(true);
    await this.control?.close().catch(() => undefined);
    await this.web?.close();
    await this.opts.alerter?.close(); // the last alerts (a final action) go out first, 2 s at most
    this.log.notice(code === 0 ? reason : 'Stop pcheck!!');
    this.finish(code);
  }
}
