import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort } from '../../../server/test/helpers/process.js';
import { buildSdk, findChromium, launchBrowser } from '../helpers/browser.js';
import { API_KEY, BASE, claimsOf, type Stack, serverAccepts, startStack } from '../helpers/stack.js';

const chromiumPath = findChromium();
const root = fileURLToPath(new URL('../../../../', import.meta.url));
const script = `${root}scripts/example.mjs`;
const outDir = fileURLToPath(new URL('../../test-output/next-storefront/', import.meta.url));
const PNG = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);

/** `node scripts/example.mjs start` (what `npm run example` runs after building), with `env`. */
function startExample(env: Record<string, string>): ChildProcess {
  return spawn(process.execPath, [script, 'start'], {
    cwd: root,
    env: { ...process.env, NEXT_TELEMETRY_DISABLED: '1', ...env },
    stdio: 'ignore',
  });
}

async function waitUntilUp(url: string, child: ChildProcess): Promise<void> {
  for (;;) {
    if (child.exitCode !== null) throw new Error(`scripts/example.mjs exited (${child.exitCode})`);
    const up = await fetch(`${url}/favicon.ico`).then(
      () => true,
      () => false,
    );
    if (up) return;
    await new Promise((r) => setTimeout(r, 200));
  }
}

async function stop(child: ChildProcess | undefined): Promise<void> {
  if (!child || child.exitCode !== null) return;
  child.kill('SIGTERM');
  await once(child, 'exit');
}

/** A screenshot of this step, checked to be a real, non-empty PNG file. */
async function shot(page: Page, name: string): Promise<void> {
  const path = `${outDir}${name}.png`;
  await page.screenshot({ path, fullPage: true });
  expect(statSync(path).size).toBeGreaterThan(1000);
  expect(readFileSync(path).subarray(0, 8).equals(PNG)).toBe(true);
}

// The example app built with the real `next` (next build), started with next start by the same
// script `npm run example` runs, driven in Debian's Chromium. Its proxy, server actions and route
// handler run the SDK's Next.js adapter against the real auth server (debug mode: the OTP shows).
describe.skipIf(!chromiumPath)('examples/next-storefront in Chromium', () => {
  let stack: Stack;
  let next: ChildProcess;
  let url: string;
  let browser: { context: BrowserContext; close(): Promise<void> };

  beforeAll(async () => {
    buildSdk();
    mkdirSync(outDir, { recursive: true });
    // The app verifies access tokens with @storefront-auth/verify; one build at a time across
    // test files and engineers' runs.
    execFileSync(
      'flock',
      [
        '/tmp/storefront-auth-next-build.lock',
        'sh',
        '-c',
        `"${process.execPath}" node_modules/typescript/bin/tsc -b packages/verify && "${process.execPath}" scripts/example.mjs build`,
      ],
      { cwd: root, env: { ...process.env, NEXT_TELEMETRY_DISABLED: '1' }, stdio: 'pipe' },
    );
    stack = await startStack({ OTP_DEBUG: 'true' });
    // The app judges expiry by the wall clock: the server's clock starts there too.
    stack.t.clock.ms = Date.now();
    const port = await freePort();
    url = `http://127.0.0.1:${port}`;
    next = startExample({ AUTH_URL: stack.baseUrl, API_KEY, OTP_DEBUG: 'true', PORT: String(port) });
    await waitUntilUp(url, next);
    browser = await launchBrowser(chromiumPath!);
  }, 300_000);

  afterAll(async () => {
    await browser?.close();
    await stop(next);
    await stack?.close();
  });

  /** The refresh cookie is HttpOnly, and no script of the page can read its value anywhere. */
  async function refreshTokenOutOfReach(...pages: Page[]): Promise<void> {
    const jar = await browser.context.cookies(url);
    const refresh = jar.find((c) => c.name === 'sfa_refresh_token');
    expect(refresh?.httpOnly).toBe(true);
    const value = decodeURIComponent(refresh!.value);
    for (const page of pages) {
      const visible = (await page.evaluate(`JSON.stringify({
        cookie: document.cookie,
        local: Object.entries(localStorage),
        session: Object.entries(sessionStorage),
      })`)) as string;
      expect(visible).toContain('sfa_access_token=');
      expect(visible).not.toContain('sfa_refresh_token');
      expect(visible).not.toContain(value);
      expect(visible).not.toContain(refresh!.value);
    }
  }

  it('a shopper gets a session from the proxy, the refresh cookie is out of scripts reach, racing pages rotate once', async () => {
    const page = await browser.context.newPage();
    await page.goto(url);
    await expect.poll(() => page.locator('#shopper').textContent()).toMatch(/^anonymous [0-9A-Z]{26}$/);
    await shot(page, '01-anonymous');
    const shopper = await page.locator('#shopper').textContent();

    const jar = await browser.context.cookies(url);
    expect(jar.find((c) => c.name === 'sfa_access_token')!.httpOnly).toBe(false);
    await refreshTokenOutOfReach(page);

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
    await shot(pages[0]!, '02-after-racing-refresh');
    expect(stack.reached.refresh).toBe(1);
    const rotated = (await browser.context.cookies(url)).find((c) => c.name === 'sfa_refresh_token')!;
    expect(rotated.value).not.toBe(refreshCookie2.value);
    await refreshTokenOutOfReach(...pages);
    expect(await serverAccepts(stack, decodeURIComponent(rotated.value))).toBe(200);
    for (const p of [page, ...pages]) await p.close();
  });

  it('the journey in two tabs: a guest cart, register by OTP, the cart carried over, logout seen in the other tab, log in again', async () => {
    // From here the server's clock is the wall clock: the app's proxy refreshes whenever due.
    stack.t.clock.now = () => Date.now();
    await browser.context.clearCookies();
    const a = await browser.context.newPage();
    await a.goto(url);
    await expect.poll(() => a.locator('#shopper').textContent()).toMatch(/^anonymous [0-9A-Z]{26}$/);
    const b = await browser.context.newPage();
    await b.goto(url);
    const guest = (await a.locator('#shopper').textContent())!;
    expect(await b.locator('#shopper').textContent()).toBe(guest);
    for (const page of [a, b]) await page.locator('#status[data-status="anonymous"]').waitFor();
    // Tab B is never reloaded: this mark would be gone if it were.
    await b.evaluate('window.__sameDocument = true');
    const sameDocument = () => b.evaluate('window.__sameDocument === true');
    const cart = (page: Page) => page.locator('#cart li').allTextContents();
    await refreshTokenOutOfReach(a, b);
    await shot(a, '03-tab-a-guest');

    // A guest's cart, kept by the app under the guest's user id.
    await a.locator('#add-tea').click();
    await expect.poll(() => cart(a)).toEqual(['Green tea × 1']);
    await a.locator('#add-tea').click();
    await expect.poll(() => cart(a)).toEqual(['Green tea × 2']);
    await a.locator('#add-mug').click();
    await expect.poll(() => cart(a)).toEqual(['Green tea × 2', 'Stoneware mug × 1']);
    await refreshTokenOutOfReach(a, b);
    await shot(a, '04-tab-a-guest-cart');

    // Register by OTP (server actions); the development store shows the code.
    const email = `journey-${Date.now()}@example.com`;
    await a.locator('#register-name').fill('Ada');
    await a.locator('#register-email').fill(email);
    await a.locator('#register-send').click();
    const code = (await a.locator('#debug-otp').textContent())!;
    expect(code).toMatch(/^\d{6}$/);
    await refreshTokenOutOfReach(a, b);
    await shot(a, '05-tab-a-code');
    const guestRefresh = (await browser.context.cookies(url)).find((c) => c.name === 'sfa_refresh_token')!;
    await a.locator('#otp').fill(code);
    await a.locator('#verify').click();
    await expect.poll(() => a.locator('#shopper').textContent()).toMatch(/^customer [0-9A-Z]{26}$/);
    const customer = (await a.locator('#shopper').textContent())!;
    expect(await a.locator('#email').textContent()).toBe(email);
    // The server action wrote the customer's pair through cookies(): a new HttpOnly refresh
    // cookie, and an access cookie whose token carries the guest's id over.
    const jar = await browser.context.cookies(url);
    const customerRefresh = jar.find((c) => c.name === 'sfa_refresh_token')!;
    expect(customerRefresh.value).not.toBe(guestRefresh.value);
    const access = claimsOf(decodeURIComponent(jar.find((c) => c.name === 'sfa_access_token')!.value));
    expect(access['is_logged_in']).toBe(true);
    expect(`anonymous ${access['anonymous_id']}`).toBe(guest);
    expect(await cart(a)).toEqual(['Green tea × 2', 'Stoneware mug × 1']);
    await a.locator('#status[data-status="authenticated"]').waitFor();
    await refreshTokenOutOfReach(a, b);
    await shot(a, '06-tab-a-registered');
    // Tab B heard of it (useSession over the access cookie, BroadcastChannel) and re-rendered.
    await b.locator('#status[data-status="authenticated"][data-event="SIGNED_IN"]').waitFor();
    await expect.poll(() => b.locator('#shopper').textContent()).toBe(customer);
    await expect.poll(() => cart(b)).toEqual(['Green tea × 2', 'Stoneware mug × 1']);
    expect(await sameDocument()).toBe(true);
    await refreshTokenOutOfReach(a, b);
    await shot(b, '07-tab-b-sees-customer');

    // Log out in tab A (a route handler): a fresh guest with an empty cart.
    await a.locator('#logout').click();
    await expect.poll(() => a.locator('#shopper').textContent()).toMatch(/^anonymous [0-9A-Z]{26}$/);
    const guest2 = (await a.locator('#shopper').textContent())!;
    expect(guest2).not.toBe(guest);
    await expect.poll(() => cart(a)).toEqual(['empty']);
    await a.locator('#status[data-status="anonymous"][data-event="SIGNED_OUT"]').waitFor();
    // The customer's session is over at the server: its refresh token is refused.
    const refused = await stack.t.app.inject({
      method: 'POST',
      url: `${BASE}/auth/refresh-token`,
      payload: { refresh_token: decodeURIComponent(customerRefresh.value) },
    });
    expect(refused.json().code).toBe('SESSION_REVOKED');
    await refreshTokenOutOfReach(a, b);
    await shot(a, '08-tab-a-logged-out');
    // Tab B shows it without a reload.
    await b.locator('#status[data-status="anonymous"][data-event="SIGNED_OUT"]').waitFor();
    await expect.poll(() => b.locator('#shopper').textContent()).toBe(guest2);
    await expect.poll(() => cart(b)).toEqual(['empty']);
    expect(await sameDocument()).toBe(true);
    await refreshTokenOutOfReach(a, b);
    await shot(b, '09-tab-b-sees-logout');

    // In tab B, the new guest adds an item and logs in by OTP: the customer's cart was kept, and
    // the guest's item joins it. Tab A hears of it.
    await b.locator('#add-honey').click();
    await expect.poll(() => cart(b)).toEqual(['Forest honey × 1']);
    await b.locator('#login-email').fill(email);
    await b.locator('#login-send').click();
    const code2 = (await b.locator('#debug-otp').textContent())!;
    expect(code2).toMatch(/^\d{6}$/);
    await b.locator('#otp').fill(code2);
    await b.locator('#verify').click();
    await expect.poll(() => b.locator('#shopper').textContent()).toBe(customer);
    await expect.poll(() => cart(b)).toEqual(['Green tea × 2', 'Stoneware mug × 1', 'Forest honey × 1']);
    expect(await sameDocument()).toBe(true);
    await refreshTokenOutOfReach(a, b);
    await shot(b, '10-tab-b-logged-in');
    await a.locator('#status[data-status="authenticated"][data-event="SIGNED_IN"]').waitFor();
    await expect.poll(() => a.locator('#shopper').textContent()).toBe(customer);
    await expect.poll(() => cart(a)).toEqual(['Green tea × 2', 'Stoneware mug × 1', 'Forest honey × 1']);
    await refreshTokenOutOfReach(a, b);
    await shot(a, '11-tab-a-sees-login');
    await a.close();
    await b.close();
  });

  it('the README commands: the script starts its own auth server in debug mode on SQLite, and the page works', async () => {
    await browser.context.clearCookies();
    const dir = mkdtempSync(join(tmpdir(), 'sfa-example-'));
    const appPort = await freePort();
    let authPort = await freePort();
    while (authPort === appPort) authPort = await freePort();
    const own = startExample({
      PORT: String(appPort),
      AUTH_PORT: String(authPort),
      DATABASE_URL: `sqlite:${join(dir, 'auth.db')}`,
      LOG_LEVEL: 'silent',
    });
    try {
      const ownUrl = `http://127.0.0.1:${appPort}`;
      await waitUntilUp(ownUrl, own);
      const page = await browser.context.newPage();
      await page.goto(ownUrl);
      await expect.poll(() => page.locator('#shopper').textContent()).toMatch(/^anonymous [0-9A-Z]{26}$/);
      await page.locator('#register-name').fill('Grace');
      await page.locator('#register-email').fill('grace@example.com');
      await page.locator('#register-send').click();
      const code = (await page.locator('#debug-otp').textContent())!;
      await page.locator('#otp').fill(code);
      await page.locator('#verify').click();
      await expect.poll(() => page.locator('#shopper').textContent()).toMatch(/^customer [0-9A-Z]{26}$/);
      await shot(page, '12-own-auth-server');
      await page.close();
    } finally {
      await stop(own);
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
