import { createHmac, createPublicKey, generateKeyPairSync, sign } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ensureStore } from '../../src/tenants/bootstrap.js';
import { API_KEY, anonymous, BASE, claims, makeTestApp, refresh, type TestApp } from '../helpers/app.js';

let t: TestApp;
let victim: { access_token: string; refresh_token: string; user: { id: string } };
let refreshKid: string;
let accessKid: string;
let publicPem: string;

const b64 = (v: unknown) => Buffer.from(JSON.stringify(v)).toString('base64url');
const header = (token: string) => JSON.parse(Buffer.from(token.split('.')[0]!, 'base64url').toString());
const hs256 = (input: string, secret: string | Buffer) =>
  createHmac('sha256', secret).update(input).digest('base64url');

function token(h: object, p: object, signer: (input: string) => string): string {
  const input = `${b64(h)}.${b64(p)}`;
  return `${input}.${signer(input)}`;
}

beforeAll(async () => {
  t = await makeTestApp();
  victim = (await anonymous(t.app)).body.content;
  refreshKid = header(victim.refresh_token).kid;
  accessKid = header(victim.access_token).kid;
  const jwks = (await t.app.inject({ method: 'GET', url: `${BASE}/.well-known/jwks.json` })).json();
  publicPem = createPublicKey({ key: jwks.keys[0], format: 'jwk' }).export({
    type: 'spki',
    format: 'pem',
  }) as string;
});
afterAll(async () => {
  await t.close();
});

async function expectRefused(refreshToken: string) {
  const before = await t.db.getSession(claims(victim.refresh_token).sid as string);
  const res = await refresh(t.app, refreshToken);
  expect(res.status).toBe(400);
  expect(res.body.code).toBe('INVALID_REFRESH_TOKEN');
  // A refused token changes nothing.
  expect(await t.db.getSession(claims(victim.refresh_token).sid as string)).toEqual(before);
}

describe('JWT attacks on /auth/refresh-token are refused', () => {
  const payload = () => claims(victim.refresh_token);

  it('alg none, with and without a signature', async () => {
    const input = `${b64({ alg: 'none', typ: 'rt+jwt', kid: refreshKid })}.${b64(payload())}`;
    await expectRefused(`${input}.`);
    await expectRefused(`${input}.AAAA`);
  });

  it('HS256 keyed with the public ES256 key (algorithm confusion)', async () => {
    await expectRefused(
      token({ alg: 'HS256', typ: 'rt+jwt', kid: accessKid }, payload(), (i) => hs256(i, publicPem)),
    );
    await expectRefused(
      token({ alg: 'HS256', typ: 'rt+jwt', kid: refreshKid }, payload(), (i) => hs256(i, publicPem)),
    );
  });

  it('a forged signature, and an edited payload under the original signature', async () => {
    const [h, p] = victim.refresh_token.split('.');
    await expectRefused(`${h}.${p}.${Buffer.alloc(32, 7).toString('base64url')}`);
    const edited = b64({ ...payload(), gen: 5 });
    await expectRefused(`${h}.${edited}.${victim.refresh_token.split('.')[2]}`);
  });

  it('kid injection: unknown, path-like, SQL-like, and the access key id', async () => {
    for (const kid of ['nope', '../../../../dev/null', "' OR '1'='1", accessKid, 42, null]) {
      await expectRefused(token({ alg: 'HS256', typ: 'rt+jwt', kid }, payload(), (i) => hs256(i, 'x')));
    }
  });

  it('an embedded jwk (or jku) naming the attacker’s own key', async () => {
    const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'prime256v1' });
    const jwk = publicKey.export({ format: 'jwk' });
    const es = (i: string) =>
      sign('sha256', Buffer.from(i), { key: privateKey, dsaEncoding: 'ieee-p1363' }).toString('base64url');
    await expectRefused(token({ alg: 'ES256', typ: 'rt+jwt', kid: refreshKid, jwk }, payload(), es));
    await expectRefused(token({ alg: 'ES256', typ: 'rt+jwt', jwk }, payload(), es));
    await expectRefused(
      token({ alg: 'ES256', typ: 'rt+jwt', jku: 'http://127.0.0.1:1/jwks' }, payload(), es),
    );
  });

  it('an access token presented as a refresh token, and a refresh token with the access typ', async () => {
    await expectRefused(victim.access_token);
    const [, p, s] = victim.refresh_token.split('.');
    await expectRefused(`${b64({ alg: 'HS256', typ: 'at+jwt', kid: refreshKid })}.${p}.${s}`);
  });

  it('a token of another store, at this store and the other way round', async () => {
    await ensureStore(t.db, t.clock, 'other', 'other-store-key-0123456789');
    const res = await t.app.inject({
      method: 'POST',
      url: '/api/v1/other/storefront/auth/anonymous',
      headers: { 'x-api-key': 'other-store-key-0123456789' },
    });
    expect(res.statusCode).toBe(200);
    const foreign = res.json().content;
    await expectRefused(foreign.refresh_token);
    const there = await t.app.inject({
      method: 'POST',
      url: '/api/v1/other/storefront/auth/refresh-token',
      payload: { refresh_token: victim.refresh_token },
    });
    expect(there.json().code).toBe('INVALID_REFRESH_TOKEN');
    // And this store's API key opens nothing at the other store.
    const crossKey = await t.app.inject({
      method: 'POST',
      url: '/api/v1/other/storefront/auth/anonymous',
      headers: { 'x-api-key': API_KEY },
    });
    expect(crossKey.statusCode).toBe(401);
  });

  it('the genuine token still works after all of that', async () => {
    expect((await refresh(t.app, victim.refresh_token)).status).toBe(200);
  });
});

describe('forged Bearer tokens cannot take over an anonymous identity', () => {
  it('HS256 with the public key, or an embedded jwk, claiming the victim’s ulid', async () => {
    const c = claims(victim.access_token);
    const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'prime256v1' });
    const es = (i: string) =>
      sign('sha256', Buffer.from(i), { key: privateKey, dsaEncoding: 'ieee-p1363' }).toString('base64url');
    for (const forged of [
      token({ alg: 'HS256', typ: 'at+jwt', kid: accessKid }, c, (i) => hs256(i, publicPem)),
      token({ alg: 'ES256', typ: 'at+jwt', kid: accessKid, jwk: publicKey.export({ format: 'jwk' }) }, c, es),
      token({ alg: 'ES256', typ: 'at+jwt', kid: accessKid }, c, es),
    ]) {
      const res = await anonymous(t.app, { authorization: `Bearer ${forged}` });
      expect(res.status).toBe(200);
      expect(res.body.content.user.id).not.toBe(victim.user.id);
    }
  });
});
