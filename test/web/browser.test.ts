// The web page end to end in real headless Chromium (Debian's `chromium`, driven by
// playwright-core), in front of a real pcheck: first `pcheck -f PFILE`, then a FailSafe
// daemon (`pcheck --config`). A process is really killed; the page shows it lost and back
// without a reload; operations are clicked, confirmed, and done by pcheck.
// Screenshots go to test-artifacts/ (git-ignored); PROCSAFE_UPDATE_SCREENSHOT=1 also copies
// the FailSafe one to docs/screenshot.png (the README's).
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Page } from 'playwright-core';
import { Logger } from '../../src/log/logger';
import { startWebServer, type WebServer } from '../../src/web/server';
import { FailsafeSandbox } from '../helpers/failsafe';
import { ROOT, Sandbox, waitFor, type Pcheck, type Service } from '../helpers/harness';
import { entry, sampleEvent, sampleStatus } from './fixture';
import { http } from './http';
import { launch, unexpected } from './chromium';
import { LiveWeb, pfileBackend } from './live-harness';

// The DOM names used in the callbacks of page.evaluate() and waitForFunction(), which run in
// Chromium: declared here because the project compiles without the DOM lib.
interface DomEl {
  textContent: string | null;
  getBoundingClientRect(): { height: number };
}
declare const document: { querySelector(sel: string): DomEl | null; documentElement: { scrollWidth: number } };
declare const window: { seen?: Record<string, string[]>; samePage?: boolean };
declare const sessionStorage: { getItem(key: string): string | null };
declare const MutationObserver: new (cb: () => void) => { observe(target: DomEl, opts: Record<string, boolean>): void };
declare function getComputedStyle(e: DomEl): { fontSize: string; backgroundColor: string };
declare const localStorage: { removeItem(key: string): void };

const ARTIFACTS = join(ROOT, 'test-artifacts');

/** A service whose start script takes 0.6 s (as a real one does), and records its pid. */
function slowService(sb: Sandbox, name: string): Service & { pidFile: string } {
  const pidFile = join(sb.dir, `${name}.pid`);
  const pname = join(sb.dir, name);
  const s = sb.service(name, {
    scriptBody:
      'sleep 0.6\n' +
      `setsid bash -c 'exec -a "$0" sleep infinity' '${pname}' </dev/null >/dev/null 2>&1 &\n` +
      `echo $! > ${pidFile}\n`,
  });
  return { ...s, pidFile };
}

const entryCard = (id: number) => `article.card[data-pent-id="${id}"]`;

async function fact(page: Page, card: string, name: string): Promise<string> {
  return (await page.textContent(`${card} [data-fact="${name}"] b`)) ?? '';
}

/** Records in the page every status word a card shows (a MutationObserver), and marks the page. */
async function watchStatus(page: Page, card: string): Promise<void> {
  await page.evaluate((sel) => {
    const seen: string[] = [];
    window.seen = { ...window.seen, [sel]: seen };
    window.samePage = true;
    const st = document.querySelector(`${sel} .status`)!;
    new MutationObserver(() => seen.push(st.textContent ?? '')).observe(st, { childList: true, characterData: true, subtree: true });
  }, card);
}

/** Waits until the card watched by watchStatus() has shown one of `words`. */
async function waitSeen(page: Page, card: string, words: string[]): Promise<void> {
  await page.waitForFunction(([sel, w]) => (window.seen?.[sel] ?? []).some((s) => w.includes(s)), [card, words] as const, { timeout: 10_000 });
}

async function seenBy(page: Page, card: string): Promise<string[]> {
  return page.evaluate((sel) => window.seen?.[sel] ?? [], card);
}

async function samePage(page: Page): Promise<boolean | undefined> {
  return page.evaluate(() => window.samePage);
}

function pidOf(pidFile: string): number {
  return Number(readFileSync(pidFile, 'utf8').trim());
}

describe('the web page in headless Chromium, in front of a real pcheck -f', () => {
  const sb = new Sandbox();
  let pc: Pcheck;
  let live: LiveWeb;
  let web: WebServer;
  let b: Awaited<ReturnType<typeof launch>>;
  let svc: ReturnType<typeof slowService>;
  let pfile: string;
  let firstPid: number;

  before(async () => {
    svc = slowService(sb, 'websvc');
    pfile = sb.pfile({ pents: [`${svc.pname}:${svc.script}:60:3:none`] });
    firstPid = await sb.startService(svc);
    pc = sb.pcheck(pfile);
    await waitFor(() => sb.pidsOf(svc).length === 1 && safeShow(sb, pfile)?.proc_sts === 'AVAIL', 10_000, 'the entry AVAIL', 100);
    live = new LiveWeb(pfileBackend(sb, pfile, pc), pc, join(sb.dir, 'state'));
    web = await live.start();
    b = await launch();
  });
  after(async () => {
    await b?.ctx.close();
    if (b) rmSync(b.profile, { recursive: true, force: true });
    await live?.close();
    sb.cleanup();
  });

  it('a request without the token gets 401; the page opened without it shows only the token form', async () => {
    const r = await http(web.baseUrl, 'GET', '/api/status');
    assert.equal(r.status, 401);
    assert.ok(!r.body.includes(svc.pname));
    await b.page.goto(web.baseUrl);
    await b.page.waitForSelector('#login', { state: 'visible' });
    assert.equal(await b.page.isVisible('#main'), false);
    assert.ok(!((await b.page.textContent('body')) ?? '').includes(svc.pname));
    await b.page.goto(`${web.baseUrl}?token=not-the-token-at-all`);
    await b.page.waitForFunction(() => document.querySelector('#login-why')?.textContent?.startsWith('The token was refused'));
    assert.equal(await b.page.isVisible('#main'), false);
    assert.equal(b.page.url(), web.baseUrl);
  });

  it('opened with the token, it shows the entry AVAIL with its pid and takes the token out of the address bar', async () => {
    await b.page.goto(web.url);
    await b.page.waitForFunction((sel) => document.querySelector(`${sel} .status`)?.textContent === 'AVAIL', entryCard(1));
    assert.equal(await fact(b.page, entryCard(1), 'pid'), String(firstPid));
    assert.equal(await b.page.textContent(`${entryCard(1)} h3`), `1 ${svc.pname}`);
    assert.equal(b.page.url(), web.baseUrl, 'no ?token= left in the address bar');
    const token = new URL(web.url).searchParams.get('token');
    assert.equal(await b.page.evaluate(() => sessionStorage.getItem('procsafe.token')), token);
    await b.page.waitForFunction(() => document.querySelector('#conn')?.textContent === 'live');
    assert.equal(await b.page.isVisible('#banner'), false);
  });

  it('kill -9 of the process: the page shows it lost, then AVAIL with a new pid, without a reload', async () => {
    await watchStatus(b.page, entryCard(1));
    const t0 = performance.now();
    process.kill(firstPid, 'SIGKILL');
    await waitSeen(b.page, entryCard(1), ['RESTARTING', 'DOWN']);
    const lost = performance.now() - t0;
    await b.page.waitForFunction(
      ([sel, old]) => document.querySelector(`${sel} .status`)?.textContent === 'AVAIL' && document.querySelector(`${sel} [data-fact="pid"] b`)?.textContent !== old,
      [entryCard(1), String(firstPid)] as const,
      { timeout: 15_000 },
    );
    const back = performance.now() - t0;
    assert.equal(await samePage(b.page), true, 'the same page: not reloaded');
    const newPid = Number(await fact(b.page, entryCard(1), 'pid'));
    assert.deepEqual(sb.pidsOf(svc), [newPid]);
    assert.equal(await fact(b.page, entryCard(1), 'restarts'), '1');
    assert.equal(await fact(b.page, entryCard(1), 'retry'), '1/3');
    await b.page.waitForFunction((pid) => document.querySelector('#alerts')?.textContent?.includes(`pid=${pid}] Down`), firstPid);
    const alerts = (await b.page.textContent('#alerts')) ?? '';
    assert.match(alerts, /down.*Process \[.*websvc , pid=\d+\] Down/s);
    assert.match(alerts, /restart.*Try to restart \(.*websvc\)/s);
    const seen = await seenBy(b.page, entryCard(1));
    console.log(`# page: kill -9 → shown lost in ${Math.round(lost)} ms, AVAIL again in ${Math.round(back)} ms; status words seen: ${seen.join(' → ')}`);
  });

  it('when the connection is lost the page says so in a banner, and carries on once the server is back', async () => {
    const restarted = live.restartWeb(1500);
    await b.page.waitForSelector('#banner', { state: 'visible', timeout: 5000 });
    assert.equal(await b.page.textContent('#conn'), 'reconnecting…');
    web = await restarted;
    await b.page.waitForSelector('#banner', { state: 'hidden', timeout: 10_000 });
    assert.equal(await b.page.textContent('#conn'), 'live');
    assert.equal(await samePage(b.page), true, 'not reloaded');
  });

  it('Reset, Stop and Start are done from the page after a confirmation; a dismissed confirmation does nothing', async () => {
    const card = entryCard(1);
    let question = '';
    b.page.once('dialog', (d) => {
      question = d.message();
      void d.dismiss();
    });
    await b.page.click(`${card} button[data-op="reset"]`);
    await new Promise((r) => setTimeout(r, 400));
    assert.match(question, /^Reset entry 1 \(.*websvc\)\?/);
    assert.equal(pc.count('[reset pent 1]'), 0, 'dismissed: nothing sent');
    assert.equal(await fact(b.page, card, 'retry'), '1/3');

    b.page.once('dialog', (d) => void d.accept());
    await b.page.click(`${card} button[data-op="reset"]`);
    await pc.waitLine(`Command execute. [reset pent 1] pfile='${pfile}'`);
    await b.page.waitForFunction((sel) => document.querySelector(`${sel} [data-fact="retry"] b`)?.textContent === '0/3', card);
    assert.equal(await fact(b.page, card, 'restarts'), '0');
    await b.page.waitForSelector('#result.ok');

    b.page.once('dialog', (d) => void d.accept());
    await b.page.click(`${card} button[data-op="stop"]`);
    await pc.waitLine('Command execute. [stop pent 1]');
    await b.page.waitForFunction((sel) => document.querySelector(`${sel} [data-fact="monitor"] b`)?.textContent === 'off', card);
    assert.equal(await b.page.getAttribute(card, 'class'), 'card off');
    assert.equal(safeShow(sb, pfile)?.monitor_sts, 'off');

    b.page.once('dialog', (d) => void d.accept());
    await b.page.click(`${card} button[data-op="start"]`);
    await pc.waitLine('Command execute. [start pent 1]');
    await b.page.waitForFunction((sel) => document.querySelector(`${sel} [data-fact="monitor"] b`)?.textContent === 'on', card);
    assert.equal(safeShow(sb, pfile)?.monitor_sts, 'on');
  });

  it('is dark unless the browser prefers light, and the header button switches and is remembered', async () => {
    const bg = () => b.page.evaluate(() => getComputedStyle(document.querySelector('body')!).backgroundColor);
    const DARK = 'rgb(14, 16, 19)';
    const LIGHT = 'rgb(245, 246, 248)';
    assert.equal(await bg(), DARK, 'prefers dark: dark');
    await b.page.emulateMedia({ colorScheme: 'light' });
    assert.equal(await bg(), LIGHT, 'prefers light: light');
    await b.page.click('#theme');
    assert.equal(await bg(), DARK, 'the button: dark although the browser prefers light');
    await b.page.reload();
    await b.page.waitForSelector(`${entryCard(1)} .status`);
    assert.equal(await bg(), DARK, 'remembered across a reload');
    assert.equal(b.page.url(), web.baseUrl);
    await b.page.click('#theme');
    assert.equal(await bg(), LIGHT);
    await b.page.evaluate(() => localStorage.removeItem('procsafe.theme'));
    await b.page.emulateMedia({ colorScheme: 'dark' });
    await b.page.reload();
    await b.page.waitForSelector(`${entryCard(1)} .status`);
    assert.equal(await bg(), DARK);
  });

  it('is readable on a phone: at 375 px wide nothing overflows sideways and the status words stay large', async () => {
    mkdirSync(ARTIFACTS, { recursive: true });
    await b.page.screenshot({ path: join(ARTIFACTS, 'web-pfile.png'), fullPage: true });
    await b.page.setViewportSize({ width: 375, height: 812 });
    await b.page.waitForTimeout(100);
    const m = await b.page.evaluate(() => ({
      scroll: document.documentElement.scrollWidth,
      status: parseFloat(getComputedStyle(document.querySelector('.status')!).fontSize),
      button: document.querySelector('button[data-op="reset"]')!.getBoundingClientRect().height,
    }));
    assert.ok(m.scroll <= 375, `page is ${m.scroll} px wide`);
    assert.ok(m.status >= 22, `status word ${m.status} px`);
    assert.ok(m.button >= 44, `buttons ${m.button} px high (touch targets)`);
    await b.page.screenshot({ path: join(ARTIFACTS, 'web-pfile-phone.png'), fullPage: true });
    assert.deepEqual(unexpected(b.problems), [], 'no script error nor Content-Security-Policy violation');
  });
});

describe('the web page in headless Chromium, served by a real FailSafe daemon (pcheck --config, [web])', () => {
  const sb = new FailsafeSandbox();
  let pc: Pcheck;
  let web: { url: string };
  let b: Awaited<ReturnType<typeof launch>>;
  let svc: ReturnType<typeof slowService>;
  let pfile: string;

  before(async () => {
    svc = slowService(sb, 'appsvc');
    pfile = sb.pfile({ pents: [`${svc.pname}:${svc.script}:60:3:group`] });
    const stop = sb.script('app-stop.sh', `kill "$(cat ${svc.pidFile})"\nsleep 0.3`);
    const port = 30000 + (process.pid % 20000);
    const tokenFile = join(sb.dir, 'web.token');
    sb.ini(
      [
        `[group:app]\nstart = "${svc.script}"\nstop = "${stop}"\npfile = ${pfile}\n`,
        `[monitor:app-pid]\ntype = pid\npid_file = ${svc.pidFile}\ntarget = app\ntiming = active\ninterval = 1\nretries = 5\n`,
        `[web]\nlisten = 127.0.0.1:${port}\ntoken_file = ${tokenFile}\n`,
      ].join('\n'),
    );
    pc = sb.failsafe(['--rehearse']);
    // not a terminal: the daemon logs the URL without the token, and where the token is
    await pc.waitLine(`Web page: http://127.0.0.1:${port}/ (token in ${tokenFile})`);
    await sb.until('group app Online and its entry AVAIL', (st) => st.groups[0]?.state === 'Online' && st.pfiles[0]?.entries[0]?.proc_sts === 'AVAIL');
    web = { url: `http://127.0.0.1:${port}/?token=${readFileSync(tokenFile, 'utf8').trim()}` };
    b = await launch();
  });
  after(async () => {
    await b?.ctx.close();
    if (b) rmSync(b.profile, { recursive: true, force: true });
    sb.cleanup();
  });

  it('shows the server, the group Online, the monitor Normal and the entry AVAIL', async () => {
    await b.page.goto(web.url);
    await b.page.waitForFunction((sel) => document.querySelector(`${sel} .status`)?.textContent === 'AVAIL', entryCard(1));
    assert.equal(await b.page.textContent('#server-name'), 'testhost');
    assert.equal(await b.page.isVisible('#rehearse'), true);
    assert.equal(await b.page.textContent('[data-key="app"] .status'), 'Online');
    await b.page.waitForFunction(() => document.querySelector('[data-key="app-pid"] .status')?.textContent === 'Normal');
    assert.equal(await fact(b.page, '[data-key="app-pid"]', 'failures'), '0/6');
    assert.equal(await fact(b.page, entryCard(1), 'pid'), String(pidOf(svc.pidFile)));
  });

  it('kill -9 of the process: the entry is healed in place and the page follows it without a reload', async () => {
    const card = entryCard(1);
    await watchStatus(b.page, card);
    const old = pidOf(svc.pidFile);
    process.kill(old, 'SIGKILL');
    await waitSeen(b.page, card, ['RESTARTING', 'DOWN']);
    await b.page.waitForFunction(
      ([sel, o]) => document.querySelector(`${sel} .status`)?.textContent === 'AVAIL' && document.querySelector(`${sel} [data-fact="pid"] b`)?.textContent !== o,
      [card, String(old)] as const,
      { timeout: 15_000 },
    );
    assert.equal(await samePage(b.page), true);
    assert.equal(await b.page.textContent('[data-key="app"] .status'), 'Online', 'an entry heal is not a group restart');
  });

  it('Restart of the group from the page: confirmed, done by the daemon, followed live to Online with a new process', async () => {
    const group = '[data-key="app"]';
    await watchStatus(b.page, group);
    const old = pidOf(svc.pidFile);
    let question = '';
    b.page.once('dialog', (d) => {
      question = d.message();
      void d.accept();
    });
    await b.page.click(`${group} button[data-op="restart"]`);
    assert.match(question, /^Restart group "app"\?/);
    await pc.waitLine('Command execute. [group restart app]');
    await waitSeen(b.page, group, ['Stopping', 'Starting']);
    await b.page.waitForFunction((sel) => document.querySelector(`${sel} .status`)?.textContent === 'Online', group, { timeout: 15_000 });
    await b.page.waitForFunction(
      ([sel, o]) => document.querySelector(`${sel} .status`)?.textContent === 'AVAIL' && document.querySelector(`${sel} [data-fact="pid"] b`)?.textContent !== o,
      [entryCard(1), String(old)] as const,
      { timeout: 15_000 },
    );
    assert.notEqual(pidOf(svc.pidFile), old);
    assert.equal(await fact(b.page, group, 'restarts'), '1');
    assert.match((await b.page.textContent('#alerts')) ?? '', /group_restart.*\[group restart app\]/s);
    assert.equal(await samePage(b.page), true);
    const seen = await seenBy(b.page, group);
    console.log(`# page: group app: ${seen.join(' → ')}`);
  });

  it('screenshots: desktop and phone (test-artifacts/web.png, web-phone.png)', async () => {
    mkdirSync(ARTIFACTS, { recursive: true });
    await b.page.waitForSelector('#result.ok');
    const shot = join(ARTIFACTS, 'web.png');
    await b.page.screenshot({ path: shot, fullPage: true });
    if (process.env.PROCSAFE_UPDATE_SCREENSHOT === '1') copyFileSync(shot, join(ROOT, 'docs', 'screenshot.png'));
    await b.page.setViewportSize({ width: 375, height: 812 });
    await b.page.waitForTimeout(100);
    assert.ok((await b.page.evaluate(() => document.documentElement.scrollWidth)) <= 375);
    await b.page.screenshot({ path: join(ARTIFACTS, 'web-phone.png'), fullPage: true });
    assert.deepEqual(unexpected(b.problems), [], 'no script error nor Content-Security-Policy violation');
  });
});

describe('the web page in headless Chromium: hostile text', () => {
  it('names, details and alerts that look like HTML are shown as text, never run', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'procsafe-web-xss-'));
    const evil = '<img src=x onerror="document.title=\'pwned\'">';
    const v = sampleStatus();
    v.server.name = `host ${evil}`;
    v.groups[0].name = `grp${evil}`;
    v.monitors[0].detail = `detail ${evil}`;
    v.pfiles[0].entries = [entry({ pent_id: 1, pname: `/opt/${evil}` })];
    const web = await startWebServer({
      listen: '127.0.0.1:0',
      tokenFile: null,
      stateDir: dir,
      log: new Logger([]),
      status: () => v,
      recentEvents: () => [sampleEvent({ message: `Process [${evil} , pid=1] Down` })],
      metrics: () => '',
      act: async () => ({ ok: false, message: evil }),
    });
    const b = await launch();
    try {
      await b.page.goto(web.url);
      await b.page.waitForFunction(() => document.querySelector('#alerts li'));
      b.page.once('dialog', (d) => void d.accept());
      await b.page.click('[data-key="db"] button[data-op="start"]');
      await b.page.waitForSelector('#result.bad');
      assert.equal(await b.page.locator('main img').count(), 0, 'no element was made from the data');
      assert.equal(await b.page.textContent('#server-name'), `host ${evil}`);
      assert.equal(await b.page.textContent(`${entryCard(1)} h3`), `1 /opt/${evil}`);
      assert.equal(await b.page.textContent('#result'), evil);
      assert.ok(((await b.page.textContent('#alerts')) ?? '').includes(evil));
      const title = await b.page.title();
      assert.ok(title !== 'pwned' && title.endsWith(' · procsafe'), title);
    } finally {
      await b.ctx.close();
      rmSync(b.profile, { recursive: true, force: true });
      await web.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

function safeShow(sb: Sandbox, pfile: string): Record<string, string> | undefined {
  try {
    return sb.showPent(pfile)[0];
  } catch {
    return undefined;
  }
}
