// createProbe: the probe of a monitor type (SPEC §8). The daemon owns scheduling,
// failure counting and recovery; a probe checks one thing once. The `process` type
// (a pfile) is not a probe: the daemon runs its entries itself.
import type { MonitorConfig } from '../core/failsafe-model';
import { createCustomAsyncProbe, createCustomSyncProbe } from './custom';
import { createDiskProbe } from './disk';
import { createHttpProbe } from './http';
import { createNicProbe } from './nic';
import { createPidProbe } from './pid';
import { createPingProbe } from './ping';
import { createResourceProbe } from './resource';
import { createStallProbe } from './stall';
import { createTcpProbe } from './tcp';
import type { Probe, ProbeResult } from './types';
import { clampTimer, errText } from './util';

export type { Probe, ProbeResult } from './types';

/** How long after its timeout a check that has not settled is given up by the guard. */
const GUARD_GRACE_MS = 100;

/** Throws for `process` and for a configuration no probe can run (both are the loader's
 *  or the daemon's mistake, not a check's failure). */
export function createProbe(cfg: MonitorConfig): Probe {
  return guarded(build(cfg));
}

function build(cfg: MonitorConfig): Probe {
  switch (cfg.type) {
    case 'process':
      throw new Error(`monitor ${cfg.name}: type process is run by the daemon from its pfile, not by a probe`);
    case 'pid':
      return createPidProbe(cfg.pidFile);
    case 'http':
      return createHttpProbe(cfg.url, cfg.expectStatus, cfg.expectBody);
    case 'tcp':
      return createTcpProbe(cfg.host, cfg.port);
    case 'ping':
      return createPingProbe(cfg.host);
    case 'disk':
      return createDiskProbe(cfg.path, cfg.writeDir);
    case 'nic':
      return createNicProbe(cfg.interface);
    case 'custom':
      return cfg.mode === 'async' ? createCustomAsyncProbe(cfg.name, cfg.command) : createCustomSyncProbe(cfg.name, cfg.command);
    case 'resource':
      return createResourceProbe(cfg);
    case 'stall':
      return createStallProbe(cfg.maxDelayMs);
  }
}

/**
 * The contract every probe keeps by itself (settle by the timeout, never throw), enforced
 * once more here: a bug in one probe must not stop the daemon's loop or hang its scheduler.
 */
export function guarded(inner: Probe): Probe {
  let closed = false;
  return {
    close: () => {
      if (closed) return;
      closed = true;
      try {
        inner.close();
      } catch {
        // releasing is best effort; nothing the caller could do
      }
    },
    check: (signal, timeoutMs) => {
      if (closed) return Promise.resolve({ ok: false, detail: 'monitor closed' });
      if (signal.aborted) return Promise.resolve({ ok: false, detail: 'check aborted' });
      return new Promise<ProbeResult>((resolve) => {
        const timer = setTimeout(
          () => resolve({ ok: false, detail: `no result within ${Math.round(timeoutMs)} ms` }),
          clampTimer(timeoutMs + GUARD_GRACE_MS),
        );
        let p: Promise<ProbeResult>;
        try {
          p = inner.check(signal, timeoutMs);
        } catch (err) {
          p = Promise.reject(err instanceof Error ? err : new Error(String(err)));
        }
        p.then(
          (r) => resolve(r),
          (err: unknown) => resolve({ ok: false, detail: `probe error: ${errText(err)}` }),
        ).finally(() => clearTimeout(timer));
      });
    },
  };
}
