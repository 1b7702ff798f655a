/**
 * A server-side-rendering storefront (the Commerce Engine Next.js pattern): the official SDK runs on
 * the storefront's server, one SDK and one fresh token storage per shopper, every call from that
 * server's one address. Real HTTP on 127.0.0.1; this test process is the front end.
 */
import {
  MemoryTokenStorage,
  SessionStorefrontSDK,
  type SessionStorefrontSDKOptions,
} from '@commercengine/storefront-sdk';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { API_KEY, BASE, makeTestApp, STORE, type TestApp } from '../helpers/app.js';

let t: TestApp | undefined;
let baseUrl: string;
/** Statuses of the SDK's POST /auth/anonymous calls (0.15.0 makes two on a first visit). */
let anonymousStatuses: number[];

beforeEach(() => {
  // The SDK narrates its session management with console.info.
  vi.spyOn(console, 'info').mockImplementation(() => {});
  anonymousStatuses = [];
  // Observed, never answered: every call goes through to the server.
  const realFetch = globalThis.fetch;
  vi.spyOn(globalThis, 'fetch').mockImplementation(async (input, init) => {
    const res = await realFetch(input, init);
    const url = input instanceof Request ? input.url : String(input);
    if (url.endsWith('/auth/anonymous')) anonymousStatuses.push(res.status);
    return res;
  });
});
afterEach(async () => {
  vi.restoreAllMocks();
  await t?.close();
  t = undefined;
});

async function serve(env: Record<string, string>) {
  t = await makeTestApp(env);
  baseUrl = `${await t.app.listen({ port: 0, host: '127.0.0.1' })}${BASE}`;
}

/** The SDK as a front end builds it for one shopper's request; `forwardFor` is the shopper's address, when it passes it on. */
function shopperSdk(forwardFor?: string) {
  const options: SessionStorefrontSDKOptions = {
    storeId: STORE,
    baseUrl,
    apiKey: API_KEY,
    tokenStorage: new MemoryTokenStorage(),
    ...(forwardFor
      ? { defaultHeaders: { 'x-forwarded-for': forwardFor } as SessionStorefrontSDKOptions['defaultHeaders'] }
      : {}),
  };
  return new SessionStorefrontSDK(options);
}

/** A first-time shopper: the SDK bootstraps an anonymous session; answers the user id, or null when refused. */
async function firstVisit(sdk: SessionStorefrontSDK): Promise<string | null> {
  try {
    return (await sdk.session.ensureUserId()) ?? null;
  } catch {
    return null;
  }
}

async function loginCode(sdk: SessionStorefrontSDK, email: string) {
  const { data, error } = await sdk.auth.loginWithEmail({ email, register_if_not_exists: true });
  return { ok: error === null && typeof data?.otp_token === 'string', code: error?.code };
}

describe('an SSR storefront declared in TRUSTED_FRONTENDS', () => {
  it('500 first-time shoppers all get sessions, 100 customers all get login codes, from one address', async () => {
    await serve({ TRUSTED_FRONTENDS: '127.0.0.1' });
    const ids = new Set<string | null>();
    for (let i = 0; i < 500; i++) ids.add(await firstVisit(shopperSdk()));
    expect(ids.has(null)).toBe(false);
    expect(ids.size).toBe(500);

    const codes = [];
    for (let i = 0; i < 100; i++) codes.push(await loginCode(shopperSdk(), `customer${i}@example.com`));
    expect(codes.filter((c) => c.ok)).toHaveLength(100);
  }, 120_000);

  it('one abusive shopper whose address the front end forwards is limited alone', async () => {
    await serve({ TRUSTED_FRONTENDS: '127.0.0.1', OTP_IP_RATE_LIMIT: '5' });
    const abuser = shopperSdk('203.0.113.66');
    const outcomes = [];
    for (let i = 0; i < 8; i++) outcomes.push(await loginCode(abuser, `victim${i}@example.com`));
    expect(outcomes.map((o) => o.ok)).toEqual([true, true, true, true, true, false, false, false]);
    expect(outcomes[7]!.code).toBe('RATE_LIMITED');
    // Another shopper the front end forwards, and shoppers it does not, still get codes.
    expect((await loginCode(shopperSdk('203.0.113.67'), 'neighbour@example.com')).ok).toBe(true);
    for (let i = 0; i < 10; i++)
      expect((await loginCode(shopperSdk(), `other${i}@example.com`)).ok).toBe(true);
    // A rotated left-most entry does not reset the abuser: the front end's appended entry counts.
    const rotating = shopperSdk('198.18.0.1, 203.0.113.66');
    expect((await loginCode(rotating, 'victim9@example.com')).code).toBe('RATE_LIMITED');
  }, 120_000);

  it("the front end's own budget is FRONTEND_BUDGET_FACTOR times the per-address limit, not unlimited", async () => {
    await serve({ TRUSTED_FRONTENDS: '127.0.0.1', ANONYMOUS_RATE_LIMIT: '2', FRONTEND_BUDGET_FACTOR: '10' });
    for (let i = 0; i < 15; i++) await firstVisit(shopperSdk());
    expect(anonymousStatuses.filter((s) => s === 200)).toHaveLength(20);
    expect(anonymousStatuses.filter((s) => s === 429).length).toBeGreaterThan(0);
  }, 120_000);

  it('per-identifier limits apply wherever the call comes from', async () => {
    await serve({ TRUSTED_FRONTENDS: '127.0.0.1' });
    const outcomes = [];
    for (let i = 0; i < 7; i++) outcomes.push((await loginCode(shopperSdk(), 'same@example.com')).ok);
    expect(outcomes).toEqual([true, true, true, true, true, false, false]);
  }, 120_000);
});

describe('the same storefront without TRUSTED_FRONTENDS', () => {
  it('its one address is limited as one client: past 60 anonymous sessions a minute visitors get none, the 21st code is refused', async () => {
    await serve({});
    const ids = [];
    for (let i = 0; i < 40; i++) ids.push(await firstVisit(shopperSdk()));
    // The SDK asks twice on a first visit, so 60 sessions a minute serve only 30 first-time shoppers.
    expect(anonymousStatuses.filter((s) => s === 200)).toHaveLength(60);
    expect(ids.filter((id) => id === null).length).toBeGreaterThan(0);
    const codes = [];
    for (let i = 0; i < 22; i++) codes.push((await loginCode(shopperSdk(), `c${i}@example.com`)).ok);
    expect(codes.filter(Boolean)).toHaveLength(20);
  }, 120_000);
});
