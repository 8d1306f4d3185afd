// Security of a real FailSafe daemon (pcheck --config) under umask 000 with secrets in its
// environment: owner-only socket, token and state directory; an unprivileged padmin refused;
// group scripts with a clean environment and their arguments as written; and the web server
// with its defaults: loopback only, the token on every data route, no markup echoed.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { chmodSync, existsSync, mkdirSync, readFileSync, readdirSync, readlinkSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { PADMIN, kill, waitFor, type Pcheck } from '../helpers/harness';
import { FailsafeSandbox } from '../helpers/failsafe';
import { http, SseReader, type Answer } from '../web/http';
import { failsafeSocketPath, socketPath } from '../../src/control/protocol';
import { SCRIPT_PATH } from '../../src/exec/run-script';
import { BIN_DIR } from '../../src/control/script-log';
import { asNobody, canaries, environOf, hostileEnv, mode, octal, payloads, pcheckUmask000 } from './security-helpers';

const DEFAULT_PORT = 29003;

interface Listener {
  proto: 'tcp' | 'tcp6';
  addr: string;
  port: number;
  inode: string;
}

/** TCP sockets in LISTEN state, from /proc/net/tcp{,6}. */
function listening(): Listener[] {
  const out: Listener[] = [];
  for (const proto of ['tcp', 'tcp6'] as const) {
    for (const line of readFileSync(`/proc/net/${proto}`, 'utf8').split('\n').slice(1)) {
      const f = line.trim().split(/\s+/);
      if (f.length < 10 || f[3] !== '0A') continue;
      const [hex, port] = f[1].split(':');
      const addr =
        proto === 'tcp'
          ? (hex.match(/../g) ?? []).reverse().map((b) => parseInt(b, 16)).join('.')
          : hex; // the raw 32 hex digits: only compared with "nothing"
      out.push({ proto, addr, port: parseInt(port, 16), inode: f[9] });
    }
  }
  return out;
}

/** The listening TCP sockets held by `pid`. */
function listenersOf(pid: number): Listener[] {
  const inodes = new Set<string>();
  for (const fd of readdirSync(`/proc/${pid}/fd`)) {
    try {
      const m = /^socket:\[(\d+)\]$/.exec(readlinkSync(`/proc/${pid}/fd/${fd}`));
      if (m) inodes.add(m[1]);
    } catch {
      // closed meanwhile
    }
  }
  return listening().filter((l) => inodes.has(l.inode));
}

const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

describe('security: a FailSafe daemon with its web page on the defaults, under umask 000', () => {
  const sb = new FailsafeSandbox();
  const canary = join(sb.dir, 'canary');
  const stateDir = join(sb.dir, 'fs', 'state', 'sub');
  const tokenFile = join(stateDir, 'web.token');
  const logFile = join(sb.dir, 'procsafe.log');
  const envDump = join(sb.dir, 'start.environ');
  const argDump = join(sb.dir, 'start.args');
  const pname = join(sb.dir, '<img src=x onerror=alert(1)>svc');
  const markup = '<script>alert("m")</script>';
  const groupArgs = [...payloads(canary, 'arg'), '| touch x && touch y'];
  let pfile: string;
  let pc: Pcheck;
  let base: string;
  let token: string;
  const auth = (): Record<string, string> => ({ Authorization: `Bearer ${token}` });

  before(async () => {
    const taken = listening().filter((l) => l.port === DEFAULT_PORT);
    assert.deepEqual(taken, [], `port ${DEFAULT_PORT} (the default [web] listen) is in use; this test proves the default and needs it free`);
    chmodSync(sb.dir, 0o755);
    mkdirSync(canary);
    const start = join(sb.dir, 'scripts', `start $(touch ${canary}/gs-1) ;touch ${canary}/gs-2; \`touch ${canary}/gs-3\`.sh`);
    mkdirSync(dirname(start), { recursive: true });
    writeFileSync(
      start,
      '#!/bin/bash\n' +
        `cp /proc/$$/environ '${envDump}'\n` +
        `printf '%s\\n' "$0" "$@" > '${argDump}'\n` +
        `setsid bash -c 'exec -a "$0" sleep infinity' '${pname}' </dev/null >/dev/null 2>&1 &\n`,
    );
    chmodSync(start, 0o755);
    const html = sb.script('html.sh', `echo '${markup}'\nexit 1`);
    const restart = sb.script('restart.sh', 'exit 0');
    pfile = sb.pfile({ param: { INITIAL_WAIT: 30 }, pents: [`${pname}:${restart}:0:3:none`] });
    const quoted = [start, ...groupArgs].map((a) => `'${a}'`).join(' ');
    writeFileSync(
      sb.iniPath,
      `[daemon]\nname = testhost\nsyslog = off\nlog_file = ${logFile}\nstate_file = ${join(stateDir, 'procsafe.state')}\n\n` +
        `[group:app]\nstart = "${quoted}"\npfile = ${pfile}\n\n` +
        `[monitor:html]\ntype = custom\ncommand = "${html}"\ntarget = app\nretries = 1000\ninterval = 1\n\n` +
        '[web]\n',
    );
    pc = pcheckUmask000(sb, ['--config', sb.iniPath, '--rehearse'], hostileEnv(sb.dir), canary);
    await pc.waitLine(`Web page: http://127.0.0.1:${DEFAULT_PORT}/ (token in ${tokenFile})`);
    // found by the first scan after the group is Online, or by the next one MONITOR_INTERVAL (10 s) later
    await pc.waitLine(`(${pname} ,pid=`, 20_000);
    await pc.waitLine(`Monitor html failed (1/1001)`);
    base = `http://127.0.0.1:${DEFAULT_PORT}`;
    token = readFileSync(tokenFile, 'utf8').trim();
  });

  after(async () => {
    if (pc && pc.child.exitCode === null) {
      kill(pc.pid, 'SIGTERM');
      await pc.exited;
    }
    sb.cleanup();
  });

  it('creates the sockets, the token, the state directory and the logs owner-only despite umask 000', () => {
    assert.match(readFileSync(`/proc/${pc.pid}/status`, 'utf8'), /^Umask:\s+0000$/m);
    for (const s of [failsafeSocketPath(sb.runDir), socketPath(sb.runDir, sb.ipckey)]) {
      assert.ok(statSync(s).isSocket(), s);
      assert.equal(octal(mode(s)), '0600', s);
    }
    assert.equal(octal(mode(sb.runDir)), '0755', 'run directory (documented: anyone may list the sockets)');
    for (const d of ['fs', 'fs/state', 'fs/state/sub']) assert.equal(octal(mode(join(sb.dir, d))), '0700', `${d}, created for the token`);
    assert.equal(octal(mode(tokenFile)), '0600', 'web token');
    assert.match(token, /^[0-9a-f]{64}$/);
    const alerts = join(stateDir, 'alerts.log');
    if (existsSync(alerts)) assert.equal(octal(mode(alerts)), '0600', 'alert log');
    assert.equal(octal(mode(join(sb.dir, 'state.dmp'))), '0600', 'the pfile’s state file');
    assert.equal(mode(logFile) & 0o037, 0, `log_file: nothing for others, no group write (mode ${octal(mode(logFile))})`);
    // the token is in its file only: not in the log, not on a stdout that is not a terminal
    assert.ok(!readFileSync(logFile, 'utf8').includes(token), 'token not in the log file');
    assert.ok(!pc.lines.some((l) => l.text.includes(token)), 'token not on stdout');
  });

  it('refuses padmin run by nobody (status, group stop, monitor suspend, reload, pfile stop) and reads it nothing', () => {
    const msg = (sock: string) =>
      `padmin: permission denied on ${sock}: the control socket is owner-only (mode 0600); run padmin as the user that runs pcheck (usually root)\n`;
    const cases: [string[], string][] = [
      [['status'], failsafeSocketPath(sb.runDir)],
      [['group', 'stop', 'app'], failsafeSocketPath(sb.runDir)],
      [['monitor', 'suspend', 'html'], failsafeSocketPath(sb.runDir)],
      [['reload'], failsafeSocketPath(sb.runDir)],
      [['-f', pfile, '-c', 'stop'], socketPath(sb.runDir, sb.ipckey)],
    ];
    for (const [args, sock] of cases) {
      const r = asNobody([process.execPath, PADMIN, ...args], sb.env());
      assert.equal(r.status, 1, `${args.join(' ')}: ${r.stderr}`);
      assert.equal(r.stderr, msg(sock), args.join(' '));
    }
    const cat = asNobody(['cat', tokenFile]);
    assert.notEqual(cat.status, 0);
    assert.match(cat.stderr, /Permission denied/);
    const s = sb.status();
    assert.equal(s.groups[0].state, 'Online');
    assert.notEqual(s.monitors.find((m) => m.name === 'html')?.status, 'Suspended');
    assert.equal(pc.count('Command execute.') + pc.count('Group app: Online -> Stopping'), 0);
  });

  it('runs the group start command as an argv array, literally, with a clean environment', () => {
    const env = environOf(envDump);
    assert.deepEqual([...env.keys()].sort(), ['CLP_DISK', 'CLP_EVENT', 'CLP_GROUPNAME', 'CLP_RESOURCENAME', 'CLP_SERVER', 'LANG', 'PATH', 'PS_EVENT', 'PS_GROUP', 'PS_SOCKET', 'TZ']);
    // the fixed PATH, then procsafe's own bin directory (clplogcmd), which shadows nothing
    assert.equal(env.get('PATH'), `${SCRIPT_PATH}:${BIN_DIR}`);
    assert.equal(env.get('PS_SOCKET'), failsafeSocketPath(sb.runDir));
    const args = readFileSync(argDump, 'utf8').split('\n').slice(0, -1);
    assert.equal(args.length, 1 + groupArgs.length);
    assert.deepEqual(args.slice(1), groupArgs);
    assert.match(args[0], /\/start \$\(touch .*\/gs-1\) ;touch .*\/gs-2; `touch .*\/gs-3`\.sh$/);
  });

  it('binds the web server to 127.0.0.1 only when [web] names no address', () => {
    const l = listenersOf(pc.pid);
    assert.deepEqual(
      l.map((x) => `${x.proto} ${x.addr}:${x.port}`),
      [`tcp 127.0.0.1:${DEFAULT_PORT}`],
    );
  });

  it('answers 401 with no data to a missing or wrong token, on every data route, and acts on nothing', async () => {
    const flip = (i: number): string => token.slice(0, i) + (token[i] === '0' ? '1' : '0') + token.slice(i + 1);
    assert.notEqual(token.toUpperCase(), token);
    const wrong: Record<string, string>[] = [
      {},
      { Authorization: `Bearer ${flip(0)}` },
      { Authorization: `Bearer ${flip(63)}` },
      { Authorization: `Bearer ${token.slice(0, -1)}` },
      { Authorization: `Bearer ${token}0` },
      { Authorization: `Bearer ${token.toUpperCase()}` },
      { Authorization: `Bearer ${token} ${token}` },
      { Authorization: 'Bearer' },
      { Authorization: `Basic ${Buffer.from(`procsafe:${token}`).toString('base64')}` },
      { Cookie: `token=${token}` },
    ];
    const refused: Answer[] = [];
    for (const headers of wrong) {
      for (const path of ['/api/status', '/api/alerts', '/metrics', '/api/events']) refused.push(await http(base, 'GET', path, { headers }));
      refused.push(await http(base, 'POST', '/api/groups/app/stop', { headers }));
    }
    // ?token= is for the live feed only (EventSource cannot send headers)
    refused.push(await http(base, 'GET', `/api/status?token=${token}`));
    refused.push(await http(base, 'POST', `/api/groups/app/stop?token=${token}`));
    refused.push(await http(base, 'GET', `/api/events?token=${flip(5)}`));
    for (const r of refused) {
      assert.equal(r.status, 401);
      assert.equal(r.body, '{"error":"unauthorized: send Authorization: Bearer TOKEN (see docs/api.md)"}');
      assert.equal(r.headers['www-authenticate'], 'Bearer realm="procsafe"');
      assert.equal(r.headers['content-type'], 'application/json; charset=utf-8');
      assert.equal(r.headers['x-content-type-options'], 'nosniff');
    }
    assert.equal(sb.status().groups[0].state, 'Online');
    assert.equal(pc.count('Group app: Online -> Stopping'), 0);
  });

  it('compares tokens in constant time: a wrong first or last character takes the same time', async (t) => {
    // tokenOk() hashes both sides (SHA-256) and compares the digests with timingSafeEqual.
    // Over HTTP no difference should show beyond noise; the figures go to RELIABILITY.md.
    const flip = (i: number): string => token.slice(0, i) + (token[i] === '0' ? '1' : '0') + token.slice(i + 1);
    const times: Record<'first' | 'last' | 'right', number[]> = { first: [], last: [], right: [] };
    for (let i = 0; i < 150; i++) {
      for (const [k, tok] of [
        ['first', flip(0)],
        ['last', flip(63)],
        ['right', token],
      ] as const) {
        const t0 = process.hrtime.bigint();
        const r = await http(base, 'GET', '/api/alerts', { headers: { Authorization: `Bearer ${tok}` } });
        times[k].push(Number(process.hrtime.bigint() - t0) / 1000);
        assert.equal(r.status, k === 'right' ? 200 : 401);
      }
    }
    t.diagnostic(
      `median µs over 150 requests each: wrong first char ${median(times.first).toFixed(0)}, wrong last char ${median(times.last).toFixed(0)}, right token ${median(times.right).toFixed(0)}`,
    );
  });

  it('escapes markup from the config, the checks and the request in every answer', async () => {
    // JSON: the markup arrives intact for a parser, but no "<" or ">" is in the bytes
    const st = await http(base, 'GET', '/api/status', { headers: auth() });
    assert.equal(st.status, 200);
    assert.equal(st.headers['content-type'], 'application/json; charset=utf-8');
    assert.doesNotMatch(st.body, /[<>]/);
    const view = JSON.parse(st.body) as { monitors: { name: string; detail: string }[]; pfiles: { entries: { pname: string }[] }[] };
    assert.equal(view.pfiles[0].entries[0].pname, pname);
    assert.ok(view.monitors.find((m) => m.name === 'html')!.detail.includes(markup));
    const alerts = await http(base, 'GET', '/api/alerts', { headers: auth() });
    assert.doesNotMatch(alerts.body, /[<>]/);
    assert.ok(alerts.body.includes('\\u003cscript\\u003e'), 'the failure of the html monitor is in the alerts, escaped');
    // the live feed: same escaping
    const sse = new SseReader(base, `/api/events?token=${token}`);
    try {
      assert.equal(await sse.opened, 200);
      await sse.waitFor((r) => r.of('status').length > 0, 5000);
      const frame = sse.of('status')[0].data;
      assert.doesNotMatch(frame, /[<>]/);
      assert.equal((JSON.parse(frame) as typeof view).pfiles[0].entries[0].pname, pname);
    } finally {
      sse.close();
    }
    // /metrics is Prometheus text: served as text/plain with nosniff, never as HTML
    const m = await http(base, 'GET', '/metrics', { headers: auth() });
    assert.match(String(m.headers['content-type']), /^text\/plain;/);
    assert.equal(m.headers['x-content-type-options'], 'nosniff');
    // request paths, queries and names with markup: never echoed
    const probes: [string, string, Record<string, string>, number][] = [
      ['GET', '/api/<script>alert(11)</script>?q=<script>alert(12)</script>', auth(), 404],
      ['GET', '/api/<script>alert(13)</script>?token=<script>alert(14)</script>', {}, 401],
      ['GET', '/%3Cscript%3Ealert(15)%3C/script%3E', auth(), 404],
      ['POST', `/api/groups/${encodeURIComponent('<img src=x onerror=alert(16)>')}/restart`, auth(), 409],
      ['POST', `/api/monitors/${encodeURIComponent('<b onmouseover=alert(17)>x')}/suspend`, auth(), 409],
    ];
    for (const [method, path, headers, want] of probes) {
      const r = await http(base, method, path, { headers });
      assert.equal(r.status, want, `${method} ${path}: ${r.body}`);
      assert.equal(r.headers['content-type'], 'application/json; charset=utf-8', path);
      assert.equal(r.headers['x-content-type-options'], 'nosniff', path);
      assert.match(String(r.headers['content-security-policy']), /default-src 'self'/, path);
      assert.doesNotMatch(r.body, /[<>]/, `${path}: ${r.body}`);
      assert.equal(typeof (JSON.parse(r.body) as object), 'object');
    }
    const page = await http(base, 'GET', '/?q=<script>alert(18)</script>');
    assert.equal(page.status, 200);
    assert.equal(page.headers['content-type'], 'text/html; charset=utf-8');
    assert.ok(!page.body.includes('alert(18)'), 'the page is static: the query is not in it');
    assert.equal(sb.status().groups[0].restarts, 0, 'no operation ran');
  });

  it('ran none of the shell syntax (script path, arguments, payload names) and still stops cleanly', async () => {
    assert.deepEqual(canaries(canary), []);
    kill(pc.pid, 'SIGTERM');
    assert.equal(await pc.exited, 0);
    await waitFor(() => !existsSync(failsafeSocketPath(sb.runDir)), 5000, 'the socket to be removed');
  });
});
