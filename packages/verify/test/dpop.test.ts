import { calculateJwkThumbprint, exportJWK, generateKeyPair, type JWK, SignJWT } from 'jose';
import { beforeAll, describe, expect, it } from 'vitest';
import { createProof, type DpopKey, describeKey, generateDpopKeyPair } from '../../sdk/src/dpop/proof.js';
import { type AccessTokenErrorReason, createAccessTokenVerifier, verifyAccessToken } from '../src/index.js';

const ISSUER = 'storefront-auth/demo';
const JWKS_URL = 'https://auth.example/api/v1/demo/storefront/.well-known/jwks.json';
const URL_ = 'https://shop.example/api/orders';
const NOW = 1_800_000_000_000;
const now = () => NOW;

let signingKey: CryptoKey;
let jwksFetch: typeof fetch;
let key: DpopKey;
let other: DpopKey;

beforeAll(async () => {
  const pair = await generateKeyPair('ES256');
  signingKey = pair.privateKey as CryptoKey;
  const jwk = { ...(await exportJWK(pair.publicKey)), kid: 'k1', alg: 'ES256', use: 'sig' };
  // The store's JWKS as its endpoint would answer it (the tokens here are ours, so is the key set).
  jwksFetch = async () =>
    new Response(JSON.stringify({ keys: [jwk] }), { headers: { 'content-type': 'application/json' } });
  key = await describeKey(await generateDpopKeyPair());
  other = await describeKey(await generateDpopKeyPair());
});

function accessToken(extra: Record<string, unknown> = {}): Promise<string> {
  return new SignJWT({ sid: 's1', jti: 'j1', store_id: 'demo', ulid: 'u1', ...extra })
    .setProtectedHeader({ alg: 'ES256', typ: 'at+jwt', kid: 'k1' })
    .setIssuer(ISSUER)
    .setAudience('storefront')
    .setSubject('u1')
    .setIssuedAt(NOW / 1000 - 10)
    .setExpirationTime(NOW / 1000 + 600)
    .sign(signingKey);
}

const options = { jwksUrl: JWKS_URL, issuer: ISSUER, audience: 'storefront', now, cacheMaxAgeMs: 1 };
const verifyWith = (token: string, dpop: Parameters<typeof verifyAccessToken>[1]['dpop']) =>
  verifyAccessToken(token, { ...options, fetch: jwksFetch, dpop });

async function reason(promise: Promise<unknown>): Promise<AccessTokenErrorReason | 'accepted'> {
  return promise.then(
    () => 'accepted' as const,
    (e: { name?: string; reason: AccessTokenErrorReason }) => {
      expect(e.name).toBe('AccessTokenError');
      return e.reason;
    },
  );
}

const proofFor = (token: string, over: Partial<Parameters<typeof createProof>[1]> = {}, k = key) =>
  createProof(k, { htm: 'POST', htu: URL_, iat: NOW / 1000, accessToken: token, ...over });

describe('verifyAccessToken with dpop', () => {
  it('accepts a bound token with a proof of its key, and refuses every other proof', async () => {
    const token = await accessToken({ cnf: { jkt: key.jkt } });
    const check = async (proof: string | undefined, method = 'POST', url = URL_) =>
      reason(verifyWith(token, { proof, method, url }));

    expect(await check(await proofFor(token))).toBe('accepted');
    // Host case and default port do not matter; a query is ignored.
    expect(await check(await proofFor(token), 'post', 'https://SHOP.example:443/api/orders?page=2')).toBe(
      'accepted',
    );
    expect(await check(undefined)).toBe('dpop');
    expect(await check(await proofFor(token, {}, other))).toBe('dpop');
    expect(await check(await proofFor(token), 'GET')).toBe('dpop');
    expect(await check(await proofFor(token), 'POST', 'https://shop.example/api/orders/2')).toBe('dpop');
    expect(await check(await proofFor(token), 'POST', 'http://shop.example/api/orders')).toBe('dpop');
    expect(await check(await proofFor(token, { iat: NOW / 1000 - 61 }))).toBe('dpop');
    expect(await check(await proofFor(token, { iat: NOW / 1000 + 6 }))).toBe('dpop');
    expect(await check(await proofFor(token, { iat: NOW / 1000 - 59 }))).toBe('accepted');
    expect(await check(await proofFor(await accessToken({ cnf: { jkt: key.jkt }, jti: 'other' })))).toBe(
      'dpop',
    );
    expect(await check(await proofFor(token, { accessToken: undefined }))).toBe('dpop');
    // A proof whose signature was swapped for another's.
    const forged = (await proofFor(token)).split('.').slice(0, 2).join('.');
    const sig = (await proofFor(token, {}, other)).split('.')[2];
    expect(await check(`${forged}.${sig}`)).toBe('dpop');
    expect(await check('not-a-jws')).toBe('dpop');
  });

  it('refuses a bound token under the Bearer scheme, and a proof with a private jwk or another typ', async () => {
    const token = await accessToken({ cnf: { jkt: key.jkt } });
    const proof = await proofFor(token);
    expect(await reason(verifyWith(token, { proof, method: 'POST', url: URL_, scheme: 'Bearer' }))).toBe(
      'dpop',
    );
    expect(await reason(verifyWith(token, { proof, method: 'POST', url: URL_, scheme: 'DPoP' }))).toBe(
      'accepted',
    );

    const raw = await generateKeyPair('ES256', { extractable: true });
    const privateJwk = await exportJWK(raw.privateKey);
    const publicJwk = await exportJWK(raw.publicKey);
    const jkt = await calculateJwkThumbprint(publicJwk as JWK, 'sha256');
    const bound = await accessToken({ cnf: { jkt } });
    const ath = Buffer.from(await crypto.subtle.digest('SHA-256', new TextEncoder().encode(bound))).toString(
      'base64url',
    );
    const sign = (header: Record<string, unknown>) =>
      new SignJWT({ htm: 'POST', htu: URL_, iat: NOW / 1000, jti: 'a'.repeat(22), ath })
        .setProtectedHeader({ alg: 'ES256', ...header })
        .sign(raw.privateKey);
    const ok = await sign({ typ: 'dpop+jwt', jwk: publicJwk });
    expect(await reason(verifyWith(bound, { proof: ok, method: 'POST', url: URL_ }))).toBe('accepted');
    const withD = await sign({ typ: 'dpop+jwt', jwk: privateJwk });
    expect(await reason(verifyWith(bound, { proof: withD, method: 'POST', url: URL_ }))).toBe('dpop');
    const wrongTyp = await sign({ typ: 'JWT', jwk: publicJwk });
    expect(await reason(verifyWith(bound, { proof: wrongTyp, method: 'POST', url: URL_ }))).toBe('dpop');
  });

  it('refuses a replayed jti when given somewhere to remember them', async () => {
    const token = await accessToken({ cnf: { jkt: key.jkt } });
    const seenJtis = new Set<string>();
    const seen = (jkt: string, jti: string) => {
      const known = seenJtis.has(`${jkt}:${jti}`);
      seenJtis.add(`${jkt}:${jti}`);
      return known;
    };
    const proof = await proofFor(token);
    const verify = createAccessTokenVerifier({ ...options, fetch: jwksFetch });
    await expect(verify(token, { proof, method: 'POST', url: URL_, seen })).resolves.toMatchObject({
      cnf: { jkt: key.jkt },
    });
    expect(await reason(verify(token, { proof, method: 'POST', url: URL_, seen }))).toBe('dpop');
    expect(
      await reason(verify(token, { proof: await proofFor(token), method: 'POST', url: URL_, seen })),
    ).toBe('accepted');
  });

  it('accepts an unbound token as before, unless bound tokens are required; bound tokens pass unchecked without the option', async () => {
    const unbound = await accessToken();
    expect(await reason(verifyWith(unbound, { proof: undefined, method: 'GET', url: URL_ }))).toBe(
      'accepted',
    );
    expect(
      await reason(verifyWith(unbound, { proof: undefined, method: 'GET', url: URL_, requireBound: true })),
    ).toBe('dpop');
    const bound = await accessToken({ cnf: { jkt: key.jkt } });
    expect(await reason(verifyAccessToken(bound, { ...options, fetch: jwksFetch }))).toBe('accepted');
    expect(await reason(verifyWith(await accessToken({ cnf: {} }), undefined))).toBe('claims');
  });
});

describe('verifyAccessToken with dpop, on a token the real server bound', () => {
  it('accepts the bound token with its key’s proof only', async () => {
    const { makeTestApp, BASE, API_KEY } = await import('../../server/test/helpers/app.js');
    const t = await makeTestApp({ LOG_LEVEL: 'silent', ACCESS_TOKEN_TTL: '900' });
    try {
      t.clock.ms = Date.now();
      await t.app.listen({ port: 0, host: '127.0.0.1' });
      const { port } = t.app.server.address() as { port: number };
      const store = `http://127.0.0.1:${port}${BASE}`;
      const url = `${store}/auth/anonymous`;
      const proof = await createProof(key, { htm: 'POST', htu: url, iat: t.clock.now() / 1000 });
      const res = await fetch(url, { method: 'POST', headers: { 'x-api-key': API_KEY, dpop: proof } });
      expect(res.status).toBe(200);
      const token = ((await res.json()) as { content: { access_token: string } }).content.access_token;
      const real = { store, audience: 'storefront', now: () => t.clock.now() };
      const at = (k: DpopKey) =>
        createProof(k, { htm: 'GET', htu: URL_, iat: t.clock.now() / 1000, accessToken: token });
      await expect(
        verifyAccessToken(token, { ...real, dpop: { proof: await at(key), method: 'GET', url: URL_ } }),
      ).resolves.toMatchObject({ cnf: { jkt: key.jkt } });
      for (const proof of [undefined, await at(other)]) {
        expect(
          await reason(verifyAccessToken(token, { ...real, dpop: { proof, method: 'GET', url: URL_ } })),
        ).toBe('dpop');
      }
    } finally {
      await t.close();
    }
  });
});
