import { once } from 'node:events';
import { createServer } from 'node:http';
import { afterEach, describe, expect, it } from 'vitest';
import { verifyWebhook } from '../../../verify/src/webhook.js';
import { ensureApiKey } from '../../src/tenants/bootstrap.js';
import { API_KEY, anonymous, BASE, claims, makeTestApp, refresh, type TestApp } from '../helpers/app.js';
import { expectMatchesSpec } from '../helpers/openapi.js';

const SECRET = 'sk_test-secret-key-0123456789';
let t: TestApp;
afterEach(async () => {
  await t?.close();
});

async function setup(env: Record<string, string> = {}) {
  t = await makeTestApp(env);
  await ensureApiKey(t.db, 'demo', SECRET, t.clock.now(), 'secret');
}

const post = (path: string, payload: object | string, key = SECRET, contentType = 'application/json') =>
  t.app.inject({
    method: 'POST',
    url: `${BASE}/auth/${path}`,
    headers: { 'x-api-key': key, 'content-type': contentType },
    payload: typeof payload === 'string' ? payload : JSON.stringify(payload),
  });

describe('POST /auth/revoke (RFC 7009)', () => {
  it('revoking a refresh token ends its session; later refreshes answer SESSION_REVOKED', async () => {
    await setup();
    const pair = (await anonymous(t.app)).body.content;
    const res = await post('revoke', { token: pair.refresh_token, token_type_hint: 'refresh_token' });
    expect(res.statusCode).toBe(200);
    expectMatchesSpec('revoke-token', 200, res.json());
    expect((await refresh(t.app, pair.refresh_token)).body.code).toBe('SESSION_REVOKED');
  });

  it('accepts an access token, a session id, and the form encoding of the RFC', async () => {
    await setup();
    const a = (await anonymous(t.app)).body.content;
    const b = (await anonymous(t.app)).body.content;
    const c = (await anonymous(t.app)).body.content;
    expect((await post('revoke', { token: a.access_token })).statusCode).toBe(200);
    expect((await post('revoke', { session_id: claims(b.refresh_token)['sid'] })).statusCode).toBe(200);
    const form = await post(
      'revoke',
      `token=${encodeURIComponent(c.refresh_token)}&token_type_hint=refresh_token`,
      SECRET,
      'application/x-www-form-urlencoded',
    );
    expect(form.statusCode).toBe(200);
    for (const pair of [a, b, c])
      expect((await refresh(t.app, pair.refresh_token)).body.code).toBe('SESSION_REVOKED');
  });

  it('answers 200 for unknown or garbage tokens, and changes nothing', async () => {
    await setup();
    const pair = (await anonymous(t.app)).body.content;
    for (const token of ['garbage', `${pair.refresh_token}x`, 'a.b.c'])
      expect((await post('revoke', { token })).statusCode).toBe(200);
    expect((await refresh(t.app, pair.refresh_token)).status).toBe(200);
  });

  it('needs a secret key: the public key and no key answer UNAUTHORIZED', async () => {
    await setup();
    const pair = (await anonymous(t.app)).body.content;
    for (const key of [API_KEY, '']) {
      const res = await post('revoke', { token: pair.refresh_token }, key);
      expect(res.statusCode).toBe(401);
      expect(res.json().code).toBe('UNAUTHORIZED');
    }
    expect((await post('revoke', {})).json().code).toBe('BAD_REQUEST');
    expect((await refresh(t.app, pair.refresh_token)).status).toBe(200);
  });

  it('posts a signed security event to the webhook', async () => {
    const received: { body: string; headers: Record<string, string | string[] | undefined> }[] = [];
    const receiver = createServer((req, res) => {
      let body = '';
      req.on('data', (d) => (body += d));
      req.on('end', () => {
        received.push({ body, headers: req.headers });
        res.end('ok');
      });
    }).listen(0, '127.0.0.1');
    await once(receiver, 'listening');
    const port = (receiver.address() as { port: number }).port;
    try {
      await setup({
        SECURITY_WEBHOOK_URL: `http://127.0.0.1:${port}/events`,
        SECURITY_WEBHOOK_SECRET: 'webhook-secret-0123456789',
      });
      const pair = (await anonymous(t.app)).body.content;
      await refresh(t.app, pair.refresh_token);
      t.clock.advance(60);
      expect((await refresh(t.app, pair.refresh_token)).body.code).toBe('REFRESH_TOKEN_REUSED');
      for (let i = 0; i < 100 && received.length === 0; i++) await new Promise((r) => setTimeout(r, 20));
      expect(received).toHaveLength(1);
      const event = JSON.parse(received[0]!.body);
      expect(event).toMatchObject({
        type: 'refresh_token_reused',
        store_id: 'demo',
        session_id: claims(pair.refresh_token)['sid'],
      });
      expect(received[0]!.body).not.toContain(pair.refresh_token.split('.')[2]);
      const signedWith = (secret: string) =>
        verifyWebhook(secret, received[0]!.body, received[0]!.headers).then(
          () => true,
          () => false,
        );
      expect(await signedWith('webhook-secret-0123456789')).toBe(true);
      expect(await signedWith('another-secret-0123456789')).toBe(false);
    } finally {
      receiver.close();
    }
  });
});

describe('POST /auth/introspect', () => {
  it('answers active with the token facts for live tokens, and only active:false otherwise', async () => {
    await setup();
    const pair = (await anonymous(t.app)).body.content;
    const live = await post('introspect', { token: pair.access_token });
    expect(live.statusCode).toBe(200);
    expectMatchesSpec('introspect-token', 200, live.json());
    expect(live.json().content).toMatchObject({
      active: true,
      token_type: 'access_token',
      sub: pair.user.id,
      store_id: 'demo',
      is_anonymous: true,
    });
    expect((await post('introspect', { token: pair.refresh_token })).json().content).toMatchObject({
      active: true,
      token_type: 'refresh_token',
    });

    const next = (await refresh(t.app, pair.refresh_token)).body.content;
    // The replaced refresh token is no longer the one the session accepts.
    expect((await post('introspect', { token: pair.refresh_token })).json().content).toEqual({
      active: false,
    });
    await post('revoke', { token: next.refresh_token });
    for (const token of [next.access_token, next.refresh_token, 'garbage']) {
      expect((await post('introspect', { token })).json().content).toEqual({ active: false });
    }
    t.clock.advance(901);
    const other = (await anonymous(t.app)).body.content;
    t.clock.advance(901);
    expect((await post('introspect', { token: other.access_token })).json().content).toEqual({
      active: false,
    });
    expect((await post('introspect', { token: other.access_token }, API_KEY)).statusCode).toBe(401);
  });

  it('answers the bare RFC 7662 body to Accept: application/token-introspection+json and ?format=rfc7662', async () => {
    await setup();
    const pair = (await anonymous(t.app)).body.content;
    const bare = (token: string, how: 'accept' | 'query') =>
      t.app.inject({
        method: 'POST',
        url: `${BASE}/auth/introspect${how === 'query' ? '?format=rfc7662' : ''}`,
        headers: {
          'x-api-key': SECRET,
          'content-type': 'application/x-www-form-urlencoded',
          ...(how === 'accept' ? { accept: 'application/token-introspection+json; q=1, */*; q=0.1' } : {}),
        },
        payload: `token=${encodeURIComponent(token)}`,
      });
    for (const how of ['accept', 'query'] as const) {
      const live = await bare(pair.access_token, how);
      expect(live.statusCode).toBe(200);
      expect(live.headers['content-type']).toMatch(/^application\/token-introspection\+json/);
      const body = live.json();
      expectMatchesSpec('introspect-token', 200, body, 'application/token-introspection+json');
      expect(body).toMatchObject({
        active: true,
        token_type: 'access_token',
        sub: pair.user.id,
        aud: 'storefront',
        iss: 'storefront-auth/demo',
        exp: claims(pair.access_token)['exp'],
      });
      expect(body).not.toHaveProperty('success');
      expect((await bare('garbage', how)).json()).toEqual({ active: false });
    }
    // Without asking, the envelope stays; a format that is not ours is a validation error.
    expect((await post('introspect', { token: pair.access_token })).json()).toMatchObject({ success: true });
    const wrong = await t.app.inject({
      method: 'POST',
      url: `${BASE}/auth/introspect?format=xml`,
      headers: { 'x-api-key': SECRET, 'content-type': 'application/json' },
      payload: { token: pair.access_token },
    });
    expect(wrong.statusCode).toBe(400);
    expect(wrong.json()).toMatchObject({ success: false, code: 'BAD_REQUEST' });
    // An unauthenticated caller still gets the envelope's 401, never token facts.
    const noKey = await t.app.inject({
      method: 'POST',
      url: `${BASE}/auth/introspect?format=rfc7662`,
      headers: { 'content-type': 'application/json' },
      payload: { token: pair.access_token },
    });
    expect(noKey.statusCode).toBe(401);
    expect(noKey.json()).toMatchObject({ success: false, code: 'UNAUTHORIZED' });
  });

  it('access tokens carry the store audience, the default until the store sets its own', async () => {
    await setup();
    expect(claims((await anonymous(t.app)).body.content.access_token)['aud']).toBe('storefront');
    await t.db.setStoreSettings('demo', { otpDebug: false, audience: 'https://api.shop.example' });
    // A running server reads the store again within a minute.
    t.clock.advance(61);
    const pair = (await anonymous(t.app)).body.content;
    expect(claims(pair.access_token)['aud']).toBe('https://api.shop.example');
    expect(claims(pair.refresh_token)).not.toHaveProperty('aud');
    expect((await post('introspect', { token: pair.access_token })).json().content.aud).toBe(
      'https://api.shop.example',
    );
  });
});
