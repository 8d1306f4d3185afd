// Security, proven on real processes (docs/RELIABILITY.md, "Security"): what pcheck creates is
// owner-only even under umask 000; an unprivileged padmin is refused with a clear message and
// changes nothing; scripts get a clean environment and their argv as written; shell
// metacharacters in any config value run nothing; a planted temporary file does not hand the
// state file to another user. The web server has its own file (security-web.test.ts).
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { PADMIN, PCHECK, Sandbox, kill, waitFor, type Pcheck, type Service } from '../helpers/harness';
import { startRsyslog, type Rsyslog } from '../helpers/rsyslog';
import { socketPath } from '../../src/control/protocol';
import { SCRIPT_PATH } from '../../src/exec/run-script';
import { BIN_DIR } from '../../src/control/script-log';
import { asNobody, canaries, environOf, esc, hostileEnv, mode, octal, payloads, pcheckUmask000, startSleeper } from './security-helpers';

describe('security: pcheck -f under umask 000, with secrets in its environment and shell syntax in the pfile', () => {
  const sb = new Sandbox();
  const canary = join(sb.dir, 'canary');
  let rsys: Rsyslog;
  let pc: Pcheck;
  let pfile: string;
  let svc: Service;
  let firstPid: number;
  const inc = payloads(canary, 'inc');
  const exc = payloads(canary, 'exc');
  const stateFile = join(sb.dir, 'var', 'dump', 'sub', 'state.dmp');
  const logFile = join(sb.dir, 'pcheck.log');
  const envDump = join(sb.dir, 'restart.environ');
  const argDump = join(sb.dir, 'restart.args');
  const scriptFile = join(sb.dir, 'script-made-this');
  const hostileLine = `out: $(touch ${canary}/out-1) ; touch ${canary}/out-2 \`touch ${canary}/out-3\` && touch out-rel`;

  before(async () => {
    chmodSync(sb.dir, 0o755); // nobody may reach the pfile and the run directory; only modes stop it
    mkdirSync(canary);
    rsys = await startRsyslog(sb.dir);
    // pname, restart script path, include and exclude strings all full of shell syntax
    const pname = `${sb.dir}/svc ${inc.join(' ')} && touch ${canary}/pname-5`;
    const script = `${sb.dir}/scripts/restart ${payloads(canary, 'script').join(' ')} && touch ${canary}/script-5.sh`;
    mkdirSync(dirname(script), { recursive: true });
    writeFileSync(
      script,
      '#!/bin/bash\n' +
        `cp /proc/$$/environ '${envDump}'\n` +
        `printf '%s\\n' "$#" "$0" > '${argDump}'\n` +
        `umask >> '${argDump}'\n` +
        `: > '${scriptFile}'\n` +
        `printf '%s\\n' '${hostileLine.replaceAll("'", "'\\''")}'\n` +
        'setsid bash -c \'exec -a "$0" sleep infinity\' "$PS_PNAME" </dev/null >/dev/null 2>&1 &\n',
    );
    chmodSync(script, 0o755);
    svc = { pname, script };
    pfile = sb.pfile({
      param: { SHM_DUMP_FILE: stateFile, LOG_FILE: logFile, SYSLOG: 'on', SYSLOG_SOCKET: rsys.sock, INITIAL_WAIT: 10 },
      pents: [`${pname}:${script}:0:5:none:include_strings=${inc.join('&')},exclude_strings=${exc.join('&')},script_timeout=10`],
    });
    firstPid = startSleeper(sb, pname);
    await waitFor(() => sb.pidsOf(svc).length === 1, 5000, 'the service to start');
    pc = pcheckUmask000(sb, ['-f', pfile], hostileEnv(sb.dir), canary);
    await pc.waitLine(`(${pname} ,pid=${firstPid}) Up`);
  });

  after(async () => {
    if (pc && pc.child.exitCode === null) {
      kill(pc.pid, 'SIGTERM');
      await pc.exited;
    }
    await rsys?.stop();
    sb.cleanup();
  });

  it('runs with umask 000 and still creates every file and directory owner-only', async () => {
    assert.match(readFileSync(`/proc/${pc.pid}/status`, 'utf8'), /^Umask:\s+0000$/m);
    await waitFor(() => existsSync(stateFile), 5000, 'the state file');
    const sock = socketPath(sb.runDir, sb.ipckey);
    assert.ok(statSync(sock).isSocket());
    assert.equal(octal(mode(sock)), '0600', 'control socket');
    // the run directory is 0755 on purpose (docs/systemd.md: anyone may list the sockets);
    // what matters is that nobody else can plant or remove a file in it
    assert.equal(octal(mode(sb.runDir)), '0755', 'run directory');
    for (const d of ['var', 'var/dump', 'var/dump/sub']) assert.equal(octal(mode(join(sb.dir, d))), '0700', `${d}, created for SHM_DUMP_FILE`);
    assert.equal(octal(mode(stateFile)), '0600', 'state file');
    // LOG_FILE: nothing for other users, no write for the group (its mode is reported in RELIABILITY.md)
    assert.equal(mode(logFile) & 0o037, 0, `LOG_FILE mode ${octal(mode(logFile))}`);
    for (const p of [sock, stateFile, logFile, sb.runDir]) assert.equal(statSync(p).uid, 0, p);
  });

  it('refuses an unprivileged padmin with a message saying what to do, exit 1, and nothing changes', async () => {
    const sock = socketPath(sb.runDir, sb.ipckey);
    const msg = `padmin: permission denied on ${sock}: the control socket is owner-only (mode 0600); run padmin as the user that runs pcheck (usually root)\n`;
    for (const cmd of ['stop', 'reload', 'stop pent 1', 'reset pent 1', 'show pent', 'show param']) {
      const r = asNobody([process.execPath, PADMIN, '-f', pfile, '-c', cmd], sb.env());
      assert.equal(r.status, 1, `${cmd}: ${r.stderr}`);
      assert.equal(r.stderr, msg, cmd);
      assert.equal(r.stdout, '', cmd);
    }
    // nor can it read what pcheck keeps: the state file, the log
    for (const f of [stateFile, logFile]) {
      const r = asNobody(['cat', f]);
      assert.equal(r.status, 1, f);
      assert.match(r.stderr, /Permission denied/, f);
    }
    assert.equal(pc.count('Command execute.'), 0, 'no command reached pcheck');
    const [e] = sb.showPent(pfile);
    assert.equal(e.monitor_sts, 'on');
    assert.equal(e.proc_sts, 'AVAIL');
  });

  it('runs the restart script by its path (spaces, $(…), ;, backticks, |, &&) with a clean environment and umask 022', async () => {
    const from = pc.lines.length;
    kill(firstPid, 'SIGKILL');
    await pc.waitLine(`Try to restart (${svc.pname})`, 10_000, from);
    const up = await pc.waitLine(`(${svc.pname} ,pid=`, 15_000, from);
    assert.doesNotMatch(up.text, new RegExp(`pid=${firstPid}\\)`));
    const env = environOf(envDump);
    assert.deepEqual([...env.keys()].sort(), ['LANG', 'PATH', 'PS_OLD_PID', 'PS_PENT_ID', 'PS_PNAME', 'PS_RESTART_COUNT', 'PS_RETRY_COUNT', 'PS_SOCKET', 'TZ']);
    // the fixed PATH, then procsafe's own bin directory (clplogcmd), which shadows nothing
    assert.equal(env.get('PATH'), `${SCRIPT_PATH}:${BIN_DIR}`);
    assert.equal(env.get('PS_SOCKET'), socketPath(sb.runDir, sb.ipckey));
    assert.equal(env.get('PS_PNAME'), svc.pname);
    assert.equal(env.get('PS_OLD_PID'), String(firstPid));
    assert.equal(env.get('LANG'), 'C.UTF-8');
    // argv: no arguments, $0 is the configured path byte for byte (no shell re-split it)
    assert.deepEqual(readFileSync(argDump, 'utf8').split('\n'), ['0', svc.script, '0022', '']);
    assert.equal(octal(mode(scriptFile)), '0644', 'a file the script creates: umask 022, not pcheck’s 000');
    await pc.waitLine(`(${svc.pname}) script: ${hostileLine}`, 5000, from);
    assert.equal(pc.lines.filter((l) => /LEAKED-TRACE|ld\.so/.test(l.text)).length, 0, 'no xtrace (SHELLOPTS/PS4) and no LD_PRELOAD warning from the script');
  });

  it('never runs the shell syntax: parsing, matching, scanning, padmin show, reload, restart, log file and syslog', async () => {
    const show = sb.padmin(pfile, 'show pent');
    assert.equal(show.code, 0, show.stderr);
    assert.match(show.stdout, new RegExp(`^pname {11}= ${esc(svc.pname)}$`, 'm'));
    assert.match(show.stdout, new RegExp(`^include_strings = ${esc(inc.join('&'))}$`, 'm'));
    const reload = sb.padmin(pfile, 'reload');
    assert.equal(reload.code, 0, reload.stderr);
    await pc.waitLine(`Command execute. [reload] pfile='${pfile}'`);
    const log = readFileSync(logFile, 'utf8');
    for (const want of [`Try to restart (${svc.pname})`, `(${svc.pname}) script: ${hostileLine}`]) {
      assert.ok(log.includes(want), `LOG_FILE has ${want}`);
      await waitFor(() => readFileSync(rsys.out, 'utf8').includes(want), 5000, `syslog to have ${want}`);
    }
    assert.deepEqual(canaries(canary), [], 'no canary file was created (and none relative to pcheck’s working directory)');
  });
});

describe('security: configuration values with shell syntax are refused or taken literally, never run', () => {
  const sb = new Sandbox();
  const canary = join(sb.dir, 'canary');
  after(() => sb.cleanup());

  it('user=, a relative restart script and an ini command with $(…) stop pcheck at parse time with the file and line', async () => {
    mkdirSync(canary);
    const script = sb.script('ok.sh', 'exit 0');
    const cases: [string[], RegExp][] = [];
    for (const [i, bad] of [`user=$(touch ${canary}/user-1)`, `user=;touch ${canary}/user-2`, `user=\`touch ${canary}/user-3\``].entries()) {
      const pf = join(sb.dir, `bad${i}.pfile`);
      writeFileSync(pf, `##### PARAM #####\nIPCKEY 0x${(sb.ipckey + i + 1).toString(16)}\n##### PENT #####\n/usr/bin/sleep:${script}:0:1:none:${bad}\n`);
      cases.push([['-f', pf], new RegExp(`^pcheck: ${esc(pf)}:4: user "${esc(bad.slice(5))}" does not exist on this host`, 'm')]);
    }
    const rel = join(sb.dir, 'rel.pfile');
    writeFileSync(rel, `##### PARAM #####\nIPCKEY 0x${(sb.ipckey + 9).toString(16)}\n##### PENT #####\n/usr/bin/sleep:$(touch ${canary}/rel-1):0:1:none\n`);
    cases.push([['-f', rel], new RegExp(`^pcheck: ${esc(rel)}:4: restart_script "\\$\\(touch .*" is not an absolute path`, 'm')]);
    const ini = join(sb.dir, 'bad.ini');
    writeFileSync(ini, `[daemon]\nsyslog = off\n\n[group:app]\nstart = "${script} $(touch ${canary}/ini-1)"\n`);
    cases.push([['--config', ini], /"\$\(" is shell syntax \(a command substitution\), but commands run without a shell/]);
    for (const [args, want] of cases) {
      const r = spawnSync(process.execPath, [PCHECK, ...args], { cwd: canary, env: sb.env(), encoding: 'utf8', timeout: 10_000 });
      assert.equal(r.status, 2, `${args.join(' ')}: ${r.stdout}${r.stderr}`);
      assert.match(r.stdout + r.stderr, want);
    }
    assert.deepEqual(canaries(canary), []);
  });
});

describe('security: the state file cannot be handed to another user', () => {
  const sb = new Sandbox();
  after(async () => sb.cleanup());

  it('a temporary file planted by nobody in a shared (1777) directory is replaced, not written through', async () => {
    chmodSync(sb.dir, 0o755);
    const shared = join(sb.dir, 'shared');
    mkdirSync(shared);
    chmodSync(shared, 0o1777); // e.g. SHM_DUMP_FILE in /var/tmp by mistake
    const stateFile = join(shared, 'state.dmp');
    const svc = sb.service();
    const pfile = sb.pfile({ param: { SHM_DUMP_FILE: stateFile, INITIAL_WAIT: 60 }, pents: [`${svc.pname}:${svc.script}:0:1:none`] });
    const pc = sb.pcheck(pfile);
    try {
      await pc.waitLine('Start pcheck');
      // pcheck's pid is public: nobody guesses the temporary name, plants a file of its own
      // there and keeps a second link to it, to read (or change) whatever root writes into it
      const tmp = `${stateFile}.tmp-${pc.pid}`;
      const keep = join(shared, 'kept-by-nobody');
      // after pcheck's first write (its own temporary file, root's, exists while it syncs)
      await waitFor(() => existsSync(stateFile) && !existsSync(tmp), 5000, 'the first state file write to end');
      const plant = asNobody(['sh', '-c', 'umask 000; echo planted > "$0" && ln "$0" "$1"', tmp, keep]);
      assert.equal(plant.status, 0, plant.stderr);
      assert.equal(statSync(tmp).uid, 65534);
      const r = sb.padmin(pfile, 'stop pent 1'); // a state change: the state file is written
      assert.equal(r.code, 0, r.stderr);
      await waitFor(() => existsSync(stateFile) && /"monitorSts": ?"off"/.test(readFileSync(stateFile, 'utf8')), 5000, 'the state file');
      assert.equal(readFileSync(keep, 'utf8'), 'planted\n', 'root wrote nothing into the planted file');
      const st = statSync(stateFile);
      assert.equal(st.uid, 0, 'the state file belongs to root, not to whoever planted the temporary file');
      assert.equal(octal(st.mode & 0o7777), '0600');
      assert.equal(existsSync(tmp), false);
      assert.notEqual(asNobody(['sh', '-c', 'echo x >> "$0"', stateFile]).status, 0, 'nobody cannot write the state file');
      assert.equal(pc.count('Cannot write state file'), 0);
    } finally {
      kill(pc.pid, 'SIGTERM');
      await pc.exited;
    }
  });
});
