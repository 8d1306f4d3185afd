// The shape of bench/results/latest.json.
import type { Summary } from './stats';

export interface HealRow {
  sut: string;
  label: string;
  n: number;
  subreaper: boolean;
  method: 'sequential' | 'staggered';
  kills: number;
  failed: number;
  heal: number[];
  /** kill → the killed pid left /proc (was reaped). */
  zombie: number[];
  /** procsafe: kill → Down / Up line arrived. */
  down: number[];
  up: number[];
  healS: Summary;
  zombieS: Summary;
  downS: Summary | null;
  upS: Summary | null;
  note: string;
  /** how busy the whole machine was during the row (% of all cores; includes the bench and other users). */
  machineBusyPct: number;
  /** unrelated background processes running during the row */
  background: number;
  /** RSS of the supervisor's tree right after the row (MB): after this warm-up, for the scale rows */
  rssAfterMb: number | null;
}

export interface IdleRow {
  sut: string;
  label: string;
  n: number;
  background: number;
  seconds: number;
  cpuPct: number;
  rssMb: number;
  procs: number;
  /** how busy the whole machine was during the window (% of all cores). */
  machineBusyPct: number;
}

export interface MassRow {
  sut: string;
  label: string;
  n: number;
  stateFile: boolean;
  killSpanMs: number;
  detected: number | null;
  down: number[];
  downS: Summary | null;
  /** kill → the time written on the Down line by pcheck (ms resolution): pcheck's own share. */
  downStampS: Summary | null;
  /** first kill → first / last Down line arrival. */
  firstDownMs: number | null;
  lastDownMs: number | null;
  healed: number;
  heal: number[];
  healS: Summary;
  upLogged: number | null;
  upS: Summary | null;
  note: string;
  machineBusyPct: number;
  /** CPU seconds the supervisor's tree used from the kills until all were back (and logged Up). */
  supervisorCpuS: number;
  /** wall time of that span, s. */
  spanS: number;
}

export interface ScriptTimes {
  runs: number;
  spawnToExit: Summary;
  spawnToProcess: Summary;
  bashTrue: Summary;
}

export interface PadminRow {
  n: number;
  runs: number;
  ok: number;
  times: number[];
  s: Summary;
  /** `node -e 0`, spawn → exit: the floor of any Node CLI on this machine. */
  nodeStart: Summary;
}

export interface Results {
  startedAt: string;
  finishedAt: string;
  durationS: number;
  command: string;
  options: { quick: boolean; only: string | null; idleSeconds: number; kills: number; seed: number; background: number; monit30Kills: number };
  machine: Record<string, string>;
  subreaper: { wrapperPid: number | null; orphanParent: number | null; note: string };
  script: ScriptTimes | null;
  heal: HealRow[];
  idle: IdleRow[];
  mass: MassRow[];
  padmin: PadminRow | null;
  /** spawn of each supervisor until it has seen all N services (procsafe: N Up lines; monit:
   *  end of its first cycle; supervisord: N children); the services were already running. */
  startup: { sut: string; label: string; n: number; ms: number }[];
  /** /proc/loadavg at the start and the end of the run. */
  load: { start: string; end: string };
  errors: string[];
}
