// `npm run demo:cluster`: the seeds' cluster story, live, on two real Pacemaker + Corosync nodes
// that run on this machine in network namespaces (test/helpers/two-node-cluster.ts; the same
// steps as test/cluster/failover.test.ts, from test/helpers/failover-story.ts). Group g_app =
// floating IP 10.77.0.100 + the application (a small web server) + pcheck, on node1. pcheck
// heals three kills in place while Pacemaker counts nothing; the fourth kill is a retry-over:
// pcheck exits 1 and Pacemaker moves the whole group to node2; `crm_resource --cleanup` brings it
// back; node1 lost as a whole moves it to node2 again. Prints each step as it happens and the
// timeline at the end. Needs root (namespaces, corosync, pacemakerd) and Debian's pacemaker,
// pacemaker-cli-utils, corosync and resource-agents; changes nothing outside its namespaces and
// a temp directory, and ends everything it started (also on Ctrl-C).
import { FailoverStory } from '../../test/helpers/failover-story';
import { GROUP, RETRY } from '../../test/helpers/failover-lab';
import { INSTALL_HINT, VIP, requireTwoNode, type NodeName } from '../../test/helpers/two-node-cluster';

const bold = (m: string) => (process.stdout.isTTY ? `\x1b[1m${m}\x1b[0m` : m);
const say = (m: string) => process.stdout.write(`${bold(`>>> ${m}`)}\n`);
const show = (text: string) => process.stdout.write(`${text.trimEnd().replace(/^/gm, '    ')}\n`);

/** made once root and the packages are there (it creates its work directory) */
let story: FailoverStory | null = null;

async function crmMon(s: FailoverStory): Promise<void> {
  const text = await s.lab.monText();
  show(text.slice(Math.max(0, text.indexOf('Node List:'))));
}

async function padmin(s: FailoverStory, n: NodeName): Promise<void> {
  const lab = s.lab;
  const e = await lab.pent(n);
  show(e ? `padmin -f ${lab.pfile} -c 'show pent'   (run inside ${n})\n${Object.entries(e).map(([k, v]) => `${k.padEnd(15)} = ${v}`).join('\n')}` : `(no pcheck answers on ${n})`);
}

async function main(): Promise<number> {
  if (process.getuid?.() !== 0) {
    process.stderr.write(
      'npm run demo:cluster needs root: it creates network namespaces and runs corosync and pacemakerd in them.\n' +
        'Run it as root (for example: sudo npm run demo:cluster). It changes nothing outside its namespaces and a temp directory.\n',
    );
    return 1;
  }
  try {
    requireTwoNode();
  } catch (e) {
    process.stderr.write(`${(e as Error).message}\n(as root: ${INSTALL_HINT})\n`);
    return 1;
  }
  story = new FailoverStory((line) => process.stdout.write(`${bold(`  ⏱ ${line}`)}\n`));

  say('starting two Pacemaker nodes in namespaces: node1 10.77.0.1, node2 10.77.0.2, a client 10.77.0.254 on the bridge (about 6 s)');
  await story.start((owner) => say(`waiting for the Pacemaker test in pid ${owner} to finish`));
  say(`group ${GROUP}: app_vip (IPaddr2 ${VIP}) + app (the web server, its own resource) + app_pcheck (ocf:procsafe:pcheck), preferring node1`);
  await crmMon(story);
  await padmin(story, 'node1');

  say(`kill -9 the application ${RETRY} times: pcheck restarts it in place (the pfile's retry_count is ${RETRY})`);
  for (let n = 1; n <= RETRY; n++) await story.heal(n);
  const fc = await story.failcounts('node1');
  say(`Pacemaker's fail counts on node1: app ${fc.app}, app_pcheck ${fc.pcheck} — the heals were pcheck's business`);
  await padmin(story, 'node1');

  say('kill -9 once more: retry-over. pcheck logs RETRY_OVER:EXIT and FATAL and exits 1; its monitor fails; the group moves');
  const m = await story.retryOver();
  say(`the client on the bridge now reaches ${VIP} at ${m.arp} = node2's eth0 (${m.mac}); node1 keeps nothing of the group`);
  await crmMon(story);
  await padmin(story, 'node2');

  say(`crm_resource --cleanup -r ${GROUP}: node1's failure is forgotten; the group goes back to node1 (location preference 100, stickiness 0)`);
  await story.failback();
  await crmMon(story);

  say('node1 is lost as a whole: SIGKILL to its PID 1 (every process of it dies) and its network namespace deleted (NIC and IP gone)');
  say('node2 takes over once corosync declares node1 lost (token 3 s + consensus), without fencing: see docs/pacemaker.md');
  await story.nodeLoss();
  await crmMon(story);
  await padmin(story, 'node2');

  say('timeline');
  show(story.timeline());
  return 0;
}

let stopping: Promise<void> | null = null;
const teardown = () => {
  stopping ??= (async () => {
    if (!story) return;
    say('stopping both nodes and deleting the namespaces');
    await story.stop();
  })();
  return stopping;
};
// 128 + the signal's number, as a shell reports a command a signal ended: 130, 143
for (const [sig, code] of [['SIGINT', 130], ['SIGTERM', 143]] as const) {
  process.on(sig, () => {
    void teardown().finally(() => process.exit(code));
  });
}

main().then(
  async (c) => {
    await teardown();
    process.exit(c);
  },
  async (e: unknown) => {
    process.stderr.write(`demo failed: ${e instanceof Error ? e.message : String(e)}\n`);
    await teardown().catch(() => undefined);
    process.exit(1);
  },
);
