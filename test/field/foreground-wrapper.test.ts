// A program that runs in the foreground under a vendor-style wrapper script, as `catalina.sh
// run` and many vendor wrappers do: the restart script runs `nohup run-app.sh &` (no
// redirection: nohup leaves a non-terminal stdout alone), run-app.sh runs python3's
// http.server in the foreground (no exec) — which logs every request to its stderr, the
// stderr it inherited from the restart script. pname /usr/bin/python3 (a symlink to
// python3.11, as /usr/bin/java is to the JDK) with include_strings, as an operator writes it.
// Another python3 program runs on the same server, started and left by its own nohup (parent
// PID 1, like an orphaned worker): it is not the entry's program and must be left alone.
import { spawnSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fieldScenario } from '../helpers/field-daemon';
import { fdHasReader, freePort, httpGet, liveProcs, programTree } from '../helpers/field';
import { waitFor } from '../helpers/harness';

fieldScenario('python3 http.server in the foreground under a wrapper script', async (sb) => {
  const port = await freePort(21280);
  const app = join(sb.dir, 'app');
  mkdirSync(app);
  writeFileSync(join(app, 'index.html'), '<p>ok</p>\n');
  const wrapper = sb.script('run-app.sh', `# runs the app in the foreground, like catalina.sh run\ncd ${app}\n/usr/bin/python3 -m http.server ${port} --bind 127.0.0.1`);
  const script = sb.script('app-start.sh', `nohup ${wrapper} &`);
  const isMine = (p: { argv: string[]; cmdline: string }) => /python3/.test(p.argv[0] ?? '') && p.cmdline.includes('http.server') && p.cmdline.includes(String(port));
  return {
    pname: '/usr/bin/python3',
    script,
    options: `include_strings=http.server&${port}`,
    isMine,
    port,
    serves: async () => (await httpGet(port)) === 200,
    // http.server writes one line per request to its stderr: it must have somewhere to go
    writesLog: async () => {
      const main = programTree(isMine).mains[0];
      if (!main || (await httpGet(port, '/index.html?after-pcheck')) !== 200) return false;
      const sink = fdHasReader(main.pid, 2);
      if (!sink.ok) throw new Error(`python3's stderr is ${sink.target}: its log lines are lost`);
      return true;
    },
    bystanders: async () => {
      const marker = `other-app-${port}`;
      spawnSync('bash', ['-c', `nohup /usr/bin/python3 -c 'import time; time.sleep(600)' ${marker} </dev/null >/dev/null 2>&1 &`]);
      return [await waitFor(() => liveProcs().find((p) => p.cmdline.includes(marker)), 5000, 'the other python3 program')];
    },
  };
});
