import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { parsePfile } from '../../src/config/pfile';
import { reloadSummary } from '../../src/core/reload-summary';

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
});
