// The rules between sections of the FailSafe ini file: targets and schedule actions name
// sections that exist, a pfile belongs to one group and goes to one process monitor (of that
// group), and no monitor takes the name of the one procsafe adds for a group's pfile.
import * as path from 'node:path';
import { implicitProcessMonitors, type FailsafeConfig, type GroupConfig } from '../core/failsafe-model';
import type { FailAt } from './ini-lines';
import type { SectionKind } from './ini-schema';
import { lineOf, mustStr, type Section } from './ini-section';
import { didYouMean, q } from './words';

export function checkReferences(config: FailsafeConfig, sections: Section[], failAt: FailAt): void {
  const sectionOf = (kind: SectionKind, name: string): Section => {
    const s = sections.find((x) => x.kind === kind && x.name === name);
    if (s === undefined) throw new TypeError(`no section ${kind}:${name}`);
    return s;
  };
  const groups = config.groups.map((g) => g.name);
  const monitors = config.monitors.map((m) => m.name);
  for (const m of config.monitors) {
    if (m.target === null) continue;
    const s = sectionOf('monitor', m.name);
    failUnlessNamed(m.target, groups, 'group', (p) => failAt(lineOf(s, 'target'), `${s.label} target = ${q(m.target ?? '')}: ${p}`));
  }
  for (const sc of config.schedules) {
    const s = sectionOf('schedule', sc.name);
    const bad = (p: string): never => failAt(lineOf(s, 'action'), `${s.label} action = ${q(mustStr(s, 'action'))}: ${p}`);
    if (sc.action.kind === 'restart_group') failUnlessNamed(sc.action.group, groups, 'group', bad);
    else failUnlessNamed(sc.action.monitor, monitors, 'monitor', bad);
  }
  checkSharedPfiles(config.groups, (g) => sectionOf('group', g), failAt);
  checkProcessMonitors(config, (m) => sectionOf('monitor', m), failAt);
}

function failUnlessNamed(name: string, known: string[], kind: 'group' | 'monitor', bad: (p: string) => never): void {
  if (known.includes(name)) return;
  if (known.length === 0) bad(`there is no [${kind}:${name}] (the file defines no ${kind}s); add that section`);
  bad(`there is no [${kind}:${name}]${didYouMean(name, known, `the ${kind}s are`)}`);
}

/** A pfile's entries belong to one group: its recovery chain is the one that takes over. */
function checkSharedPfiles(groups: GroupConfig[], sectionOf: (name: string) => Section, failAt: FailAt): void {
  const owner = new Map<string, string>();
  for (const g of groups) {
    if (g.pfile === null) continue;
    const first = owner.get(path.resolve(g.pfile));
    if (first !== undefined) {
      const s = sectionOf(g.name);
      failAt(lineOf(s, 'pfile'), `${s.label} pfile = ${q(g.pfile)}: this pfile is already in [group:${first}]; an entry can belong to one group only`);
    }
    owner.set(path.resolve(g.pfile), g.name);
  }
}

/**
 * The retry-overs of a pfile's entries go to one process monitor (a second would never fire),
 * which restarts the group that holds the pfile (the entries follow that group's state). And
 * the monitor procsafe adds for a group's pfile (`GROUP-pfile`) must not share its name with
 * one of the file's, which would hide it from padmin.
 */
function checkProcessMonitors(config: FailsafeConfig, sectionOf: (name: string) => Section, failAt: FailAt): void {
  const owner = new Map(config.groups.flatMap((g) => (g.pfile === null ? [] : [[path.resolve(g.pfile), g.name] as const])));
  const watcher = new Map<string, string>();
  for (const m of config.monitors) {
    if (m.type !== 'process') continue;
    const s = sectionOf(m.name);
    const pfile = path.resolve(m.pfile);
    const first = watcher.get(pfile);
    if (first !== undefined) {
      failAt(lineOf(s, 'pfile'), `${s.label} pfile = ${q(m.pfile)}: [monitor:${first}] already watches this pfile, and its entries' retry-overs go to one monitor only (this one would never fire); remove one of the two`);
    }
    watcher.set(pfile, m.name);
    const group = owner.get(pfile);
    if (group !== undefined && m.target !== null && m.target !== group) {
      failAt(
        lineOf(s, 'target'),
        `${s.label} target = ${q(m.target)}: the pfile ${q(m.pfile)} belongs to [group:${group}], whose restart heals its entries (and whose state they follow); write target = ${group}`,
      );
    }
  }
  for (const implicit of implicitProcessMonitors(config)) {
    if (!config.monitors.some((m) => m.name === implicit.name)) continue;
    const s = sectionOf(implicit.name);
    failAt(
      s.line,
      `${s.label}: procsafe names the process monitor it adds for the pfile of [group:${implicit.target ?? ''}] ${implicit.name}, so this section would hide it; rename this monitor, or make it that pfile's process monitor (type = process, pfile = ${implicit.type === 'process' ? implicit.pfile : ''})`,
    );
  }
}
