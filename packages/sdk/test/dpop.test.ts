import { once } from 'node:events';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import {
  base64url,
  calculateJwkThumbprint,
  decodeProtectedHeader,
  EmbeddedJWK,
  type JWK,
  jwtVerify,
} from 'jose';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createProof, describeKey, generateDpopKeyPair, htuOf } from '../src/dpop/proof.js';
import { createStorefrontSDK, memoryKeyStore, memoryStorage } from '../src/index.js';

const sha256 = async (text: string) =>
  base64url.encode(new Uint8Array(await crypto.subtle.digest('SHA-256', new TextEncoder().encode(text))));

/** A JWT-shaped access token with the given claims (the SDK never verifies one, it only reads claims). */
function accessToken(claims: Record<string, unknown>): string {
  const part = (v: unknown) => base64url.encode(JSON.stringify(v));
  return `${part({ alg: 'ES256', typ: 'at+jwt' })}.${part({ exp: 4_000_000_000, iat: 1_700_000_000, ...claims })}.c2ln`;
}

async function verifyProof(proof: string) {
  const { payload, protectedHeader } = await jwtVerify(proof, EmbeddedJWK, {
    typ: 'dpop+jwt',
    algorithms: ['ES256', 'EdDSA'],
  });
  return { payload, header: protectedHeader };
}

describe('proofs', () => {
  it('signs an RFC 9449 proof that verifies, with the public jwk only and the RFC 7638 thumbprint', async () => {
    const key = await describeKey(await generateDpopKeyPair());
    const token = accessToken({ sub: 'u1' });
    const proof = await createProof(key, {
      htm: 'post',
      htu: 'https://Auth.example:443/api/v1/demo/storefront/auth/refresh-token?x=1#frag',
      iat: 1_800_000_000.7,
      accessToken: token,
      nonce: 'n-1',
    });
    const { payload, header } = await verifyProof(proof);
    expect(header.typ).toBe('dpop+jwt');
    expect(header.alg).toBe('ES256');
    expect(Object.keys(header.jwk as object).sort()).toEqual(['crv', 'kty', 'x', 'y']);
    expect(payload.htm).toBe('POST');
    expect(payload.htu).toBe('https://auth.example/api/v1/demo/storefront/auth/refresh-token');
    expect(payload.iat).toBe(1_800_000_000);
    expect(payload.nonce).toBe('n-1');
    expect(payload.ath).toBe(await sha256(token));
    expect(typeof payload.jti === 'string' && payload.jti.length >= 16).toBe(true);
    expect(key.jkt).toBe(await calculateJwkThumbprint(header.jwk as JWK, 'sha256'));
    // Two proofs never share a jti.
    const again = await verifyProof(
      await createProof(key, { htm: 'GET', htu: 'https://a.example/', iat: 1 }),
    );
    expect(again.payload.jti).not.toBe(payload.jti);
    expect(again.payload.ath).toBeUndefined();
  });

  it('makes a key whose private half cannot be read out', async () => {
    const pair = await generateDpopKeyPair();
    expect(pair.privateKey.extractable).toBe(false);
    await expect(crypto.subtle.exportKey('jwk', pair.privateKey)).rejects.toThrow();
  });

  it('signs with a caller-given Ed25519 pair as EdDSA, and refuses other keys', async () => {
    const ed = (await crypto.subtle.generateKey({ name: 'Ed25519' }, false, [
      'sign',
      'verify',
    ])) as CryptoKeyPair;
    const key = await describeKey(ed);
    const proof = await createProof(key, { htm: 'GET', htu: 'https://a.example/p', iat: 5 });
    expect(decodeProtectedHeader(proof).alg).toBe('EdDSA');
    expect((await verifyProof(proof)).header.jwk).toEqual({ kty: 'OKP', crv: 'Ed25519', x: key.jwk.x });
    const rsa = (await crypto.subtle.generateKey(
      {
        name: 'RSASSA-PKCS1-v1_5',
        modulusLength: 2048,
        publicExponent: new Uint8Array([1, 0, 1]),
        hash: 'SHA-256',
      },
      false,
      ['sign', 'verify'],
    )) as CryptoKeyPair;
    await expect(describeKey(rsa)).rejects.toThrow(TypeError);
  });

  it('drops query and fragment from htu', () => {
    expect(htuOf('http://h:8080/a/b?c=d#e')).toBe('http://h:8080/a/b');
  });

  it('keeps the first key a store was given', async () => {
    const store = memoryKeyStore();
    const [a, b] = [await generateDpopKeyPair(), await generateDpopKeyPair()];
    expect(await store.keep(a)).toBe(a);
    expect(await store.keep(b)).toBe(a);
    expect(await store.load()).toBe(a);
  });
});

/** A real HTTP server that records what it got and answers from a script. */
interface Seen {
  method: string;
  url: string;
  dpop: string | undefined;
  authorization: string | undefined;
}
type Answer = { status: number; headers?: Record<string, string | undefined>; body: unknown };

let server: Server;
let base: string;
let seen: Seen[];
let answer: (req: IncomingMessage, n: number) => Answer;

beforeEach(async () => {
  seen = [];
  answer = () => ({ status: 200, body: { content: { ok: true } } });
  server = createServer((req, res) => {
    seen.push({
      method: req.method ?? '',
      url: req.url ?? '',
      dpop: req.headers['dpop'] as string | undefined,
      authorization: req.headers.authorization,
    });
    req.resume();
    req.on('end', () => {
      const a = answer(req, seen.length);
      res.writeHead(a.status, {
        'content-type': 'application/json',
        ...(a.headers as Record<string, string>),
      });
      res.end(JSON.stringify(a.body));
    });
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}/api/v1/demo/storefront`;
});
afterEach(async () => {
  server.close();
  await once(server, 'close');
});

const pair = (claims: Record<string, unknown> = {}) => ({
  access_token: accessToken({ ulid: 'u1', is_anonymous: true, is_logged_in: false, ...claims }),
  refresh_token: 'r1',
});

describe('on the wire', () => {
  it('sends no proof in Node.js unless asked, and one with dpop: true', async () => {
    await createStorefrontSDK({ baseUrl: base }).request('/x');
    await createStorefrontSDK({ baseUrl: base, dpop: false }).request('/x');
    await createStorefrontSDK({ baseUrl: base, dpop: true }).request('/x');
    expect(seen.map((s) => s.dpop !== undefined)).toEqual([false, false, true]);
    const { payload } = await verifyProof(seen[2]!.dpop!);
    expect(payload.htm).toBe('GET');
    expect(payload.htu).toBe(`${base}/x`);
  });

  it('signs every request of an instance with one key, the caller’s when given', async () => {
    const keyPair = await generateDpopKeyPair();
    const jkt = (await describeKey(keyPair)).jkt;
    const sdk = createStorefrontSDK({ baseUrl: base, dpop: { keyPair } });
    await sdk.request('/a');
    await sdk.request('/b', { method: 'POST', json: {} });
    for (const s of seen) {
      const { header } = await verifyProof(s.dpop!);
      expect(await calculateJwkThumbprint(header.jwk as JWK, 'sha256')).toBe(jkt);
    }
  });

  it('sends a bound token under the DPoP scheme with ath, and an unbound one as Bearer', async () => {
    const keyPair = await generateDpopKeyPair();
    const jkt = (await describeKey(keyPair)).jkt;
    const bound = pair({ cnf: { jkt } });
    const storage = memoryStorage();
    await storage.setTokens(bound);
    const sdk = createStorefrontSDK({ baseUrl: base, tokenStorage: storage, dpop: { keyPair }, lock: false });
    await sdk.request('/cart');
    expect(seen[0]!.authorization).toBe(`DPoP ${bound.access_token}`);
    expect((await verifyProof(seen[0]!.dpop!)).payload.ath).toBe(await sha256(bound.access_token));

    const unbound = pair();
    await storage.setTokens(unbound);
    await sdk.request('/cart');
    expect(seen[1]!.authorization).toBe(`Bearer ${unbound.access_token}`);
    expect((await verifyProof(seen[1]!.dpop!)).payload.ath).toBe(await sha256(unbound.access_token));
  });

  it('retries once with the nonce the server asks for, and keeps the latest nonce of any answer', async () => {
    answer = (_req, n) =>
      n === 1
        ? {
            status: 400,
            headers: { 'dpop-nonce': 'nonce-A', 'www-authenticate': 'DPoP error="use_dpop_nonce"' },
            body: { success: false, code: 'DPOP_NONCE_REQUIRED', message: 'nonce' },
          }
        : { status: 200, headers: { 'dpop-nonce': `nonce-${n}` }, body: { content: { n } } };
    const sdk = createStorefrontSDK({ baseUrl: base, dpop: true });
    const first = await sdk.request<{ n: number }>('/auth/anonymous', { method: 'POST' });
    expect(first.data).toEqual({ n: 2 });
    await sdk.request('/next');
    const nonces = await Promise.all(seen.map(async (s) => (await verifyProof(s.dpop!)).payload.nonce));
    expect(nonces).toEqual([undefined, 'nonce-A', 'nonce-2']);
  });

  it('does not retry a refusal the same nonce cannot cure, nor any other 400', async () => {
    answer = () => ({
      status: 400,
      headers: { 'dpop-nonce': 'same' },
      body: { success: false, code: 'DPOP_NONCE_REQUIRED', message: 'nonce' },
    });
    const sdk = createStorefrontSDK({ baseUrl: base, dpop: true });
    const r = await sdk.request('/p', { method: 'POST' });
    expect(r.error?.code).toBe('DPOP_NONCE_REQUIRED');
    expect(seen).toHaveLength(2);

    answer = () => ({
      status: 400,
      headers: { 'dpop-nonce': 'fresh' },
      body: { success: false, code: 'PASSWORD_MISMATCH', message: 'no' },
    });
    const wrong = await sdk.request('/auth/login/password', { method: 'POST', json: {} });
    expect(wrong.error?.code).toBe('PASSWORD_MISMATCH');
    expect(seen).toHaveLength(3);
  });

  it('corrects a wrong device clock from the Date header of a refused proof, once', async () => {
    const serverNow = Date.now();
    answer = (_req, n) =>
      n === 1
        ? {
            status: 401,
            headers: { date: new Date(serverNow).toUTCString() },
            body: {
              success: false,
              code: 'DPOP_PROOF_INVALID',
              message: "the proof's iat is outside the window",
            },
          }
        : { status: 200, body: { content: {} } };
    // The device clock is 20 minutes behind.
    const sdk = createStorefrontSDK({ baseUrl: base, dpop: true, now: () => serverNow - 20 * 60_000 });
    const r = await sdk.request('/user');
    expect(r.error).toBeNull();
    const iats = await Promise.all(seen.map(async (s) => (await verifyProof(s.dpop!)).payload.iat as number));
    expect(Math.abs(iats[0]! * 1000 - (serverNow - 20 * 60_000))).toBeLessThan(2000);
    expect(Math.abs(iats[1]! * 1000 - serverNow)).toBeLessThan(2000);

    // A refusal that is not about the clock is answered as it is.
    answer = () => ({
      status: 401,
      headers: { date: new Date(serverNow).toUTCString() },
      body: { success: false, code: 'DPOP_PROOF_INVALID', message: 'another key' },
    });
    expect((await sdk.request('/user')).error?.code).toBe('DPOP_PROOF_INVALID');
    expect(seen).toHaveLength(3);
  });

  it('ends a bound session whose refresh is refused for its proof, and starts a new one', async () => {
    const keyPair = await generateDpopKeyPair();
    const jkt = (await describeKey(keyPair)).jkt;
    const storage = memoryStorage();
    const stale = pair({ cnf: { jkt: 'someone-elses' }, exp: 1 });
    await storage.setTokens(stale);
    const fresh = pair({ cnf: { jkt } });
    answer = (req) =>
      req.url?.endsWith('/auth/refresh-token')
        ? { status: 401, body: { success: false, code: 'DPOP_PROOF_INVALID', message: 'another key' } }
        : req.url?.endsWith('/auth/anonymous') && req.headers.authorization
          ? { status: 401, body: { success: false, code: 'DPOP_PROOF_INVALID', message: 'bound token' } }
          : { status: 200, body: { content: { ...fresh, user: { id: 'u2' } } } };
    const ended: string[] = [];
    const sdk = createStorefrontSDK({
      baseUrl: base,
      apiKey: 'k',
      tokenStorage: storage,
      dpop: { keyPair },
      lock: false,
      onSessionEnded: (reason) => {
        ended.push(reason);
      },
    });
    expect(await sdk.session.ensureAccessToken()).toBe(fresh.access_token);
    expect(ended).toEqual(['DPOP_PROOF_INVALID']);
    // Refresh (once: never retried unbound), anonymous with the old token (refused), anonymous without.
    expect(seen.map((s) => `${s.url.replace(/.*storefront/, '')} ${s.authorization ? 'auth' : '-'}`)).toEqual(
      ['/auth/refresh-token -', '/auth/anonymous auth', '/auth/anonymous -'],
    );
    expect(seen.every((s) => s.dpop !== undefined)).toBe(true);
    expect((await storage.getTokens())?.access_token).toBe(fresh.access_token);
  });
});
