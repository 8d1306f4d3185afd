// The Servers view in real headless Chromium, on the page of a real FailSafe daemon (web01)
// whose [fleet:NAME] sections name three other real daemons: web02 (a monitor suspended:
// Warning), db01 (a group that fails for good: Error) and web03 (stopped: Unreachable). Each
// card shows the state word in its colour, the group and monitor counts and a link to that
// server's page; the other servers' tokens never reach the browser; changes arrive live.
// Screenshots: test-artifacts/fleet.png (PROCSAFE_UPDATE_SCREENSHOT=1 also docs/fleet.png).
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { copyFileSync, mkdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { failingGroup, healthyGroup, webDaemon, type WebDaemon } from '../helpers/web-daemon';
import { ROOT } from '../helpers/harness';
import { launch, unexpected } from './chromium';

// The DOM names used in the callbacks of page.evaluate() and waitForFunction(), which run in
// Chromium: declared here because the project compiles without the DOM lib.
interface DomEl {
  textContent: string | null;
  className: string;
  getAttribute(name: string): string | null;
  querySelector(sel: string): DomEl | null;
}
declare const document: { querySelector(sel: string): DomEl | null; querySelectorAll(sel: string): ArrayLike<DomEl>; documentElement: { scrollWidth: number; outerHTML: string } };
declare function getComputedStyle(e: DomEl): { borderLeftColor: string; color: string };
declare const window: { samePage?: boolean };

const ARTIFACTS = join(ROOT, 'test-artifacts');
const card = (name: string) => `#servers article[data-server="${name}"]`;

describe('the Servers view ([fleet:NAME]) in headless Chromium, with four real daemons, one of them stopped', () => {
  let web01: WebDaemon;
  let web02: WebDaemon;
  let db01: WebDaemon;
  let web03: WebDaemon;
  let b: Awaited<ReturnType<typeof launch>>;

  before(async () => {
    web02 = await webDaemon('web02', (sb) => healthyGroup(sb, 'shop'));
    db01 = await webDaemon('db01', (sb) => failingGroup(sb, 'db'));
    web03 = await webDaemon('web03', (sb) => healthyGroup(sb, 'api'));
    const healthy = (s: { pfiles: { entries: { proc_sts: string }[] }[] }) => s.pfiles.every((p) => p.entries.every((e) => e.proc_sts === 'AVAIL'));
    await web02.sb.until('group shop Online, its entry AVAIL', (s) => s.groups[0]?.state === 'Online' && s.monitors[0]?.status === 'Normal' && healthy(s));
    assert.equal(web02.sb.admin('monitor', 'suspend', 'shop-pid').code, 0);
    await db01.sb.until('group db in Error', (s) => s.groups[0]?.state === 'Error');
    web03.pc.child.kill('SIGTERM');
    assert.equal(await web03.pc.exited, 0);
    const fleet = [web02, db01, web03]
      .map((d, i) => `[fleet:${['web02', 'db01', 'web03'][i]}]\nurl = ${d.base}\ntoken_file = ${d.tokenFile}\n`)
      .join('\n');
    web01 = await webDaemon('web01', (sb) => `${healthyGroup(sb, 'app')}\n${fleet}`, 'fleet_interval = 1');
    await web01.sb.until('group app Online, its entry AVAIL', (s) => s.groups[0]?.state === 'Online' && healthy(s));
    b = await launch();
  });
  after(async () => {
    await b?.ctx.close();
    if (b) rmSync(b.profile, { recursive: true, force: true });
    for (const d of [web01, web02, db01, web03]) d?.sb.cleanup();
  });

  it('lists this server first, then the others in file order, each with its state word in its colour', async () => {
    await b.page.goto(`${web01.base}?token=${web01.token()}`);
    await b.page.waitForSelector('#sec-servers', { state: 'visible' });
    await b.page.waitForFunction((sel) => document.querySelector(`${sel} .status`)?.textContent === 'Unreachable', card('web03'), { timeout: 15_000 });
    await b.page.waitForFunction((sel) => document.querySelector(`${sel} .status`)?.textContent === 'Warning', card('web02'), { timeout: 15_000 });
    await b.page.waitForFunction((sel) => document.querySelector(`${sel} .status`)?.textContent === 'Normal', card('web01'), { timeout: 15_000 });
    const shown = await b.page.evaluate(() =>
      Array.from(document.querySelectorAll('#servers article')).map((c) => [c.getAttribute('data-server'), c.className, c.querySelector('.status')?.textContent ?? '']),
    );
    assert.deepEqual(shown, [
      ['web01', 'card ok', 'Normal'],
      ['web02', 'card warn', 'Warning'],
      ['db01', 'card bad', 'Error'],
      ['web03', 'card off', 'Unreachable'],
    ]);
    // the colours of the seminar's integrated viewer: green, amber, red, grey (the dark theme's)
    const edge = (name: string) => b.page.$eval(card(name), (e) => getComputedStyle(e as unknown as DomEl).borderLeftColor);
    assert.deepEqual(await Promise.all(['web01', 'web02', 'db01', 'web03'].map(edge)), ['rgb(61, 220, 132)', 'rgb(255, 178, 36)', 'rgb(255, 99, 105)', 'rgb(138, 147, 159)']);
  });

  it('shows the group and monitor counts, why a server is not Normal, and its version', async () => {
    const fact = (name: string, f: string) => b.page.textContent(`${card(name)} [data-fact="${f}"] b`);
    assert.equal(await fact('web01', 'groups'), '1');
    assert.equal(await fact('web01', 'monitors'), '2', 'app-pid and the implicit app-pfile');
    assert.equal(await fact('web02', 'monitors'), '2 (1 Suspended)');
    assert.equal(await fact('db01', 'groups'), '1 (1 Error)');
    assert.equal(await fact('db01', 'monitors'), '0');
    assert.equal(await fact('web03', 'groups'), '-');
    assert.equal(await b.page.textContent(`${card('web02')} .detail`), 'monitor shop-pid Suspended');
    assert.equal(await b.page.textContent(`${card('db01')} .detail`), 'group db Error');
    assert.equal(await b.page.textContent(`${card('web03')} .detail`), 'connection refused (procsafe not running, or another port)');
    assert.match((await fact('web02', 'version')) ?? '', /^\d+\.\d+\.\d+/);
    assert.equal(await b.page.textContent(`${card('web01')} .sub`), 'this server');
    assert.equal(await b.page.textContent(`${card('web02')} .sub`), web02.base);
  });

  it('screenshot of the four states (test-artifacts/fleet.png)', async () => {
    mkdirSync(ARTIFACTS, { recursive: true });
    const shot = join(ARTIFACTS, 'fleet.png');
    // the top of the page: the header, this server, the Servers view
    const bottom = await b.page.$eval('#sec-servers', (e) => (e as unknown as { getBoundingClientRect(): { bottom: number } }).getBoundingClientRect().bottom);
    await b.page.screenshot({ path: shot, clip: { x: 0, y: 0, width: 1200, height: Math.ceil(bottom) + 16 } });
    if (process.env.PROCSAFE_UPDATE_SCREENSHOT === '1') copyFileSync(shot, join(ROOT, 'docs', 'fleet.png'));
    await b.page.screenshot({ path: join(ARTIFACTS, 'fleet-page.png'), fullPage: true });
  });

  it('links each server to its own page (a new tab), and the other servers\' tokens are nowhere in the page', async () => {
    assert.equal(await b.page.getAttribute(`${card('web01')} a.open`, 'href'), '/');
    assert.equal(await b.page.getAttribute(`${card('db01')} a.open`, 'href'), db01.base);
    assert.equal(await b.page.getAttribute(`${card('db01')} a.open`, 'target'), '_blank');
    const html = await b.page.content();
    for (const d of [web02, db01]) assert.ok(!html.includes(d.token()), 'a token of another server reached the browser');
    const [tab] = await Promise.all([b.ctx.waitForEvent('page'), b.page.click(`${card('db01')} a.open`)]);
    await tab.waitForSelector('#login', { state: 'visible' });
    assert.equal(tab.url(), db01.base, 'db01 asks for its own token: it was not handed over');
    await tab.close();
  });

  it('follows changes live, without a reload: a resumed monitor turns web02 Normal, a restarted web03 comes back', async () => {
    await b.page.evaluate(() => (window.samePage = true));
    assert.equal(web02.sb.admin('monitor', 'resume', 'shop-pid').code, 0);
    await b.page.waitForFunction((sel) => document.querySelector(`${sel} .status`)?.textContent === 'Normal', card('web02'), { timeout: 15_000 });
    web03.pc = web03.sb.failsafe(['--rehearse']);
    await web03.pc.waitLine(`Web page: ${web03.base}`, 20_000);
    await b.page.waitForFunction((sel) => document.querySelector(`${sel} .status`)?.textContent === 'Normal', card('web03'), { timeout: 20_000 });
    assert.equal(await b.page.evaluate(() => window.samePage), true);
    // back through Warning while its entry waits INITIAL_WAIT for its process, or straight to Normal
    const changes = web01.pc.lines.map((l) => /Fleet: server web03 (\w+ -> \w+)/.exec(l.text)?.[1]).filter((c) => c !== undefined);
    const back = changes.slice(changes.indexOf(changes.find((c) => c.startsWith('Unreachable')) ?? ''));
    assert.ok([['Unreachable -> Normal'], ['Unreachable -> Warning', 'Warning -> Normal']].some((w) => JSON.stringify(w) === JSON.stringify(back)), `the viewer logs the change: ${changes.join(', ')}`);
  });

  it('fits a phone: at 375 px nothing overflows sideways', async () => {
    await b.page.setViewportSize({ width: 375, height: 812 });
    await b.page.waitForTimeout(100);
    assert.ok((await b.page.evaluate(() => document.documentElement.scrollWidth)) <= 375);
    await b.page.screenshot({ path: join(ARTIFACTS, 'fleet-phone.png'), fullPage: true });
    assert.deepEqual(unexpected(b.problems), [], 'no script error nor Content-Security-Policy violation');
  });
});
