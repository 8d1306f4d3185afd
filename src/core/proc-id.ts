// Who a process is, as every layer names it: its pid AND its start time (field 22 of
// /proc/PID/stat, clock ticks since boot), so a reused pid is never taken for the old process.

export interface ProcId {
  pid: number;
  /** start time in clock ticks since boot (field 22 of /proc/PID/stat). */
  startTime: number;
}
