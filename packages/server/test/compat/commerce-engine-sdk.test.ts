/**
 * The official Commerce Engine SDK (`@commercengine/storefront-sdk` 0.15.0, pinned) against our real
 * server over real HTTP on 127.0.0.1: a storefront that points its `baseUrl` at us must keep working
 * (reference/commerce-engine-auth-contract.md, sections 1, 3 and 4).
 *
 * Time: the SDK decides when to refresh from `Date.now()` (30 s before `exp`), the server from its
 * ManualClock. Only `Date` is faked (timers stay real), and both clocks are moved together, so
 * "later" is exact and nothing waits for wall time.
 *
 * Requests are observed, never answered: `globalThis.fetch` is wrapped before the SDK is built (the
 * SDK's openapi-fetch clients capture it then; its bootstrap/refresh/fallback fetches read it per
 * call) and every call goes through to the server. Only method, path and whether X-Api-Key and
 * Authorization were present are recorded. Tokens are compared as booleans or by their decoded
 * claims, so a failing assertion never prints one.
 */
import {
  MemoryTokenStorage,
  SessionStorefrontSDK,
  type SessionStorefrontSDKOptions,
} from '@commercengine/storefront-sdk';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { API_KEY, BASE, claims, makeTestApp, STORE, sqliteDb, type TestApp } from '../helpers/app.js';
import { PASSWORD } from '../helpers/customers.js';

/** Refresh tokens live an hour here (the idle lifetime), so the anonymous fallback test can reach its last 30 s. */
const REFRESH_TTL = 3600;

interface Seen {
  method: string;
  path: string;
  apiKey: boolean;
  bearer: boolean;
}

let t: TestApp;
let baseUrl: string;
let seen: Seen[];

beforeEach(async () => {
  t = await makeTestApp({ OTP_DEBUG: 'true', REFRESH_TOKEN_TTL: String(REFRESH_TTL) });
  const address = await t.app.listen({ port: 0, host: '127.0.0.1' });
  baseUrl = `${address}${BASE}`;
  vi.useFakeTimers({ toFake: ['Date'] });
  vi.setSystemTime(t.clock.ms);
  seen = [];
  const realFetch = globalThis.fetch;
  vi.spyOn(globalThis, 'fetch').mockImplementation((input, init) => {
    const request = input instanceof Request ? input : null;
    const headers = new Headers(init?.headers ?? request?.headers);
    const url = new URL(request ? request.url : String(input));
    seen.push({
      method: init?.method ?? request?.method ?? 'GET',
      path: url.pathname.startsWith(BASE) ? url.pathname.slice(BASE.length) : url.pathname,
      apiKey: headers.has('x-api-key'),
      bearer: (headers.get('authorization') ?? '').startsWith('Bearer '),
    });
    return realFetch(input, init);
  });
  // The SDK narrates its session management with console.info; keep test output quiet.
  vi.spyOn(console, 'info').mockImplementation(() => {});
});

afterEach(async () => {
  vi.restoreAllMocks();
  vi.useRealTimers();
  await t.close();
});

/** Moves the server's clock and the SDK's `Date.now()` together. */
function advance(seconds: number) {
  t.clock.advance(seconds);
  vi.setSystemTime(t.clock.ms);
}

/** Manual mode: no token storage, so the SDK neither bootstraps, refreshes nor stores anything. */
function manualSdk(extra: Partial<SessionStorefrontSDKOptions> = {}) {
  return new SessionStorefrontSDK({ storeId: STORE, baseUrl, apiKey: API_KEY, ...extra });
}

/** Managed mode: the SDK owns the session in `storage`. */
function managedSdk(storage = new MemoryTokenStorage(), url = baseUrl) {
  const sdk = new SessionStorefrontSDK({
    storeId: STORE,
    baseUrl: url,
    apiKey: API_KEY,
    tokenStorage: storage,
  });
  return { sdk, storage };
}

async function stored(storage: MemoryTokenStorage) {
  const access = await storage.getAccessToken();
  const refresh = await storage.getRefreshToken();
  if (!access || !refresh) throw new Error('the SDK holds no token pair');
  return { access, refresh, accessClaims: claims(access), refreshClaims: claims(refresh) };
}

function sessionRow(sid: unknown) {
  return sqliteDb(t)
    .prepare('SELECT user_id, anonymous_id, generation, revoked_at FROM sessions WHERE id = ?')
    .get(sid) as {
    user_id: string;
    anonymous_id: string | null;
    generation: number;
    revoked_at: number | null;
  };
}

const EMAIL = 'ada@example.com';

/** A customer registered through the SDK in manual mode (no Bearer, so no anonymous session is involved). */
async function registerThroughSdk(): Promise<string> {
  const sdk = manualSdk();
  const started = await sdk.auth.registerWithPassword(
    { email: EMAIL, password: PASSWORD, confirm_password: PASSWORD },
    { 'x-debug-mode': true },
  );
  expect(started.error).toBeNull();
  // With OTP_DEBUG=true and `x-debug-mode: true` the server adds the code; the SDK's type has no field for it.
  const { otp_token, otp } = started.data as unknown as { otp_token: string; otp: string };
  expect(otp).toMatch(/^\d{6}$/);
  const verified = await sdk.auth.verifyOtp({ otp, otp_token, otp_action: 'register' });
  expect(verified.error).toBeNull();
  return verified.data!.user.id;
}

describe('the official Commerce Engine SDK against our server', () => {
  it('manual mode: getAnonymousToken, then refreshToken rotates the pair; a garbage refresh token is an error, not a throw', async () => {
    const sdk = manualSdk();
    const anon = await sdk.auth.getAnonymousToken();
    expect(anon.error).toBeNull();
    const first = anon.data!;
    expect(first.user.is_anonymous).toBe(true);
    expect(claims(first.access_token)).toMatchObject({
      ulid: first.user.id,
      is_anonymous: true,
      is_logged_in: false,
    });
    expect(seen[0]).toMatchObject({ method: 'POST', path: '/auth/anonymous', apiKey: true });

    const { data, error } = await sdk.auth.refreshToken({ refresh_token: first.refresh_token });
    expect(error).toBeNull();
    expect(data!.access_token === first.access_token).toBe(false);
    expect(data!.refresh_token === first.refresh_token).toBe(false);
    const before = claims(first.refresh_token);
    const after = claims(data!.refresh_token);
    expect(after.sid).toBe(before.sid);
    expect(after.gen).toBe((before.gen as number) + 1);
    expect(claims(data!.access_token)).toMatchObject({
      ulid: first.user.id,
      sid: before.sid,
      is_anonymous: true,
    });
    expect(sessionRow(before.sid)).toMatchObject({ generation: after.gen, revoked_at: null });

    const garbage = await sdk.auth.refreshToken({ refresh_token: 'not-a-refresh-token' });
    expect(garbage.data).toBeNull();
    expect(garbage.error).toMatchObject({ success: false, code: 'INVALID_REFRESH_TOKEN' });
    expect(garbage.response.status).toBe(400);
    // The refused token spent nothing: the session is where the good refresh left it.
    expect(sessionRow(before.sid)).toMatchObject({ generation: after.gen, revoked_at: null });
  });

  it('managed mode: the first call bootstraps with the API key; once the access token has expired the SDK refreshes it itself, same session and user', async () => {
    const { sdk, storage } = managedSdk();
    const userId = await sdk.session.ensureUserId();
    expect(seen).toEqual([{ method: 'POST', path: '/auth/anonymous', apiKey: true, bearer: false }]);
    const boot = await stored(storage);
    expect(boot.accessClaims).toMatchObject({ ulid: userId, is_anonymous: true, is_logged_in: false });
    const sid = boot.accessClaims.sid;
    const generation = boot.refreshClaims.gen as number;
    expect(sessionRow(sid)).toMatchObject({ user_id: userId, generation, revoked_at: null });

    // Past the access token's exp (both clocks); the refresh token is still far from its own.
    advance((boot.accessClaims.exp as number) - (boot.accessClaims.iat as number) + 1);
    seen = [];
    expect(await sdk.session.ensureUserId()).toBe(userId);
    expect(seen).toEqual([{ method: 'POST', path: '/auth/refresh-token', apiKey: false, bearer: false }]);

    const now = await stored(storage);
    expect(now.access === boot.access).toBe(false);
    expect(now.refresh === boot.refresh).toBe(false);
    expect(now.accessClaims).toMatchObject({ sid, ulid: userId, is_anonymous: true });
    expect(now.refreshClaims).toMatchObject({ sid, gen: generation + 1 });
    expect(now.accessClaims.exp as number).toBeGreaterThan(Math.floor(t.clock.ms / 1000));
    expect(sessionRow(sid)).toMatchObject({ user_id: userId, generation: generation + 1, revoked_at: null });

    // Still fresh: the next call is answered from storage, nothing goes out.
    seen = [];
    expect((await sdk.session.ensureAccessToken()) === now.access).toBe(true);
    expect(seen).toEqual([]);
  });

  it("managed mode: the SDK's anonymous fallback (old Bearer to /auth/anonymous) keeps the user id while the session lives", async () => {
    const { sdk, storage } = managedSdk();
    const userId = await sdk.session.ensureUserId();
    const boot = await stored(storage);
    const refreshLeft = (boot.refreshClaims.exp as number) - (boot.refreshClaims.iat as number);
    expect(refreshLeft).toBe(REFRESH_TTL);

    // Inside the SDK's 30 s buffer before the refresh token's exp: it no longer trusts the refresh
    // token and falls back to /auth/anonymous with the expired access token; the session is still live.
    advance(refreshLeft - 10);
    seen = [];
    expect(await sdk.session.ensureUserId()).toBe(userId);
    expect(seen).toEqual([{ method: 'POST', path: '/auth/anonymous', apiKey: true, bearer: true }]);

    const now = await stored(storage);
    expect(now.accessClaims).toMatchObject({ ulid: userId, anonymous_id: userId, is_anonymous: true });
    // A new session of the same user (the cart lives on the user id).
    expect(now.accessClaims.sid).not.toBe(boot.accessClaims.sid);
    expect(sessionRow(now.accessClaims.sid)).toMatchObject({ user_id: userId, revoked_at: null });
  });

  it('managed mode: loginWithPassword stores a logged-in pair carrying the anonymous id; logout stores a fresh anonymous pair', async () => {
    const customerId = await registerThroughSdk();
    const { sdk, storage } = managedSdk();
    const anonId = await sdk.session.ensureUserId();
    const anonSid = (await stored(storage)).accessClaims.sid;

    const login = await sdk.auth.loginWithPassword({ email: EMAIL, password: PASSWORD });
    expect(login.error).toBeNull();
    expect(login.data!.user.id).toBe(customerId);
    const signedIn = await stored(storage);
    expect(signedIn.accessClaims).toMatchObject({
      ulid: customerId,
      is_logged_in: true,
      is_anonymous: false,
      anonymous_id: anonId,
      email: EMAIL,
    });
    expect(signedIn.accessClaims.customer_id).toEqual(expect.any(String));
    expect(await sdk.isLoggedIn()).toBe(true);
    expect(await sdk.getCustomerId()).toBe(signedIn.accessClaims.customer_id);
    expect(sessionRow(signedIn.accessClaims.sid)).toMatchObject({
      user_id: customerId,
      anonymous_id: anonId,
    });
    expect(sessionRow(anonSid).revoked_at).not.toBeNull();

    const out = await sdk.auth.logout();
    expect(out.error).toBeNull();
    const after = await stored(storage);
    expect(after.accessClaims).toMatchObject({ is_anonymous: true, is_logged_in: false });
    expect(after.accessClaims.ulid).not.toBe(customerId);
    expect(after.accessClaims.ulid).not.toBe(anonId);
    expect(await sdk.isLoggedIn()).toBe(false);
    expect(sessionRow(signedIn.accessClaims.sid).revoked_at).not.toBeNull();
    expect(sessionRow(after.accessClaims.sid)).toMatchObject({
      user_id: after.accessClaims.ulid,
      revoked_at: null,
    });
  });

  it('getAnonymousToken while logged in: USER_ALREADY_AUTHENTICATED (managed: made up by the SDK; manual: answered by our server)', async () => {
    await registerThroughSdk();
    const { sdk, storage } = managedSdk();
    expect((await sdk.auth.loginWithPassword({ email: EMAIL, password: PASSWORD })).error).toBeNull();
    const signedIn = await stored(storage);

    seen = [];
    const managed = await sdk.auth.getAnonymousToken();
    expect(managed.data).toBeNull();
    expect(managed.error).toMatchObject({ success: false, code: 'USER_ALREADY_AUTHENTICATED' });
    expect(managed.response.status).toBe(400);
    // The SDK answered without asking us, and kept the customer's tokens.
    expect(seen).toEqual([]);
    expect((await stored(storage)).access === signedIn.access).toBe(true);

    // Manual mode has no such guard: the request reaches our server, which refuses it the same way.
    const manual = manualSdk({ accessToken: signedIn.access });
    const answered = await manual.auth.getAnonymousToken();
    expect(seen).toEqual([{ method: 'POST', path: '/auth/anonymous', apiKey: true, bearer: true }]);
    expect(answered.data).toBeNull();
    expect(answered.error).toMatchObject({ success: false, code: 'USER_ALREADY_AUTHENTICATED' });
    expect(answered.response.status).toBe(400);
    expect(sessionRow(signedIn.accessClaims.sid).revoked_at).toBeNull();
  });

  it('managed mode: the documented sdk.auth.refreshToken({refresh_token}) after expiry re-sends the token the SDK just spent; the grace window answers the same successor', async () => {
    const { sdk, storage } = managedSdk();
    const userId = await sdk.session.ensureUserId();
    const boot = await stored(storage);
    advance((boot.accessClaims.exp as number) - (boot.accessClaims.iat as number) + 1);

    seen = [];
    const { data, error } = await sdk.auth.refreshToken({ refresh_token: boot.refresh });
    // The middleware refreshes the expired access token first, then sends the now-spent token.
    expect(seen).toEqual([
      { method: 'POST', path: '/auth/refresh-token', apiKey: false, bearer: false },
      { method: 'POST', path: '/auth/refresh-token', apiKey: false, bearer: true },
    ]);
    expect(error).toBeNull();
    const now = await stored(storage);
    expect(data!.refresh_token === now.refresh).toBe(true);
    expect(now.refreshClaims).toMatchObject({
      sid: boot.accessClaims.sid,
      gen: (boot.refreshClaims.gen as number) + 1,
    });
    expect(now.accessClaims.ulid).toBe(userId);
    expect(sessionRow(boot.accessClaims.sid)).toMatchObject({
      revoked_at: null,
      generation: now.refreshClaims.gen,
    });
  });

  it('two SDK instances on one token storage refresh the same token at once: both succeed, the shared pair survives', async () => {
    const storage = new MemoryTokenStorage();
    const a = managedSdk(storage).sdk;
    const b = managedSdk(storage).sdk;
    const userId = await a.session.ensureUserId();
    const boot = await stored(storage);
    advance((boot.accessClaims.exp as number) - (boot.accessClaims.iat as number) + 1);

    seen = [];
    // allSettled: both exchanges finish before anything is asserted (or the server is closed).
    const results = await Promise.allSettled([a.session.ensureAccessToken(), b.session.ensureAccessToken()]);
    expect(results.map((r) => r.status)).toEqual(['fulfilled', 'fulfilled']);
    const [fromA = '', fromB = ''] = results.map((r) => (r.status === 'fulfilled' ? r.value : ''));
    expect(seen).toEqual([
      { method: 'POST', path: '/auth/refresh-token', apiKey: false, bearer: false },
      { method: 'POST', path: '/auth/refresh-token', apiKey: false, bearer: false },
    ]);
    // One successor: the loser got the winner's pair replayed (same claims; ES256 signatures differ).
    expect(claims(fromA)).toEqual(claims(fromB));
    const now = await stored(storage);
    expect(now.access === fromA || now.access === fromB).toBe(true);
    expect(now.accessClaims).toMatchObject({ ulid: userId, sid: boot.accessClaims.sid });
    expect(sessionRow(boot.accessClaims.sid)).toMatchObject({
      revoked_at: null,
      generation: now.refreshClaims.gen,
    });
  });

  it("a baseUrl with a trailing slash: the SDK's own fetches go to //auth/...; bootstrap and refresh still work", async () => {
    const { sdk, storage } = managedSdk(new MemoryTokenStorage(), `${baseUrl}/`);
    const userId = await sdk.session.ensureUserId();
    const boot = await stored(storage);
    advance((boot.accessClaims.exp as number) - (boot.accessClaims.iat as number) + 1);
    expect(await sdk.session.ensureUserId()).toBe(userId);
    expect(seen.map((r) => `${r.method} ${r.path}`)).toEqual([
      'POST //auth/anonymous',
      'POST //auth/refresh-token',
    ]);
    const now = await stored(storage);
    expect(now.refreshClaims).toMatchObject({
      sid: boot.accessClaims.sid,
      gen: (boot.refreshClaims.gen as number) + 1,
    });
  });

  it("a customer session revoked on the server (password changed on another device): the stale token is refused, the SDK's refresh is refused and wipes the pair, the next call starts a fresh anonymous session", async () => {
    const customerId = await registerThroughSdk();
    const { sdk, storage } = managedSdk();
    expect((await sdk.auth.loginWithPassword({ email: EMAIL, password: PASSWORD })).error).toBeNull();
    const signedIn = await stored(storage);

    const other = manualSdk();
    const elsewhere = await other.auth.loginWithPassword({ email: EMAIL, password: PASSWORD });
    await other.setTokens(elsewhere.data!.access_token);
    const NEW_PASSWORD = 'a different passphrase';
    const changed = await other.auth.changePassword({
      old_password: PASSWORD,
      new_password: NEW_PASSWORD,
      confirm_password: NEW_PASSWORD,
    });
    expect(changed.error).toBeNull();
    expect(sessionRow(signedIn.accessClaims.sid).revoked_at).not.toBeNull();

    // Before exp the SDK still believes it is logged in; our server refuses the revoked session at once.
    const refused = await sdk.auth.getUserDetails({ id: customerId });
    expect(refused.response.status).toBe(401);
    expect(refused.error).toMatchObject({ success: false });
    expect(await sdk.isLoggedIn()).toBe(true);

    // After exp the SDK refreshes, our server answers non-2xx, the SDK wipes the pair...
    advance((signedIn.accessClaims.exp as number) - (signedIn.accessClaims.iat as number) + 1);
    vi.spyOn(console, 'error').mockImplementation(() => {});
    seen = [];
    // (SDK behaviour: the call that hit the failed refresh throws; it does not bootstrap on the spot.)
    await expect(sdk.session.ensureUserInfo()).rejects.toThrow(/No session available/);
    expect(seen).toEqual([{ method: 'POST', path: '/auth/refresh-token', apiKey: false, bearer: false }]);
    expect(await storage.getAccessToken()).toBeNull();
    expect(await storage.getRefreshToken()).toBeNull();

    // ...and the next call bootstraps a new anonymous identity.
    seen = [];
    const next = await sdk.session.ensureUserInfo();
    expect(seen).toEqual([{ method: 'POST', path: '/auth/anonymous', apiKey: true, bearer: false }]);
    expect(next).toMatchObject({ isLoggedIn: false, isAnonymous: true });
    expect(next.id).not.toBe(customerId);
  });

  // Regression: the SDK's UserInfo type declares `channel: {id, name, type}` and `username: string`
  // as always present (index.d.mts, interface UserInfo, read from the access token). Our tokens
  // once carried `channel: null` and no `username`, so `info.channel.type` threw a TypeError.
  it("the SDK's UserInfo decoded from our tokens has every field its type declares non-null", async () => {
    const { sdk } = managedSdk();
    const info = await sdk.session.ensureUserInfo();
    expect(info).toMatchObject({
      id: expect.any(String),
      storeId: STORE,
      anonymousId: info.id,
      isLoggedIn: false,
      isAnonymous: true,
      username: expect.any(String),
      channel: { id: expect.any(String), name: expect.any(String), type: expect.any(String) },
    });
  });
});
