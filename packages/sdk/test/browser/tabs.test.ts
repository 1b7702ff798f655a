import { mkdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
// @ts-expect-error plain ESM without types: the example's own server
import { startExampleServer } from '../../examples/browser/server.mjs';
import { buildSdk, findChromium, launchBrowser } from '../helpers/browser.js';
import { API_KEY, type Stack, serverAccepts, startStack } from '../helpers/stack.js';

const chromiumPath = findChromium();
const outDir = fileURLToPath(new URL('../../test-output/', import.meta.url));

type LockMode = 'default' | 'none' | 'storage' | 'web-locks-60s' | 'web-locks-without-handover';
type StorageMode = 'localStorage' | 'cookie' | 'lagging';

// Page-side setup, as a string: vitest must not rewrite the dynamic import meant for the browser.
const setup = (lockMode: LockMode, storageMode: StorageMode, now: number) => `(async () => {
  const m = await import('/sdk/index.js');
  const lockMode = ${JSON.stringify(lockMode)};
  window.__now = ${now};
  window.__ended = [];
  window.__lockKind = lockMode === 'default' ? (m.webLocksAvailable() ? 'web-locks' : 'other') : lockMode;
  const storageMode = ${JSON.stringify(storageMode)};
  // 'lagging': this tab's reads show what it last wrote or synced, never a sibling's later write,
  // as a localStorage read across renderer processes may.
  const inner = m.localStorageStorage({ key: 'test:tokens' });
  let cache = null;
  window.__sync = async () => { cache = await inner.getTokens(); };
  const lagging = {
    kind: 'localStorage',
    key: inner.key,
    getTokens: async () => cache,
    setTokens: async (pair) => { cache = pair; await inner.setTokens(pair); },
    clearTokens: async () => { cache = null; await inner.clearTokens(); },
  };
  window.sdk = m.createStorefrontSDK({
    baseUrl: location.origin + '/api/v1/demo/storefront',
    apiKey: ${JSON.stringify(API_KEY)},
    tokenStorage: storageMode === 'cookie' ? m.documentCookieStorage()
      : storageMode === 'lagging' ? lagging
      : inner,
    now: () => window.__now,
    lock: lockMode === 'none' ? false
      : lockMode === 'storage' ? m.storageLock()
      : lockMode === 'web-locks-60s' ? m.webLocks({ acquireTimeoutMs: 60000 })
      : lockMode === 'web-locks-without-handover' ? { run: (name, fn) => m.webLocks().run(name, fn) }
      : undefined,
    onSessionEnded: (reason) => window.__ended.push(reason),
  });
  return window.__lockKind;
})()`;

describe.skipIf(!chromiumPath)('in real Chromium', () => {
  let stack: Stack;
  let site: { url: string; close(): Promise<void> };
  let browser: { context: BrowserContext; close(): Promise<void> };

  beforeAll(async () => {
    buildSdk();
    stack = await startStack();
    site = await startExampleServer({ upstream: stack.baseUrl.replace(/\/api\/.*$/, ''), apiKey: API_KEY });
    browser = await launchBrowser(chromiumPath!);
  });
  afterAll(async () => {
    await browser?.close();
    await site?.close();
    await stack?.close();
  });

  async function openTab(
    lockMode: LockMode,
    storageMode: StorageMode = 'localStorage',
  ): Promise<{ page: Page; lockKind: string }> {
    const page = await browser.context.newPage();
    await page.goto(`${site.url}/blank`);
    const lockKind = (await page.evaluate(setup(lockMode, storageMode, stack.t.clock.now()))) as string;
    return { page, lockKind };
  }

  const readTokens = async (page: Page, storageMode: Exclude<StorageMode, 'lagging'>) =>
    storageMode === 'cookie'
      ? ((await page.evaluate(`(async () => {
          const m = await import('/sdk/index.js');
          return m.documentCookieStorage().getTokens();
        })()`)) as { access_token: string; refresh_token: string })
      : JSON.parse((await page.evaluate('localStorage.getItem("test:tokens")')) as string);

  /** Two tabs of one origin on one fresh session, both with an access token due for refresh. */
  async function twoTabsDue(lockMode: LockMode, storageMode: 'localStorage' | 'cookie' = 'localStorage') {
    const a = await openTab(lockMode, storageMode);
    const b = await openTab(lockMode, storageMode);
    await a.page.evaluate('localStorage.clear()');
    await browser.context.clearCookies();
    await a.page.evaluate('sdk.session.ensureAccessToken()');
    stack.t.clock.advance(50);
    for (const tab of [a, b]) await tab.page.evaluate(`window.__now = ${stack.t.clock.now()}`);
    stack.reached.refresh = 0;
    // Both refreshes, if both are sent, are let through together: "at the same moment".
    stack.holdRefreshes(2, 1500);
    const tokens = await Promise.all([
      a.page.evaluate('sdk.session.ensureAccessToken()'),
      b.page.evaluate('sdk.session.ensureAccessToken()'),
    ]);
    stack.holdRefreshes(1, 0); // back to letting every refresh straight through
    const ended = [
      ...((await a.page.evaluate('window.__ended')) as string[]),
      ...((await b.page.evaluate('window.__ended')) as string[]),
    ];
    const stored = await readTokens(a.page, storageMode);
    const storedB = await readTokens(b.page, storageMode);
    await a.page.close();
    await b.page.close();
    return { tokens, ended, stored, storedB, lockKind: a.lockKind };
  }

  /** One refresh reached the server, both tabs hold and stored its pair, and the server takes it. */
  async function expectOneRefreshSharedByBoth(run: Awaited<ReturnType<typeof twoTabsDue>>) {
    expect(stack.reached.refresh).toBe(1);
    expect(run.tokens[0]).toBe(run.tokens[1]);
    expect(run.stored).toEqual(run.storedB);
    expect(run.stored.access_token).toBe(run.tokens[0]);
    expect(run.ended).toEqual([]);
    expect(await serverAccepts(stack, run.stored.refresh_token)).toBe(200);
  }

  it('two tabs needing a refresh at the same moment send exactly one (Web Locks)', async () => {
    const run = await twoTabsDue('default');
    expect(run.lockKind).toBe('web-locks');
    await expectOneRefreshSharedByBoth(run);
  });

  it('the localStorage lease (for browsers without Web Locks) also lets one refresh through', async () => {
    const run = await twoTabsDue('storage');
    expect(stack.reached.refresh).toBe(1);
    expect(run.tokens[0]).toBe(run.tokens[1]);
    expect(run.ended).toEqual([]);
    expect(await serverAccepts(stack, run.stored.refresh_token)).toBe(200);
  });

  it('two tabs sharing document.cookie storage also send exactly one', async () => {
    const run = await twoTabsDue('default', 'cookie');
    await expectOneRefreshSharedByBoth(run);
  });

  it('a tab that crashes while holding the lock does not block the others', async () => {
    const crashing = await openTab('web-locks-60s');
    const survivor = await openTab('web-locks-60s');
    await survivor.page.evaluate('localStorage.clear()');
    await survivor.page.evaluate('sdk.session.ensureAccessToken()');
    stack.t.clock.advance(50);
    await survivor.page.evaluate(`window.__now = ${stack.t.clock.now()}`);
    // The crashing tab takes the SDK's lock and never lets go, then dies.
    const lockName = `storefront-auth:${site.url}/api/v1/demo/storefront:localStorage:test:tokens`;
    await crashing.page.evaluate(`new Promise((held) => {
      navigator.locks.request(${JSON.stringify(lockName)}, () => { held(); return new Promise(() => {}); });
    })`);
    const waiting = survivor.page.evaluate('sdk.session.ensureAccessToken()');
    await crashing.page.close();
    // The survivor waits up to 60 s for the lock (longer than this test's timeout): it can only
    // finish in time because the browser released the dead tab's lock.
    expect(typeof (await waiting)).toBe('string');
    expect(stack.reached.refresh).toBeGreaterThanOrEqual(1);
    await survivor.page.close();
  });

  it('without the lock the same two tabs DO send two refreshes (the test above can fail)', async () => {
    const run = await twoTabsDue('none');
    expect(stack.reached.refresh).toBeGreaterThan(1);
    // The server's grace window still answers both with one successor: nobody is logged out.
    expect(run.ended).toEqual([]);
  });

  /** Tab B's storage never shows A's rotation; how many refreshes do A and then B send? */
  async function siblingWithLaggingStorage(lockMode: LockMode) {
    const a = await openTab(lockMode, 'lagging');
    const b = await openTab(lockMode, 'lagging');
    await a.page.evaluate('localStorage.clear()');
    await a.page.evaluate('sdk.session.ensureAccessToken()');
    // B's own localStorage may take a moment to show A's first pair; B starts from that pair.
    const first = (await a.page.evaluate('localStorage.getItem("test:tokens")')) as string;
    await b.page.waitForFunction((raw) => localStorage.getItem('test:tokens') === raw, first);
    await b.page.evaluate('window.__sync()');
    stack.t.clock.advance(50);
    for (const tab of [a, b]) await tab.page.evaluate(`window.__now = ${stack.t.clock.now()}`);
    stack.reached.refresh = 0;
    stack.reached.anonymous = 0;
    const tokenA = await a.page.evaluate('sdk.session.ensureAccessToken()');
    const tokenB = await b.page.evaluate('sdk.session.ensureAccessToken()');
    await a.page.close();
    await b.page.close();
    return { refreshes: stack.reached.refresh, bootstraps: stack.reached.anonymous, same: tokenA === tokenB };
  }

  it('a tab whose storage read lags its sibling’s write adopts the sibling’s pair from the handover', async () => {
    const run = await siblingWithLaggingStorage('default');
    expect(run.bootstraps).toBe(0);
    expect(run.refreshes).toBe(1);
    expect(run.same).toBe(true);
  });

  it('without the handover the lagging tab DOES refresh again (the test above can fail)', async () => {
    const run = await siblingWithLaggingStorage('web-locks-without-handover');
    expect(run.bootstraps).toBe(0);
    expect(run.refreshes).toBe(2);
  });

  it('20 times over, two tabs due at the same moment send exactly one refresh (Web Locks)', async () => {
    const a = await openTab('default');
    const b = await openTab('default');
    await a.page.evaluate('localStorage.clear()');
    await a.page.evaluate('sdk.session.ensureAccessToken()');
    const counts: number[] = [];
    const shared: boolean[] = [];
    for (let round = 0; round < 20; round++) {
      stack.t.clock.advance(50);
      for (const tab of [a, b]) await tab.page.evaluate(`window.__now = ${stack.t.clock.now()}`);
      stack.reached.refresh = 0;
      stack.holdRefreshes(2, 500);
      const tokens = await Promise.all([
        a.page.evaluate('sdk.session.ensureAccessToken()'),
        b.page.evaluate('sdk.session.ensureAccessToken()'),
      ]);
      counts.push(stack.reached.refresh);
      shared.push(tokens[0] === tokens[1]);
    }
    stack.holdRefreshes(1, 0);
    expect(counts).toEqual(Array(20).fill(1));
    expect(shared).toEqual(Array(20).fill(true));
    const ended = [
      ...((await a.page.evaluate('window.__ended')) as string[]),
      ...((await b.page.evaluate('window.__ended')) as string[]),
    ];
    expect(ended).toEqual([]);
    expect(await serverAccepts(stack, (await readTokens(a.page, 'localStorage')).refresh_token)).toBe(200);
    await a.page.close();
    await b.page.close();
  }, 180_000);

  describe('with the device clock 5 minutes ahead of the server', () => {
    const AHEAD_MS = 5 * 60_000;
    /** A tab whose SDK reads a clock 5 minutes ahead, on a session a first tab started. */
    const openSkewedTab = async () => {
      const tab = await openTab('default');
      await tab.page.evaluate(`window.__now = ${stack.t.clock.now() + AHEAD_MS}`);
      return tab;
    };
    async function sessionStartedAhead() {
      const first = await openSkewedTab();
      await first.page.evaluate('localStorage.clear()');
      await first.page.evaluate('sdk.session.ensureAccessToken()');
      stack.reached.refresh = 0;
      stack.reached.anonymous = 0;
      return first;
    }

    it.each([2, 5])('%i new tabs at once refresh nothing: none is due', async (count) => {
      const first = await sessionStartedAhead();
      const tabs = await Promise.all(Array.from({ length: count }, () => openSkewedTab()));
      const tokens = await Promise.all(
        tabs.map((tab) => tab.page.evaluate('sdk.session.ensureAccessToken()')),
      );
      expect(stack.reached.refresh).toBe(0);
      expect(stack.reached.anonymous).toBe(0);
      expect(new Set(tokens)).toEqual(new Set([(await readTokens(first.page, 'localStorage')).access_token]));
      for (const tab of [first, ...tabs]) await tab.page.close();
    });

    it('5 page navigations refresh nothing: none is due', async () => {
      const first = await sessionStartedAhead();
      await first.page.close();
      const tab = await openSkewedTab();
      for (let view = 0; view < 5; view++) {
        await tab.page.goto(`${site.url}/blank`);
        await tab.page.evaluate(setup('default', 'localStorage', stack.t.clock.now() + AHEAD_MS));
        await tab.page.evaluate('sdk.session.ensureAccessToken()');
      }
      expect(stack.reached.refresh).toBe(0);
      expect(stack.reached.anonymous).toBe(0);
      await tab.page.close();
    });

    it('still refreshes once when one is due, and every tab adopts it', async () => {
      const first = await sessionStartedAhead();
      const second = await openSkewedTab();
      stack.t.clock.advance(50);
      for (const tab of [first, second])
        await tab.page.evaluate(`window.__now = ${stack.t.clock.now() + AHEAD_MS}`);
      stack.holdRefreshes(2, 500);
      const tokens = await Promise.all(
        [first, second].map((tab) => tab.page.evaluate('sdk.session.ensureAccessToken()')),
      );
      stack.holdRefreshes(1, 0);
      expect(stack.reached.refresh).toBe(1);
      expect(tokens[0]).toBe(tokens[1]);
      for (const tab of [first, second]) await tab.page.close();
    });
  });

  it('the example page shows the session and refreshes on "Refresh now"', async () => {
    const page = await browser.context.newPage();
    await page.goto(`${site.url}/`);
    await page.waitForSelector('body[data-ready="true"]');
    const userId = await page.textContent('#user');
    expect(userId).toMatch(/^[0-9A-HJKMNP-TV-Z]{26}$/);
    expect(await page.textContent('#anonymous')).toBe('yes');
    expect(await page.textContent('#expiry')).toMatch(/^\d+ s$/);
    stack.reached.refresh = 0;
    await page.click('#refresh');
    await page.waitForSelector('#events li:has-text("refresh now: done")');
    await page.waitForFunction(() => document.getElementById('count')?.textContent === '1');
    expect(stack.reached.refresh).toBe(1);
    expect(await page.textContent('#user')).toBe(userId);
    const html = await page.content();
    // The page never shows a token.
    expect(html).not.toMatch(/eyJ[\w-]+\.[\w-]+\./);
    mkdirSync(outDir, { recursive: true });
    await page.screenshot({ path: `${outDir}example-page.png`, fullPage: true });
    await page.close();
  });
});
