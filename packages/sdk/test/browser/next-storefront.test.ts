import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { BrowserContext } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort } from '../../../server/test/helpers/process.js';
import { buildSdk, findChromium, launchBrowser } from '../helpers/browser.js';
import { API_KEY, type Stack, serverAccepts, startStack } from '../helpers/stack.js';

const chromiumPath = findChromium();
const root = fileURLToPath(new URL('../../../../', import.meta.url));
const example = `${root}examples/next-storefront`;
const outDir = fileURLToPath(new URL('../../test-output/next-storefront/', import.meta.url));
const nextBin = `${root}node_modules/next/dist/bin/next`;

// The example app built with the real `next` (next build), started with next start, driven in
// Debian's Chromium. Its proxy runs the SDK's Next.js adapter against the real auth server.
describe.skipIf(!chromiumPath)('examples/next-storefront in Chromium', () => {
  let stack: Stack;
  let next: ChildProcess;
  let url: string;
  let browser: { context: BrowserContext; close(): Promise<void> };

  beforeAll(async () => {
    buildSdk();
    mkdirSync(outDir, { recursive: true });
    const env = { ...process.env, NEXT_TELEMETRY_DISABLED: '1' };
    // One build at a time across test files and engineers' runs.
    execFileSync('flock', ['/tmp/storefront-auth-next-build.lock', process.execPath, nextBin, 'build'], {
      cwd: example,
      env,
      stdio: 'pipe',
    });
    stack = await startStack();
    // The app judges expiry by the wall clock: the server's clock starts there too.
    stack.t.clock.ms = Date.now();
    const port = await freePort();
    url = `http://127.0.0.1:${port}`;
    next = spawn(process.execPath, [nextBin, 'start', '-p', String(port), '-H', '127.0.0.1'], {
      cwd: example,
      env: { ...env, AUTH_URL: stack.baseUrl, API_KEY, INSECURE_COOKIES: '1', NODE_ENV: 'production' },
      stdio: 'ignore',
    });
    for (;;) {
      const up = await fetch(`${url}/favicon.ico`).then(
        () => true,
        () => false,
      );
      if (up) break;
      await new Promise((r) => setTimeout(r, 200));
    }
    browser = await launchBrowser(chromiumPath!);
  }, 300_000);

  afterAll(async () => {
    await browser?.close();
    next?.kill('SIGTERM');
    await stack?.close();
  });

  it('a shopper gets a session from the proxy, the refresh cookie is out of scripts reach, racing pages rotate once', async () => {
    const page = await browser.context.newPage();
    await page.goto(url);
    await expect.poll(() => page.locator('#shopper').textContent()).toMatch(/^anonymous [0-9A-Z]{26}$/);
    await page.screenshot({ path: `${outDir}1-anonymous.png` });
    const shopper = await page.locator('#shopper').textContent();

    const jar = await browser.context.cookies(url);
    const refreshCookie = jar.find((c) => c.name === 'sfa_refresh_token')!;
    expect(refreshCookie.httpOnly).toBe(true);
    expect(jar.find((c) => c.name === 'sfa_access_token')!.httpOnly).toBe(false);
    const visible = (await page.evaluate('document.cookie')) as string;
    expect(visible).toContain('sfa_access_token=');
    expect(visible).not.toContain('sfa_refresh_token');

    // A shopper whose pair was minted 50 s ago (of 60): due for refresh, and several pages at once.
    await browser.context.clearCookies();
    stack.t.clock.ms = Date.now() - 50_000;
    await page.goto(url);
    const due = await page.locator('#shopper').textContent();
    const refreshCookie2 = (await browser.context.cookies(url)).find((c) => c.name === 'sfa_refresh_token')!;
    stack.t.clock.ms = Date.now();
    stack.reached.refresh = 0;
    const pages = await Promise.all([1, 2, 3, 4].map(() => browser.context.newPage()));
    await Promise.all(pages.map((p) => p.goto(url)));
    // Each page was rendered by a server component that saw the rotated pair.
    for (const p of pages) expect(await p.locator('#shopper').textContent()).toBe(due);
    expect(due).not.toBe(shopper);
    await pages[0]!.screenshot({ path: `${outDir}2-after-racing-refresh.png` });
    expect(stack.reached.refresh).toBe(1);
    const rotated = (await browser.context.cookies(url)).find((c) => c.name === 'sfa_refresh_token')!;
    expect(rotated.value).not.toBe(refreshCookie2.value);
    expect(await serverAccepts(stack, decodeURIComponent(rotated.value))).toBe(200);
    for (const p of [page, ...pages]) await p.close();
  });
});
