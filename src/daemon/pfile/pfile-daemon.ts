// The ProcessSaver-mode daemon (`pcheck -f PFILE`): one entry set (src/daemon/entries/) with the
// process's table, death watcher and scanner, the control socket of its IPCKEY for padmin,
// systemd's notifications, reload (padmin, SIGHUP), and how it stops: on a signal (exit 0, the
// watched processes left running) or at a retry-over `exit` (exit 1).
import { hostname } from 'node:os';
import type { EventSink } from '../../core/events';
import type { Clock } from '../../core/entry-model';
import type { Pfile, PfileParam } from '../../core/model';
import { metricsChangeOnReload } from '../../config/pfile-metrics';
import type { PcheckEnd } from '../../core/resume-policy';
import { isOsAction, type RetryOverAction } from '../../core/states';
import { startControlServer } from '../../control/server';
import { withScriptLog } from '../../control/script-log';
import { ControlErrorCode, socketPath, type ControlResponse } from '../../control/protocol';
import type { Logger } from '../../log/logger';
import type { DeathWatcher, ProcessTable } from '../../proc/types';
import { readBootId } from '../../state/state-file';
import { createSystemdLink, formatStatus, type SystemdLink } from '../../systemd/daemon-link';
import type { Notifier } from '../../systemd/notify';
import type { PentView } from '../../views/pent-view';
import { EntrySet } from '../entries/entry-set';
import { fileStore } from '../entries/entry-state-file';
import { closeEntryServices, createEntryServices, type EntryServices } from '../entries/services';
import { doOsAction } from '../shared/os-actions';
import { reasonOf, refuseReload } from '../shared/requests';
import { StopSequence, type StopSignal } from '../shared/stop-sequence';
import { deathWatchOf, deathWatchStatus } from '../shared/watcher';
import { answerPadmin, logCommand } from './padmin-requests';
import { checkPfileReload } from './pfile-reload';

export interface PfileDaemonOptions {
  pfile: Pfile;
  runDir: string;
  /** record OS actions instead of doing them (SPEC §7). */
  rehearse: boolean;
  logger: Logger;
  table: ProcessTable;
  watcher: DeathWatcher;
  /** re-reads the pfile for `reload` / SIGHUP; throws ConfigError. */
  loadPfile: (path: string) => Pfile;
  clock?: () => Clock;
  /** sd_notify, from createNotifier(); null or absent when not run by systemd as Type=notify. */
  notifier?: Notifier | null;
  /** down / restart / retry_over events, for the metrics */
  onEvent?: EventSink;
}

/** On stop, how long pcheck waits for the scripts it killed to be reaped (their last output). */
const STOP_SCRIPTS_WAIT_MS = 1000;

export class PfileDaemon {
  private readonly log: Logger;
  private readonly services: EntryServices;
  private readonly set: EntrySet;
  private readonly sd: SystemdLink;
  private readonly stops: StopSequence;
  /** the METRICS_* keys the /metrics listener runs with: those of the start */
  private readonly metricsParam: PfileParam;
  private control: { close(): Promise<void> } | null = null;
  private finish: (code: number) => void = () => undefined;
  readonly socket: string;
  private markStarted: () => void = () => undefined;
  private failStarted: (e: unknown) => void = () => undefined;
  private readonly startedP = new Promise<void>((resolve, reject) => {
    this.markStarted = resolve;
    this.failStarted = reject;
  });

  constructor(private readonly opts: PfileDaemonOptions) {
    this.log = opts.logger;
    this.metricsParam = opts.pfile.param;
    this.stops = new StopSequence(this.log);
    this.socket = socketPath(opts.runDir, opts.pfile.param.ipckey);
    this.services = createEntryServices({ table: opts.table, watcher: opts.watcher, log: this.log, me: `pcheck pid ${process.pid} (pfile ${opts.pfile.path})`, clock: opts.clock });
    const shm = opts.pfile.param.shmDumpFile;
    this.set = new EntrySet({
      pfile: opts.pfile,
      services: this.services,
      socket: this.socket,
      runDir: opts.runDir,
      store: shm === null ? null : fileStore(shm, (m) => this.set.state.failed(m)),
      bootId: readBootId(),
      serverName: hostname(),
      onEvent: opts.onEvent,
      onStateChange: () => this.sd.changed(),
      onRetryOver: (action) => this.retryOver(action),
    });
    this.sd = createSystemdLink({
      notifier: opts.notifier ?? null,
      status: () => formatStatus(this.set.views()) + deathWatchStatus(deathWatchOf(opts.watcher)),
      monitorIntervalSec: opts.pfile.param.monitorInterval,
      warn: (m) => this.log.warning(m),
    });
    this.services.scanner.onTick(() => {
      this.sd.pass();
      this.set.state.retryIfFailed();
    });
  }

  /** Resolves once run() is monitoring (its control socket answers). */
  started(): Promise<void> {
    return this.startedP;
  }

  views(): PentView[] {
    return this.set.views();
  }

  takeHealTimes(): number[] {
    return this.set.takeHealTimes();
  }

  takeDetectionTimes(): number[] {
    return this.set.takeDetectionTimes();
  }

  /** Starts monitoring; resolves with pcheck's exit code once it stops. */
  async run(): Promise<number> {
    const done = new Promise<number>((resolve) => (this.finish = resolve));
    const target = { set: this.set, watcher: this.opts.watcher, log: this.log, reload: (by: 'padmin') => this.reload(by) };
    try {
      this.control = await startControlServer(this.socket, withScriptLog(this.log, (req) => answerPadmin(target, req)));
      this.set.claim();
    } catch (e) {
      await this.control?.close();
      this.startedP.catch(() => undefined); // nobody need wait for started(): run() throws
      this.failStarted(e);
      throw e;
    }
    this.set.start(false, () => this.log.info(`Start pcheck (pfile='${this.set.path}', ${this.set.size} entries, death watch: ${this.opts.watcher.mode})`));
    this.sd.ready();
    this.markStarted();
    return done;
  }

  /** SIGTERM / SIGINT: stop monitoring, leave the watched processes running, exit 0. */
  stopOnSignal(name: StopSignal, num: number): Promise<void> {
    return this.stops.onSignal(name, num, () => this.stop(0, 'Stop pcheck!!', name));
  }

  /** Re-reads the pfile. A bad one is refused and the running configuration stays. */
  reload(by: 'padmin' | 'SIGHUP'): ControlResponse {
    // a SIGHUP right after SIGTERM: nothing to reload, and no line may follow `Stop pcheck!!`
    if (this.stops.stopping) return { ok: false, code: ControlErrorCode.REFUSED, error: 'pcheck is stopping' };
    const cur = this.set.path;
    let next: Pfile;
    try {
      next = this.opts.loadPfile(cur);
      checkPfileReload(this.set.current, next, { groupAllowed: false });
      this.set.claimFor(next, next.param.shmDumpFile === null ? null : fileStore(next.param.shmDumpFile, (m) => this.set.state.failed(m)));
    } catch (e) {
      return refuseReload(this.log, by, reasonOf(e));
    }
    logCommand(this.log, 'reload', cur);
    const intervalChanged = next.param.monitorInterval !== this.set.param().monitorInterval;
    const summary = this.set.apply(next);
    // METRICS_* are compared with what /metrics runs with (metricsNote), not with the last pfile
    const metricsNote = metricsChangeOnReload(this.metricsParam, next.param);
    const changes = summary === 'no change' && metricsNote !== null ? 'entries and other PARAM values unchanged' : summary;
    if (intervalChanged) this.sd.setMonitorInterval(next.param.monitorInterval);
    this.sd.changed();
    this.log.info(`Reloaded pfile='${next.path}': ${this.set.size} entries (${changes})`);
    if (metricsNote !== null) this.log.warning(`Reload: ${metricsNote}`);
    return { ok: true, text: `reloaded ${next.path}: ${this.set.size} entries (${changes})${metricsNote === null ? '' : `\n${metricsNote}`}` };
  }

  /** On an internal error: nothing may start afterwards (the restart scripts are stopped). */
  stopScripts(): Promise<unknown>[] {
    this.services.scripts.close();
    return this.set.close();
  }

  private retryOver(action: RetryOverAction): void {
    if (action === 'exit') {
      void this.stop(1, null, 'RETRY_OVER:EXIT');
    } else if (isOsAction(action)) {
      this.set.persistNow(true); // on disk before a reboot
      void doOsAction(action, { rehearse: this.opts.rehearse, runDir: this.opts.runDir, log: this.log });
    }
    // `none` keeps watching; `group` is refused at start-up and on reload in this mode.
  }

  private async stop(code: number, lastLine: string | null, ended: PcheckEnd): Promise<void> {
    if (!this.stops.begin()) return;
    const killed = this.stopScripts(); // no script starts from here on
    this.set.state.ended = ended; // in the last write below: the next pcheck starts fresh
    this.sd.stopping(code === 0 ? 'on signal' : 'retry-over exit');
    closeEntryServices(this.services);
    // the killed scripts' last output before the last line (they die at once: SIGKILL)
    if (killed.length > 0) await Promise.race([Promise.all(killed), new Promise((r) => setTimeout(r, STOP_SCRIPTS_WAIT_MS).unref())]);
    this.set.state.persistNow(true);
    this.set.state.release();
    await this.control?.close().catch(() => undefined);
    if (lastLine !== null) this.log.notice(lastLine);
    this.finish(code);
  }
}
