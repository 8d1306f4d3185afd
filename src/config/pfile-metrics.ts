// The PARAM keys that turn on `/metrics` for `pcheck -f` (a procsafe extension, off unless
// METRICS_LISTEN is given, so a ProcessSaver pfile stays as it is). docs/pfile.md.
import * as path from 'node:path';
import type { PfileParam } from '../core/model';
import { hostPortProblem } from './host-port';
import { cidrProblem, listenNeedsAllow } from './net-access';
import { q } from './words';

export const METRICS_PARAM_KEYS = ['METRICS_LISTEN', 'METRICS_TOKEN_FILE', 'METRICS_ALLOW'] as const;
export type MetricsParamKey = (typeof METRICS_PARAM_KEYS)[number];

export const METRICS_EXAMPLES: Readonly<Record<MetricsParamKey, string>> = {
  METRICS_LISTEN: '127.0.0.1:29101',
  METRICS_TOKEN_FILE: '/etc/procsafe/metrics.token',
  METRICS_ALLOW: '127.0.0.1, 192.0.2.20',
};

export const METRICS_DEFAULTS = { metricsListen: null, metricsTokenFile: null, metricsAllow: null } as const;

/** One METRICS_* line's value; `bad` throws the located error. */
export function metricsParamValue(key: MetricsParamKey, value: string, bad: (problem: string) => never): Partial<PfileParam> {
  switch (key) {
    case 'METRICS_LISTEN': {
      const problem = hostPortProblem(value);
      if (problem !== null) bad(`${key} ${q(value)}: ${problem.replace('0.0.0.0:PORT (every address)', '0.0.0.0:PORT (every address, with METRICS_ALLOW)')}`);
      return { metricsListen: value };
    }
    case 'METRICS_TOKEN_FILE':
      if (!path.isAbsolute(value)) bad(`${key} ${q(value)} is not an absolute path; write e.g. ${key} ${METRICS_EXAMPLES[key]}`);
      return { metricsTokenFile: value };
    case 'METRICS_ALLOW': {
      const items = value.split(',').map((s) => s.trim());
      if (items.some((s) => s === '')) bad(`${key} ${q(value)} has an empty item; write e.g. ${key} ${METRICS_EXAMPLES[key]}`);
      for (const item of items) {
        const problem = cidrProblem(item);
        if (problem !== null) bad(`${key} ${q(item)}: ${problem}`);
      }
      return { metricsAllow: items };
    }
  }
}

/** The keys only make sense together: a token file and an allow list without METRICS_LISTEN serve nothing. */
export function checkMetricsParams(p: PfileParam, lineOf: (key: MetricsParamKey) => number | undefined, failAt: (line: number | null, problem: string) => never): void {
  if (p.metricsListen === null) {
    for (const key of ['METRICS_TOKEN_FILE', 'METRICS_ALLOW'] as const) {
      const line = lineOf(key);
      if (line !== undefined) failAt(line, `${key} is set but METRICS_LISTEN is not, so nothing serves /metrics; add e.g. METRICS_LISTEN ${METRICS_EXAMPLES.METRICS_LISTEN}, or remove ${key}`);
    }
    return;
  }
  const at = lineOf('METRICS_LISTEN') ?? null;
  if (p.metricsTokenFile === null) {
    failAt(at, `METRICS_LISTEN needs METRICS_TOKEN_FILE: the bearer token Prometheus sends (created with a random token if the file does not exist); add e.g. METRICS_TOKEN_FILE ${METRICS_EXAMPLES.METRICS_TOKEN_FILE}`);
  }
  const problem = listenNeedsAllow(p.metricsListen, p.metricsAllow, `METRICS_ALLOW ${METRICS_EXAMPLES.METRICS_ALLOW}`);
  if (problem !== null) failAt(at, `METRICS_LISTEN ${q(p.metricsListen)}: ${problem}`);
}

/**
 * What a reload changed in the METRICS_* keys, which are read at start (the listener, its token
 * and its allow list stay): a sentence for the log and padmin, or null when nothing changed.
 */
export function metricsChangeOnReload(running: PfileParam, next: PfileParam): string | null {
  const show = (v: string | readonly string[] | null): string => (v === null ? '(none)' : typeof v === 'string' ? v : v.join(', '));
  const pairs: [MetricsParamKey, string, string][] = [
    ['METRICS_LISTEN', show(running.metricsListen), show(next.metricsListen)],
    ['METRICS_TOKEN_FILE', show(running.metricsTokenFile), show(next.metricsTokenFile)],
    ['METRICS_ALLOW', show(running.metricsAllow), show(next.metricsAllow)],
  ];
  const changed = pairs.filter(([, a, b]) => a !== b).map(([k, a, b]) => `${k} changed from ${a} to ${b}`);
  if (changed.length === 0) return null;
  return `${changed.join('; ')}, but the METRICS_* keys are read at start: /metrics keeps the old ones until pcheck is restarted`;
}
