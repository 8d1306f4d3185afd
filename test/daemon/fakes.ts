// Fakes of procsafe's own interfaces for the unit tests of the daemon's rooms: a process table
// whose processes the test makes and kills, a death watcher the test fires, a clock the test
// moves, a logger that keeps its lines. (The integration and field tests run the real ones.)
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Clock } from '../../src/core/entry-model';
import type { Pent, Pfile } from '../../src/core/model';
import { Logger } from '../../src/log/logger';
import type { DeathInfo, DeathWatcher, ProcId, ProcInfo, ProcessTable, ScanOptions } from '../../src/proc/types';
import { closeEntryServices, createEntryServices, type EntryServices } from '../../src/daemon/entries/services';
import type { EntriesOut, StateHead, StateStore } from '../../src/daemon/entries/entry-state-file';
import type { ReadStateResult, StateSnapshot } from '../../src/state/state-file';

export class FakeTable implements ProcessTable {
  readonly procs = new Map<number, ProcInfo>();
  scans = 0;
  private nextPid = 5000;

  /** A live process with argv `argv`; returns it. */
  spawn(argv: string[], pid = this.nextPid++): ProcInfo {
    const p: ProcInfo = { pid, startTime: 1000 + pid, argv, exe: null, uid: 0, state: 'S' };
    this.procs.set(pid, p);
    return p;
  }

  exit(pid: number): void {
    this.procs.delete(pid);
  }

  scan(_opts?: ScanOptions): ProcInfo[] {
    this.scans++;
    return [...this.procs.values()];
  }

  read(id: ProcId): ProcInfo | null {
    const p = this.procs.get(id.pid);
    return p !== undefined && p.startTime === id.startTime ? p : null;
  }
}

export class FakeWatcher implements DeathWatcher {
  readonly mode = 'poll';
  readonly watches = new Map<number, ((info: DeathInfo) => void)[]>();
  closed = false;

  watch(id: ProcId, onDeath: (info: DeathInfo) => void): () => void {
    const list = this.watches.get(id.pid) ?? [];
    list.push(onDeath);
    this.watches.set(id.pid, list);
    return () => {
      const l = this.watches.get(id.pid) ?? [];
      l.splice(l.indexOf(onDeath), 1);
      if (l.length === 0) this.watches.delete(id.pid);
    };
  }

  /** The process `pid` dies: its watchers hear of it. */
  die(pid: number, table?: FakeTable): void {
    table?.exit(pid);
    for (const f of [...(this.watches.get(pid) ?? [])]) f({ detectedWithinMs: 3 });
  }

  close(): void {
    this.closed = true;
    this.watches.clear();
  }
}

export class FakeClock {
  mono = 1_000_000;
  wall = Date.UTC(2026, 0, 1);
  readonly now = (): Clock => ({ mono: this.mono, wall: this.wall });
  advance(ms: number): void {
    this.mono += ms;
    this.wall += ms;
  }
}

export function memLogger(): { log: Logger; lines: string[] } {
  const lines: string[] = [];
  return { log: new Logger([{ write: (_s, m) => lines.push(m) }]), lines };
}

export interface Fakes {
  table: FakeTable;
  watcher: FakeWatcher;
  clock: FakeClock;
  lines: string[];
  services: EntryServices;
  /** a run directory of its own (script output files), removed by closeAll() */
  runDir: string;
}

const made: EntryServices[] = [];
const closers: (() => unknown)[] = [];

/** Something with timers of its own (an entry set, a runner) that closeAll() must close. */
export function track<T>(x: T, close: (x: T) => unknown): T {
  closers.push(() => close(x));
  return x;
}

/** Fresh fakes and services; closeAll() (in after()) stops their timers. */
export function fakeServices(): Fakes {
  const table = new FakeTable();
  const watcher = new FakeWatcher();
  const clock = new FakeClock();
  const { log, lines } = memLogger();
  const services = createEntryServices({ table, watcher, log, me: 'pcheck (fakes)', clock: clock.now });
  made.push(services);
  const runDir = mkdtempSync(join(tmpdir(), 'procsafe-rooms-'));
  closers.push(() => rmSync(runDir, { recursive: true, force: true }));
  return { table, watcher, clock, lines, services, runDir };
}

/** Stops the timers of every service made by fakeServices() (the test file can then end). */
export function closeAll(): void {
  for (const c of closers.splice(0)) c();
  for (const s of made.splice(0)) closeEntryServices(s);
}

/** An entry of a test pfile: pname `/opt/NAME`, a restart script that is never run by these tests. */
export function pent(id: number, name: string, over: Partial<Pent> = {}): Pent {
  return {
    id,
    line: 10 + id,
    pname: `/opt/${name}`,
    restartScript: `/opt/${name}-restart.sh`,
    grace: 0,
    retryLimit: 2,
    retryOverAction: 'none',
    includeStrings: [],
    excludeStrings: [],
    user: null,
    uid: null,
    scriptTimeout: null,
    hangTimeout: null,
    optionsText: '',
    ...over,
  };
}

export function pfile(path: string, pents: Pent[], param: Partial<Pfile['param']> = {}): Pfile {
  return {
    path,
    param: {
      ipckey: 0x1234,
      ipckeyText: '0x1234',
      monitorInterval: 10,
      msgCheckInterval: 5,
      shmDumpFile: null,
      logFile: null,
      syslog: false,
      syslogFacility: 'daemon',
      syslogSocket: '/dev/log',
      scriptTimeout: 300,
      restartWait: 30,
      initialWait: 10,
      metricsListen: null,
      metricsTokenFile: null,
      metricsAllow: null,
      ...param,
    },
    pents,
  };
}

/** A state store in memory; `fail` makes writes throw. */
export function memStore(): StateStore & { saved: StateSnapshot | null; writes: number; fail: string | null } {
  const s = {
    path: '/mem/state',
    ownFile: false,
    saved: null as StateSnapshot | null,
    writes: 0,
    fail: null as string | null,
    read(): ReadStateResult {
      return s.saved === null ? { missing: true } : { snapshot: s.saved };
    },
    write(head: StateHead, entries: EntriesOut): void {
      if (s.fail !== null) throw new Error(s.fail);
      s.writes++;
      // the text a file store writes, read back
      s.saved = JSON.parse(JSON.stringify({ ...head, entries: entries.json().map((j) => JSON.parse(j) as unknown) })) as StateSnapshot;
    },
  };
  return s;
}

/** Lets the loop turn `n` times (setImmediate callbacks of the rooms run). */
export async function turns(n = 3): Promise<void> {
  for (let i = 0; i < n; i++) await new Promise((r) => setImmediate(r));
}
