import type { BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { registerCustomer } from '../../../server/test/helpers/customers.js';
// @ts-expect-error plain ESM without types: the example's own server
import { startExampleServer } from '../../examples/browser/server.mjs';
import { buildSdk, findChromium, launchBrowser } from '../helpers/browser.js';
import { API_KEY, type Stack, startStack } from '../helpers/stack.js';

const chromiumPath = findChromium();

type Transport = 'BroadcastChannel' | 'storage event';

// Page-side setup, as a string: vitest must not rewrite the dynamic import meant for the browser.
const setup = (transport: Transport, now: number) => `(async () => {
  if (${JSON.stringify(transport)} === 'storage event') delete window.BroadcastChannel;
  const m = await import('/sdk/index.js');
  window.__now = ${now};
  window.__events = [];
  window.sdk = m.createStorefrontSDK({
    baseUrl: location.origin + '/api/v1/demo/storefront',
    apiKey: ${JSON.stringify(API_KEY)},
    tokenStorage: m.localStorageStorage({ key: 'auth-state:tokens' }),
    now: () => window.__now,
  });
  window.sdk.onAuthStateChange((c) => window.__events.push(c.event + (c.remote ? ' (remote)' : '')));
  return typeof window.BroadcastChannel;
})()`;

describe.skipIf(!chromiumPath)('onAuthStateChange across real Chromium tabs', () => {
  let stack: Stack;
  let site: { url: string; close(): Promise<void> };
  let browser: { context: BrowserContext; close(): Promise<void> };

  beforeAll(async () => {
    buildSdk();
    stack = await startStack({ OTP_DEBUG: 'true' });
    site = await startExampleServer({ upstream: stack.baseUrl.replace(/\/api\/.*$/, ''), apiKey: API_KEY });
    browser = await launchBrowser(chromiumPath!);
    await registerCustomer(stack.t.app, 'tabs@example.com');
  });
  afterAll(async () => {
    await browser?.close();
    await site?.close();
    await stack?.close();
  });

  async function openTab(transport: Transport, fresh = false): Promise<Page> {
    const page = await browser.context.newPage();
    await page.goto(`${site.url}/blank`);
    // Before the SDK starts: it reads storage at once, and the previous test's pair is still there.
    if (fresh) await page.evaluate('localStorage.clear()');
    const kind = await page.evaluate(setup(transport, stack.t.clock.now()));
    expect(kind).toBe(transport === 'BroadcastChannel' ? 'function' : 'undefined');
    return page;
  }

  const events = (page: Page) => page.evaluate('window.__events') as Promise<string[]>;
  const until = (page: Page, n: number) => page.waitForFunction(`window.__events.length >= ${n}`);

  for (const transport of ['BroadcastChannel', 'storage event'] as const) {
    it(`signing in, refreshing and signing out in tab A shows in tab B (${transport})`, async () => {
      const a = await openTab(transport, true);
      const b = await openTab(transport);

      await a.evaluate('sdk.session.ensureAccessToken()');
      await until(b, 1);
      const login = await a.evaluate(
        `sdk.auth.loginWithPassword({ email: 'tabs@example.com', password: 'correct horse battery' }).then((r) => r.error)`,
      );
      expect(login).toBeNull();
      await until(b, 2);

      stack.t.clock.advance(50);
      for (const tab of [a, b]) await tab.evaluate(`window.__now = ${stack.t.clock.now()}`);
      await a.evaluate('sdk.session.ensureAccessToken()');
      await until(b, 3);
      // B adopts the pair A stored: no second announcement.
      await b.evaluate('sdk.session.ensureAccessToken()');

      expect((await a.evaluate('sdk.auth.logout().then((r) => r.error)')) as unknown).toBeNull();
      await until(b, 4);

      expect(await events(a)).toEqual(['SIGNED_IN', 'SIGNED_IN', 'TOKEN_REFRESHED', 'SIGNED_OUT']);
      expect(await events(b)).toEqual([
        'SIGNED_IN (remote)',
        'SIGNED_IN (remote)',
        'TOKEN_REFRESHED (remote)',
        'SIGNED_OUT (remote)',
      ]);
      await a.close();
      await b.close();
    });
  }
});
