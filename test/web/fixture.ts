// A StatusView as the FailSafe daemon produces it (the web server's input, not a mock of
// anything): two groups, three monitors, a pfile with three entries. Some names carry the
// characters that escaping must handle (quote, backslash, angle brackets).
import type { ProcsafeEvent } from '../../src/core/events';
import type { PentView } from '../../src/views/pent-view';
import type { StatusView } from '../../src/views/status-view';

export function entry(over: Partial<PentView> & Pick<PentView, 'pent_id' | 'pname'>): PentView {
  return {
    pid: 4242,
    retry_count: 0,
    restart_count: 0,
    proc_sts: 'AVAIL',
    retry_over_act: 'group',
    rerun_time: null,
    include_strings: [],
    exclude_strings: [],
    user: null,
    monitor_sts: 'on',
    restart_script: '/opt/app/start.sh',
    retry_limit: 3,
    grace: 60,
    ...over,
  };
}

export function sampleStatus(): StatusView {
  return {
    server: { name: 'fixture-host', pid: 1234, version: '0.1.0', startedAt: Date.UTC(2026, 0, 2, 3, 4, 5), rehearse: true, config: '/etc/procsafe/procsafe.ini' },
    groups: [
      { name: 'secret-group-web', state: 'Online', restarts: 2, lastScript: 'RESTART: exit 0' },
      { name: 'db', state: 'Error', restarts: 0, lastScript: 'START: exit 1' },
    ],
    monitors: [
      {
        name: 'web-http',
        type: 'http',
        target: 'secret-group-web',
        status: 'Normal',
        failures: 0,
        retries: 1,
        groupRestarts: 1,
        restartThreshold: 2,
        finalAction: 'reboot',
        finalActionDone: false,
        finalActionRefused: null,
        detail: 'HTTP 200 from http://127.0.0.1:18080/ in 2 ms',
        lastCheckAt: Date.now(),
      },
      {
        name: 'db-pid',
        type: 'pid',
        target: 'db',
        status: 'Error',
        failures: 2,
        retries: 1,
        groupRestarts: 1,
        restartThreshold: 1,
        finalAction: 'stop_group',
        finalActionDone: true,
        finalActionRefused: null,
        detail: 'no such process 999',
        lastCheckAt: null,
      },
      {
        name: 'disk',
        type: 'disk',
        target: null,
        status: 'Suspended',
        failures: 0,
        retries: 0,
        groupRestarts: 0,
        restartThreshold: 1,
        finalAction: 'none',
        finalActionDone: false,
        finalActionRefused: null,
        detail: '',
        lastCheckAt: null,
      },
    ],
    pfiles: [
      {
        path: '/etc/procsafe/web.pfile',
        group: 'secret-group-web',
        entries: [
          entry({ pent_id: 1, pname: '/usr/bin/node' }),
          entry({ pent_id: 2, pname: '/opt/odd "quoted" \\back\\slash<b>', pid: null, proc_sts: 'RESTARTING', retry_count: 2, restart_count: 7, rerun_time: Date.now() - 5000 }),
          entry({ pent_id: 3, pname: '/usr/sbin/cron', proc_sts: 'RETRY_OVER', pid: null, retry_count: 3, restart_count: 3, monitor_sts: 'off' }),
        ],
      },
    ],
  };
}

export function sampleEvent(over: Partial<ProcsafeEvent> = {}): ProcsafeEvent {
  return {
    kind: 'down',
    at: Date.now(),
    server: 'fixture-host',
    subject: '/usr/bin/node',
    message: 'Process [/usr/bin/node , pid=4242] Down',
    fields: { pfile: '/etc/procsafe/web.pfile', pentId: 1, pid: 4242 },
    ...over,
  };
}
