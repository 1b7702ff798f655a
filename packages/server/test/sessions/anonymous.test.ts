import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  API_KEY,
  anonymous,
  BASE,
  claims,
  customerPair,
  makeTestApp,
  refresh,
  type TestApp,
} from '../helpers/app.js';
import { expectMatchesSpec } from '../helpers/openapi.js';

let t: TestApp;
beforeEach(async () => {
  t = await makeTestApp({ ACCESS_TOKEN_TTL: '900', REFRESH_TOKEN_TTL: '3600' });
});
afterEach(async () => {
  await t.close();
});

const post = (headers: Record<string, string>, payload?: string) =>
  t.app.inject({
    method: 'POST',
    url: `${BASE}/auth/anonymous`,
    headers,
    ...(payload !== undefined ? { payload } : {}),
  });

describe('POST /auth/anonymous', () => {
  it('mints an anonymous user and session with the store API key', async () => {
    const res = await anonymous(t.app);
    expect(res.status).toBe(200);
    expectMatchesSpec('get-anonymous-token', 200, res.body);
    const { user, access_token, refresh_token } = res.body.content;
    expect(user).toMatchObject({ is_anonymous: true, is_logged_in: false, email: null });
    expect(user.id).toMatch(/^[0-9A-HJKMNP-TV-Z]{26}$/);
    const c = claims(access_token);
    expect(c).toMatchObject({
      ulid: user.id,
      is_anonymous: true,
      is_logged_in: false,
      anonymous_id: user.id,
      store_id: 'demo',
    });
    for (const claim of [
      'iss',
      'sub',
      'iat',
      'exp',
      'jti',
      'sid',
      'customer_id',
      'customer_group_id',
      'channel',
      'username',
      'email',
      'phone',
      'first_name',
      'last_name',
    ]) {
      expect(c).toHaveProperty(claim);
    }
    expect(claims(refresh_token)).toMatchObject({ sid: c['sid'], gen: 0 });
    const header = JSON.parse(Buffer.from(access_token.split('.')[0], 'base64url').toString());
    expect(header).toMatchObject({ alg: 'ES256', typ: 'at+jwt', kid: expect.any(String) });
  });

  it('accepts any or no Content-Type and an empty body (what the official SDK sends)', async () => {
    const variants: Record<string, string>[] = [
      {},
      { 'content-type': 'application/json' },
      { 'content-type': 'text/plain' },
      { 'content-type': 'application/x-www-form-urlencoded' },
    ];
    for (const headers of variants) {
      const res = await post({ 'x-api-key': API_KEY, ...headers });
      expect(res.statusCode, JSON.stringify(headers)).toBe(200);
    }
    expect(
      (await post({ 'x-api-key': API_KEY, 'content-type': 'application/json' }, '{"ignored":true}'))
        .statusCode,
    ).toBe(200);
  });

  it('refuses a missing or wrong key with UNAUTHORIZED, and an unknown store with STORE_NOT_FOUND (400: the contract declares no 404 here)', async () => {
    const variants: Record<string, string>[] = [{}, { 'x-api-key': 'wrong-key-wrong-key' }];
    for (const headers of variants) {
      const res = await post(headers);
      expect(res.statusCode).toBe(401);
      expect(res.json()).toMatchObject({ success: false, code: 'UNAUTHORIZED' });
      expectMatchesSpec('get-anonymous-token', 401, res.json());
    }
    const res = await t.app.inject({
      method: 'POST',
      url: '/api/v1/other/storefront/auth/anonymous',
      headers: { 'x-api-key': API_KEY },
    });
    expect(res.statusCode).toBe(400);
    expect(res.json().code).toBe('STORE_NOT_FOUND');
    expectMatchesSpec('get-anonymous-token', 400, res.json());
  });

  it('keeps the user id for an expired anonymous Bearer of a live session (cart continuity)', async () => {
    const first = (await anonymous(t.app)).body.content;
    t.clock.advance(1000); // the access token (900 s) has expired
    const second = await anonymous(t.app, { authorization: `Bearer ${first.access_token}` });
    expect(second.status).toBe(200);
    expect(second.body.content.user.id).toBe(first.user.id);
    expect(claims(second.body.content.access_token)['sid']).not.toBe(claims(first.access_token)['sid']);
  });

  it('does not keep the id once the token expired longer ago than the idle lifetime', async () => {
    const first = (await anonymous(t.app)).body.content;
    t.clock.advance(900 + 3600 + 1);
    const second = await anonymous(t.app, { authorization: `Bearer ${first.access_token}` });
    expect(second.status).toBe(200);
    expect(second.body.content.user.id).not.toBe(first.user.id);
  });

  it('does not keep the id when that session was revoked', async () => {
    const first = (await anonymous(t.app)).body.content;
    await t.db.revokeSession(claims(first.access_token)['sid'] as string, 'admin', t.clock.now());
    const second = await anonymous(t.app, { authorization: `Bearer ${first.access_token}` });
    expect(second.body.content.user.id).not.toBe(first.user.id);
  });

  it('ignores a Bearer it cannot verify (forged or foreign) and mints a new user', async () => {
    const first = (await anonymous(t.app)).body.content;
    const [h, p] = first.access_token.split('.');
    const forged = `${h}.${p}.${Buffer.alloc(64).toString('base64url')}`;
    const res = await anonymous(t.app, { authorization: `Bearer ${forged}` });
    expect(res.status).toBe(200);
    expect(res.body.content.user.id).not.toBe(first.user.id);
  });

  it('refuses a valid logged-in Bearer with USER_ALREADY_AUTHENTICATED, but not an expired one', async () => {
    const customer = await customerPair(t);
    const res = await anonymous(t.app, { authorization: `Bearer ${customer.access_token}` });
    expect(res.status).toBe(400);
    expect(res.body.code).toBe('USER_ALREADY_AUTHENTICATED');
    expectMatchesSpec('get-anonymous-token', 400, res.body);
    t.clock.advance(901);
    const later = await anonymous(t.app, { authorization: `Bearer ${customer.access_token}` });
    expect(later.status).toBe(200);
    expect(later.body.content.user.is_anonymous).toBe(true);
    expect(later.body.content.user.id).not.toBe(claims(customer.access_token)['ulid']);
  });

  it('the new pair refreshes', async () => {
    const { refresh_token } = (await anonymous(t.app)).body.content;
    expect((await refresh(t.app, refresh_token)).status).toBe(200);
  });
});

describe('POST /auth/anonymous rate limit', () => {
  it('answers RATE_LIMITED with Retry-After past the per-address limit, then recovers', async () => {
    await t.close();
    t = await makeTestApp({ ANONYMOUS_RATE_LIMIT: '3' });
    for (let i = 0; i < 3; i++) expect((await anonymous(t.app)).status).toBe(200);
    const limited = await anonymous(t.app);
    expect(limited.status).toBe(429);
    expect(limited.body).toMatchObject({ success: false, code: 'RATE_LIMITED' });
    expect(Number(limited.headers['retry-after'])).toBeGreaterThan(0);
    expectMatchesSpec('get-anonymous-token', 429, limited.body);
    t.clock.advance(61);
    expect((await anonymous(t.app)).status).toBe(200);
  });
});
