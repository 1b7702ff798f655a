import { once } from 'node:events';
import { type AddressInfo, createServer } from 'node:net';
import type { BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { registerCustomer } from '../../../server/test/helpers/customers.js';
// @ts-expect-error plain ESM without types: the example's own server
import { startExampleServer } from '../../examples/browser/server.mjs';
import { buildSdk, findChromium, launchBrowser } from '../helpers/browser.js';
import { API_KEY, claimsOf, type Stack, startStack } from '../helpers/stack.js';

const chromiumPath = findChromium();
const EMAIL = 'bound@example.com';
const PASSWORD = 'correct horse battery';

// Page-side setup, as a string: vitest must not rewrite the dynamic import meant for the browser.
// Binding is not asked for: it is on by default in a browser.
const setup = (now: number) => `(async () => {
  const m = await import('/sdk/index.js');
  window.__now = ${now};
  window.__ended = [];
  window.sdk = m.createStorefrontSDK({
    baseUrl: location.origin + '/api/v1/demo/storefront',
    apiKey: ${JSON.stringify(API_KEY)},
    tokenStorage: m.localStorageStorage({ key: 'shop:tokens' }),
    now: () => window.__now,
    onSessionEnded: (reason) => window.__ended.push(reason),
  });
})()`;

/** What injected script in the shopper's page can carry off: every string in storage, cookies and the SDK's memory. */
const exfiltrate = `(async () => {
  const strings = [];
  for (let i = 0; i < localStorage.length; i++) strings.push(localStorage.getItem(localStorage.key(i)));
  for (let i = 0; i < sessionStorage.length; i++) strings.push(sessionStorage.getItem(sessionStorage.key(i)));
  strings.push(document.cookie);
  strings.push(JSON.stringify(await window.sdk.session.getTokens()));
  const tokens = new Set();
  for (const s of strings) for (const t of String(s).match(/eyJ[\\w-]+\\.[\\w-]+\\.[\\w-]+/g) ?? []) tokens.add(t);
  // The key itself: the script can reach the CryptoKey, but cannot read it out.
  const db = await new Promise((ok, no) => { const r = indexedDB.open('storefront-auth-dpop'); r.onsuccess = () => ok(r.result); r.onerror = () => no(r.error); });
  const pair = await new Promise((ok) => { const g = db.transaction('keys').objectStore('keys').get('default'); g.onsuccess = () => ok(g.result); });
  db.close();
  let exported = null;
  try { exported = await crypto.subtle.exportKey('jwk', pair.privateKey); } catch (e) { exported = 'refused: ' + e.name; }
  return { tokens: [...tokens], exported, extractable: pair.privateKey.extractable };
})()`;

async function freePort(): Promise<number> {
  const probe = createServer().listen(0, '127.0.0.1');
  await once(probe, 'listening');
  const { port } = probe.address() as AddressInfo;
  await new Promise((resolve) => probe.close(resolve));
  return port;
}

describe.skipIf(!chromiumPath)('DPoP-bound sessions in real Chromium', () => {
  let stack: Stack;
  let site: { url: string; close(): Promise<void> };
  let shopper: { context: BrowserContext; close(): Promise<void> };
  let thief: { context: BrowserContext; close(): Promise<void> };

  beforeAll(async () => {
    buildSdk();
    // The page reaches the server through the example's proxy: PUBLIC_URL is the URL the browser
    // uses, which the proofs' htu name.
    const port = await freePort();
    stack = await startStack({ OTP_DEBUG: 'true', PUBLIC_URL: `http://127.0.0.1:${port}` });
    site = await startExampleServer({
      upstream: stack.baseUrl.replace(/\/api\/.*$/, ''),
      apiKey: API_KEY,
      port,
    });
    shopper = await launchBrowser(chromiumPath!);
    thief = await launchBrowser(chromiumPath!);
    await registerCustomer(stack.t.app, EMAIL);
  });
  afterAll(async () => {
    await thief?.close();
    await shopper?.close();
    await site?.close();
    await stack?.close();
  });

  async function open(browser: { context: BrowserContext }): Promise<Page> {
    const page = await browser.context.newPage();
    await page.goto(`${site.url}/blank`);
    await page.evaluate(setup(stack.t.clock.now()));
    return page;
  }
  const tick = async (pages: Page[], seconds: number) => {
    stack.t.clock.advance(seconds);
    for (const p of pages) await p.evaluate(`window.__now = ${stack.t.clock.now()}`);
  };
  const getUser = (page: Page, id: string) =>
    page.evaluate(
      `sdk.auth.getUserDetails({ id: ${JSON.stringify(id)} }).then((r) => r.error?.code ?? 'ok')`,
    );

  it('copied tokens fail in another browser; the shopper keeps working across two tabs and a reload', async () => {
    const tab = await open(shopper);
    const login = (await tab.evaluate(
      `sdk.auth.loginWithPassword({ email: ${JSON.stringify(EMAIL)}, password: ${JSON.stringify(PASSWORD)} }).then((r) => r.error?.code ?? r.data.user.id)`,
    )) as string;
    expect(login).toMatch(/^[0-9A-Z]{26}$/);
    const userId = login;
    const pair = (await tab.evaluate('sdk.session.getTokens()')) as {
      access_token: string;
      refresh_token: string;
    };
    const jkt = (claimsOf(pair.access_token)['cnf'] as { jkt?: string } | undefined)?.jkt;
    expect(typeof jkt).toBe('string');
    expect(await getUser(tab, userId)).toBe('ok');

    const loot = (await tab.evaluate(exfiltrate)) as {
      tokens: string[];
      exported: unknown;
      extractable: boolean;
    };
    expect(loot.tokens).toContain(pair.access_token);
    expect(loot.tokens).toContain(pair.refresh_token);
    expect(loot.extractable).toBe(false);
    expect(String(loot.exported)).toMatch(/^refused/);

    // The second browser: every copied token, replayed raw and through an SDK with its own key.
    const other = await open(thief);
    const base = `${site.url}/api/v1/demo/storefront`;
    const replays = (await other.evaluate(
      `(async () => {
        const base = ${JSON.stringify(base)};
        const out = [];
        for (const t of ${JSON.stringify(loot.tokens)}) {
          const refresh = await fetch(base + '/auth/refresh-token', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ refresh_token: t }) });
          out.push(['refresh', refresh.status]);
          for (const scheme of ['Bearer', 'DPoP']) {
            const user = await fetch(base + '/auth/user/' + ${JSON.stringify(userId)}, { headers: { authorization: scheme + ' ' + t } });
            out.push(['user ' + scheme, user.status]);
          }
        }
        return out;
      })()`,
    )) as Array<[string, number]>;
    expect(replays.length).toBeGreaterThanOrEqual(6);
    for (const [what, status] of replays) expect([what, status >= 400 && status < 500]).toEqual([what, true]);
    // Through the thief's own SDK (its own key): the copied pair planted in its storage.
    await other.evaluate(`localStorage.setItem('shop:tokens', ${JSON.stringify(JSON.stringify(pair))})`);
    const viaSdk = (await other.evaluate(
      `(async () => {
        const user = await sdk.auth.getUserDetails({ id: ${JSON.stringify(userId)} });
        const refreshed = await sdk.auth.refreshToken({ refresh_token: ${JSON.stringify(pair.refresh_token)} });
        const now = await sdk.session.getTokens();
        return { user: user.error?.code ?? 'ok', refreshed: refreshed.error?.code ?? 'ok', ended: window.__ended, same: now?.refresh_token === ${JSON.stringify(pair.refresh_token)} };
      })()`,
    )) as { user: string; refreshed: string; ended: string[]; same: boolean };
    expect(viaSdk.user).not.toBe('ok');
    expect(viaSdk.refreshed).not.toBe('ok');
    expect(viaSdk.same).toBe(false);
    expect(
      (await stack.t.db.getSession(claimsOf(pair.refresh_token)['sid'] as string))?.session.revokedAt,
    ).toBeNull();

    // The shopper: a second tab, a refresh, a reload; the session goes on, bound to the same key.
    const second = await open(shopper);
    expect(await getUser(second, userId)).toBe('ok');
    await tick([tab, second], 61);
    expect(await getUser(tab, userId)).toBe('ok');
    expect(await getUser(second, userId)).toBe('ok');
    await tab.reload();
    await tab.evaluate(setup(stack.t.clock.now()));
    await tick([tab, second], 61);
    expect(await getUser(tab, userId)).toBe('ok');
    expect(await getUser(second, userId)).toBe('ok');
    const after = (await tab.evaluate('sdk.session.getTokens()')) as {
      access_token: string;
      refresh_token: string;
    };
    expect(claimsOf(after.refresh_token)['sid']).toBe(claimsOf(pair.refresh_token)['sid']);
    expect((claimsOf(after.access_token)['cnf'] as { jkt: string }).jkt).toBe(jkt);
    expect(await tab.evaluate('window.__ended')).toEqual([]);
    expect(await second.evaluate('window.__ended')).toEqual([]);
  });

  it.each([60, 600])(
    'a lost refresh answer, then %i s offline: the bound shopper keeps the session; the copied token is refused',
    async (spell) => {
      const tab = await open(shopper);
      await tab.evaluate('localStorage.clear()');
      await tab.evaluate('sdk.session.ensureAccessToken()');
      const held = (await tab.evaluate('sdk.session.getTokens()')) as {
        access_token: string;
        refresh_token: string;
      };
      expect(claimsOf(held.access_token)['cnf']).toBeDefined();
      const sid = claimsOf(held.refresh_token)['sid'];
      await tick([tab], 61);
      // The refresh reaches the server, which rotates; its answer is lost, and every retry is cut.
      stack.fault(
        'refresh',
        { kind: 'drop-after' },
        { kind: 'drop-before' },
        { kind: 'drop-before' },
        { kind: 'drop-before' },
      );
      await tab.evaluate('sdk.session.ensureAccessToken()');
      await tick([tab], spell);
      // Back online, the shopper reloads the page.
      await tab.reload();
      await tab.evaluate(setup(stack.t.clock.now()));
      expect(typeof (await tab.evaluate('sdk.session.ensureAccessToken()'))).toBe('string');
      const now = (await tab.evaluate('sdk.session.getTokens()')) as {
        access_token: string;
        refresh_token: string;
      };
      expect(claimsOf(now.refresh_token)['sid']).toBe(sid);
      expect(now.refresh_token).not.toBe(held.refresh_token);
      expect(await tab.evaluate('window.__ended')).toEqual([]);
      // The copied token, without the key: refused, and the session is not ended by it.
      for (const copied of [held.refresh_token, now.refresh_token]) {
        const res = await fetch(`${stack.baseUrl}/auth/refresh-token`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({ refresh_token: copied }),
        });
        expect(res.status).toBe(401);
        expect(((await res.json()) as { code: string }).code).toBe('DPOP_PROOF_INVALID');
      }
      await tick([tab], 61);
      expect(typeof (await tab.evaluate('sdk.session.ensureAccessToken()'))).toBe('string');
      const later = (await tab.evaluate('sdk.session.getTokens()')) as { refresh_token: string };
      expect(claimsOf(later.refresh_token)['sid']).toBe(sid);
      expect(await tab.evaluate('window.__ended')).toEqual([]);
      await tab.close();
    },
  );

  it('two tabs making the first key at once end with one key', async () => {
    const fresh = await launchBrowser(chromiumPath!);
    try {
      const pages = await Promise.all([fresh.context.newPage(), fresh.context.newPage()]);
      for (const p of pages) await p.goto(`${site.url}/blank`);
      const make = `(async () => {
        const m = await import('/sdk/index.js');
        const store = m.indexedDbKeyStore();
        const pair = await store.keep(await m.generateDpopKeyPair());
        const jwk = await crypto.subtle.exportKey('jwk', pair.publicKey);
        return m.thumbprint({ kty: jwk.kty, crv: jwk.crv, x: jwk.x, y: jwk.y });
      })()`;
      const [a, b] = await Promise.all(pages.map((p) => p.evaluate(make)));
      expect(a).toBe(b);
    } finally {
      await fresh.close();
    }
  });
});
