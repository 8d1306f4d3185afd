// How each group begins when pcheck starts (SPEC §10 "No double start"; the rule is the pure
// core/group-resume.ts): started; left stopped (the operator's or its final action's stop is
// kept); adopted Online without its start script when the previous pcheck left it Online in this
// boot and it still runs — its pfile's entries find their processes and its monitors pass one
// check; else restarted, stop script first. A start or stop script the previous pcheck left
// running (it was SIGKILLed meanwhile) is stopped first: it would start a second copy.
import { groupResume } from '../../core/group-resume';
import { isDead, readStat } from '../../proc/proc-stat';
import { readEnviron } from '../../proc/proc-table';
import { killScriptTree } from '../../proc/script-tree';
import type { ScriptRecord } from '../../state/failsafe-state';
import type { GroupRunner } from './group-runner';
import type { Rooms } from './rooms';

export async function beginGroup(r: Rooms, g: GroupRunner): Promise<void> {
  const name = g.cfg.name;
  const rec = r.state.group(name);
  if (rec !== undefined) g.run = { ...g.run, restarts: rec.restarts };
  if (rec?.script && r.state.sameBoot) stopLeftScript(r, name, rec.script);
  const how = groupResume(rec, r.state.sameBoot);
  switch (how.kind) {
    case 'start':
      g.send({ type: 'start' });
      return;
    case 'leaveStopped': {
      g.stoppedBy = how.by;
      const who = how.by === 'operator' ? 'the operator' : 'its final action';
      if (!how.finishStop) {
        r.log.notice(`Group ${name}: stopped by ${who} before pcheck restarted: left Offline (padmin group start ${name} starts it)`);
        return;
      }
      r.log.notice(`Group ${name}: stopped by ${who}, but the previous pcheck ended while it was ${rec?.state ?? '?'}: running its stop script again, then left Offline (padmin group start ${name} starts it)`);
      g.send({ type: 'stop', again: true });
      return;
    }
    case 'restart':
      r.log.notice(`Group ${name}: was ${how.was} when the previous pcheck ended: restarting it (stop script, then start script)`);
      g.send({ type: 'restart', stopFirst: true });
      return;
    case 'adoptIfRunning': {
      const why = r.pfiles.notRunning(name) ?? (await r.monitors.checkGroup(name));
      if (r.stopping()) return;
      if (why === null) {
        r.log.notice(`Group ${name}: still Online from the previous pcheck (same boot; its processes run, its monitors pass): adopted, its start script is not run again`);
        g.send({ type: 'adopt' });
      } else {
        r.log.notice(`Group ${name}: was Online before pcheck restarted, but ${why}: restarting it (stop script, then start script)`);
        g.send({ type: 'restart', stopFirst: true });
      }
      return;
    }
  }
}

/** The script of the previous pcheck, if it still runs (same pid and start time): killed with its
 *  process group and session, as at pcheck's stop. Nothing of the group is watched yet. */
function stopLeftScript(r: Rooms, name: string, s: ScriptRecord): void {
  const st = readStat(s.pid);
  if (st === null || isDead(st) || st.startTime !== s.startTime || !isScriptOf(s.pid, name)) return;
  const k = killScriptTree(s.pid, new Set());
  r.log.notice(`Group ${name}: the ${s.phase} script of the previous pcheck (pid=${s.pid}) still runs: stopped it: killed pid=${k.killed.join(',') || '-'}`);
}

/** The process carries the environment pcheck gives the group's scripts: the state file alone
 *  (it could have been edited) never makes pcheck kill a process that is not one of them. */
function isScriptOf(pid: number, group: string): boolean {
  return readEnviron(pid)?.includes(`PS_GROUP=${group}`) === true;
}
