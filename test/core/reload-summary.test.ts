import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { parsePfile } from '../../src/config/pfile';
import { MAX_NAMED, reloadSummary } from '../../src/core/reload-summary';

const pfile = (params: string[], entries: string[]) =>
  parsePfile(['##### PARAM #####', 'IPCKEY 0x1234', ...params, '##### PENT #####', ...entries, ''].join('\n'), '/etc/procsafe/t.pfile', { checkFiles: false });

describe('what a reload changed', () => {
  it('says "no change" when the pfile is the same', () => {
    const p = pfile(['MONITOR_INTERVAL 5'], ['/usr/sbin/a:/opt/a.sh:60:3:exit']);
    assert.equal(reloadSummary(p, pfile(['MONITOR_INTERVAL 5'], ['/usr/sbin/a:/opt/a.sh:60:3:exit'])), 'no change');
  });

  it('names the entries added, removed and edited, the PARAM values changed, and how many stayed as they were', () => {
    const before = pfile(['MONITOR_INTERVAL 5'], ['/usr/sbin/a:/opt/a.sh:60:3:exit', '/usr/sbin/b:/opt/b.sh:60:3:exit', '/usr/sbin/c:/opt/c.sh:60:3:exit']);
    const after = pfile(['MONITOR_INTERVAL 2'], ['/usr/sbin/a:/opt/a.sh:60:3:exit', '/usr/sbin/c:/opt/c.sh:120:5:none', '/usr/sbin/d:/opt/d.sh:60:3:exit']);
    assert.equal(
      reloadSummary(before, after),
      'added 3:/usr/sbin/d; removed /usr/sbin/b; edited 2:/usr/sbin/c (retry 3 -> 5, grace 60 -> 120, action exit -> none); MONITOR_INTERVAL 5 -> 2; 1 unchanged',
    );
  });

  it('an entry whose options (include strings) change is another entry: removed and added', () => {
    const before = pfile([], ['/usr/bin/java:/opt/t.sh:60:3:exit:include_strings=tomcat']);
    const after = pfile([], ['/usr/bin/java:/opt/t.sh:60:3:exit:include_strings=jboss']);
    assert.equal(reloadSummary(before, after), 'added 1:/usr/bin/java; removed /usr/bin/java; 0 unchanged');
  });

  it('a log key changed says it applies only when pcheck is restarted (the log sinks are opened at start)', () => {
    const before = pfile(['SYSLOG on'], ['/usr/sbin/a:/opt/a.sh:60:3:exit']);
    const after = pfile(['SYSLOG off', 'LOG_FILE /var/log/a.log'], ['/usr/sbin/a:/opt/a.sh:60:3:exit']);
    assert.equal(
      reloadSummary(before, after),
      'LOG_FILE - -> /var/log/a.log (read at start: applies when pcheck is restarted); SYSLOG on -> off (read at start: applies when pcheck is restarted); 1 unchanged',
    );
  });

  it('an INITIAL_WAIT change is listed (new entries wait the new time), not "no change"', () => {
    const before = pfile(['INITIAL_WAIT 5'], ['/usr/sbin/a:/opt/a.sh:60:3:exit']);
    assert.equal(reloadSummary(before, pfile(['INITIAL_WAIT 30'], ['/usr/sbin/a:/opt/a.sh:60:3:exit'])), 'INITIAL_WAIT 5 -> 30; 1 unchanged');
  });

  it('a pfile of 1,000 new entries stays one short line: ten named, the rest counted', () => {
    const one = '/usr/sbin/a:/opt/a.sh:60:3:exit';
    const many = Array.from({ length: 1000 }, (_, i) => `/opt/app${i}:/opt/start${i}.sh:60:3:none`);
    const line = reloadSummary(pfile([], [one]), pfile([], [one, ...many]));
    assert.ok(line.startsWith('added 2:/opt/app0, 3:/opt/app1, '), line);
    assert.ok(line.endsWith(`11:/opt/app9 and ${1000 - MAX_NAMED} more; 1 unchanged`), line);
    assert.ok(line.length < 400, `${line.length} characters`);
    const back = reloadSummary(pfile([], [one, ...many]), pfile([], [one]));
    assert.ok(back.endsWith('/opt/app9 and 990 more; 1 unchanged'), back);
  });

  it('an entry kept for its restart under way although its options changed is edited, not removed and added', () => {
    const before = pfile([], ['/usr/sbin/a:/opt/a.sh:0:3:none']);
    const after = pfile([], ['/usr/sbin/a:/opt/a.sh:0:5:none:hang_timeout=30']);
    assert.equal(
      reloadSummary(before, after, { carried: [[before.pents[0], after.pents[0]]] }),
      'edited 1:/usr/sbin/a (retry 3 -> 5, options - -> hang_timeout=30: its restart under way carries on); 0 unchanged',
    );
  });

  it('in FailSafe mode a group pfile\'s log keys are said not to be used ([daemon] log_file is), not to apply at restart', () => {
    const before = pfile([], ['/usr/sbin/a:/opt/a.sh:60:3:exit']);
    const after = pfile(['LOG_FILE /var/log/a.log'], ['/usr/sbin/a:/opt/a.sh:60:3:exit']);
    assert.equal(reloadSummary(before, after, { failsafe: true }), 'LOG_FILE - -> /var/log/a.log (not used in FailSafe mode: [daemon] log_file and syslog are); 1 unchanged');
  });

  it('entries only reordered are unchanged; pnames with spaces are named as written', () => {
    const before = pfile([], ['/opt/my app/bin:/opt/a.sh:60:3:exit', '/usr/sbin/b:/opt/b.sh:60:3:exit']);
    const after = pfile([], ['/usr/sbin/b:/opt/b.sh:60:3:exit', '/opt/my app/bin:/opt/a.sh:60:4:exit']);
    assert.equal(reloadSummary(before, after), 'edited 2:/opt/my app/bin (retry 3 -> 4); 1 unchanged');
  });

  it('a removed entry that shared its pname with another is named with its options: which java went', () => {
    const before = pfile([], ['/usr/bin/java:/opt/t.sh:60:3:exit:include_strings=tomcat', '/usr/bin/java:/opt/j.sh:60:3:exit:include_strings=jboss']);
    const after = pfile([], ['/usr/bin/java:/opt/t.sh:60:3:exit:include_strings=tomcat']);
    assert.equal(reloadSummary(before, after), 'removed /usr/bin/java [include_strings=jboss]; 1 unchanged');
  });
});
