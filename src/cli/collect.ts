// `padmin [--config FILE.ini] collect-logs [--out FILE.tar.gz]`: like CLUSTERPRO's clplogcc,
// one archive of what support needs: log files (with their rotations), state files, the
// configuration (secrets masked) and `padmin status --json`.
import { dirname } from 'node:path';
import { loadFailsafeConfig } from '../config/ini';
import { loadPfile } from '../config/pfile';
import type { FailsafeConfig } from '../core/failsafe-model';
import { ALERT_LOG_NAME } from '../alerts/alerter';
import { collectLogs, defaultBundlePath, withRotated } from '../bundle/collect';
import { version } from '../version';
import { failsafeStatePath } from '../state/failsafe-state';

/** The state directory of a FailSafe daemon: where its alert log lives. */
export function stateDirOf(cfg: FailsafeConfig, runDir: string): string {
  return cfg.daemon.stateFile !== null ? dirname(cfg.daemon.stateFile) : runDir;
}

export async function collect(cfg: FailsafeConfig, runDir: string, statusJson: string | null, out: string | null): Promise<{ path: string; entries: string[] }> {
  const files: string[] = [cfg.path];
  if (cfg.daemon.logFile !== null) files.push(...(await withRotated(cfg.daemon.logFile)));
  // the FailSafe state file, also where it lives without [daemon] state_file
  files.push(failsafeStatePath(cfg.daemon.stateFile));
  files.push(`${stateDirOf(cfg, runDir)}/${ALERT_LOG_NAME}`);
  const pfiles = new Set([...cfg.groups.flatMap((g) => (g.pfile ? [g.pfile] : [])), ...cfg.monitors.flatMap((m) => (m.type === 'process' ? [m.pfile] : []))]);
  for (const p of pfiles) {
    files.push(p);
    try {
      const pf = loadPfile(p, { checkFiles: false });
      if (pf.param.logFile !== null) files.push(...(await withRotated(pf.param.logFile)));
      if (pf.param.shmDumpFile !== null) files.push(pf.param.shmDumpFile);
    } catch {
      /* a broken pfile is still collected as it is */
    }
  }
  return collectLogs({ out: out ?? defaultBundlePath(process.cwd()), files, statusJson, version: version() });
}

export function loadForAdmin(config: string): FailsafeConfig {
  return loadFailsafeConfig(config, { checkFiles: false });
}
