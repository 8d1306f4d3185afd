// Real headless Chromium (Debian's `chromium`, driven by playwright-core) for the web tests.
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium, type BrowserContext, type Page } from 'playwright-core';

const CHROMIUM = '/usr/bin/chromium';

export async function launch(): Promise<{ ctx: BrowserContext; page: Page; profile: string; problems: string[] }> {
  if (!existsSync(CHROMIUM)) {
    assert.fail(`${CHROMIUM} is missing: the web page is tested in real headless Chromium; install it with: apt-get install -y chromium`);
  }
  const profile = mkdtempSync(join(tmpdir(), 'procsafe-chromium-'));
  const ctx = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM,
    headless: true,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-quic', '--no-first-run', '--disable-component-update', '--disable-sync', '--disable-dev-shm-usage'],
    viewport: { width: 1200, height: 900 },
    colorScheme: 'dark',
  });
  const page = ctx.pages()[0] ?? (await ctx.newPage());
  const problems: string[] = [];
  page.on('console', (m) => {
    if (m.type() === 'error') problems.push(m.text());
  });
  page.on('pageerror', (e) => problems.push(e.message));
  return { ctx, page, profile, problems };
}

/** Problems the page reported, less the expected ones: a refused token, the server down for a while. */
export function unexpected(problems: string[]): string[] {
  return problems.filter((p) => !/status of 401|ERR_CONNECTION_REFUSED|net::ERR_/.test(p));
}

