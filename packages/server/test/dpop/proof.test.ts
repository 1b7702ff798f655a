import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AppError } from '../../src/errors/codes.js';
import type { SqliteDatabase } from '../../src/storage/sqlite/store.js';
import {
  accessTokenHash,
  dpopNonce,
  isCurrentNonce,
  normalizedUrl,
  publicKeyOf,
  verifyDpopProof,
} from '../../src/tokens/dpop.js';
import { API_KEY, BASE, makeTestApp, type TestApp } from '../helpers/app.js';
import { DpopKey, INJECT_ORIGIN } from '../helpers/dpop.js';

const NOW = Date.UTC(2026, 0, 1);
const HTU = 'https://auth.shop.example/api/v1/demo/storefront/auth/refresh-token';
const expect0 = { htm: 'POST', htu: HTU, now: NOW, maxAge: 60 };

function refusal(run: () => unknown): string {
  try {
    run();
  } catch (error) {
    expect(error).toBeInstanceOf(AppError);
    expect((error as AppError).code).toBe('DPOP_PROOF_INVALID');
    return (error as AppError).message;
  }
  throw new Error('accepted');
}

describe('verifyDpopProof (RFC 9449 §4.3)', () => {
  const es = DpopKey.create('ES256', () => NOW);
  const ed = DpopKey.create('EdDSA', () => NOW);

  it('accepts ES256 and EdDSA proofs and answers the RFC 7638 thumbprint', () => {
    for (const key of [es, ed]) {
      const proof = verifyDpopProof(key.proof({ htu: HTU }), expect0);
      expect(proof.jkt).toBe(key.jkt);
      expect(proof.iat).toBe(NOW / 1000);
    }
  });

  it('computes the thumbprint of the RFC 9449 example key as the RFC prints it', () => {
    // RFC 9449 §4.1 (the proof's jwk) and §6.1 (its jkt).
    const jwk = {
      kty: 'EC',
      x: 'l8tFrhx-34tV3hRICRDY9zCkDlpBhF42UQUfWVAWBFs',
      y: '9VE4jf_Ok_o64zbTTlcuNJajHmt6v9TDVrU0CdvGRDA',
      crv: 'P-256',
    };
    expect(publicKeyOf('ES256', jwk).jkt).toBe('0ZcOCORZNYy-DWpqq30jZyJGHTN0d2HglBV3uiguA4I');
  });

  it('compares htu by scheme, host and port case-insensitively and ignores query and fragment', () => {
    const variants = [
      'HTTPS://Auth.Shop.Example:443/api/v1/demo/storefront/auth/refresh-token',
      `${HTU}?a=1#frag`,
    ];
    for (const htu of variants) expect(verifyDpopProof(es.proof({ htu }), expect0).jkt).toBe(es.jkt);
    expect(normalizedUrl('http://localhost:80/x')).toBe('http://localhost/x');
    expect(normalizedUrl('ftp://x/y')).toBeNull();
  });

  it('says which check failed, never echoing the proof', () => {
    const nowS = NOW / 1000;
    const cases: Array<[string, string, Partial<typeof expect0> & { accessToken?: string }]> = [
      [es.proof({ htu: HTU, header: { typ: 'jwt' } }), 'typ', {}],
      [es.proof({ htu: HTU, header: { alg: 'RS256' } }), 'alg', {}],
      [es.proof({ htu: HTU, header: { alg: 'EdDSA' } }), 'jwk', {}],
      [es.proof({ htu: HTU, header: { jwk: es.privateJwk } }), 'private', {}],
      [es.proof({ htu: HTU, header: { jwk: ed.publicJwk } }), 'jwk', {}],
      [es.proof({ htu: HTU, header: { jwk: DpopKey.create('ES256').publicJwk } }), 'signature', {}],
      [es.proof({ htu: HTU, header: { jwk: undefined } }), 'jwk', {}],
      [es.proof({ htu: HTU, header: { crit: ['exp'] } }), 'crit', {}],
      [es.proof({ htu: HTU, jti: 'short' }), 'jti', {}],
      [es.proof({ htu: HTU, htm: 'post' }), 'htm', {}],
      [es.proof({ htu: 'https://auth.shop.example/other' }), 'htu', {}],
      [es.proof({ htu: HTU.replace('https', 'http') }), 'htu', {}],
      [es.proof({ htu: HTU.replace('example', 'example:8443') }), 'htu', {}],
      [es.proof({ htu: HTU, iat: nowS - 61 }), 'too old', {}],
      [es.proof({ htu: HTU, iat: nowS + 6 }), 'future', {}],
      [es.proof({ htu: HTU, claims: { iat: '1767225600' } }), 'iat', {}],
      [es.proof({ htu: HTU }), 'ath is missing', { accessToken: 'a.b.c' }],
      [es.proof({ htu: HTU, accessToken: 'x.y.z' }), 'ath does not match', { accessToken: 'a.b.c' }],
    ];
    for (const [proof, why, extra] of cases) {
      const message = refusal(() => verifyDpopProof(proof, { ...expect0, ...extra }));
      expect(message).toContain(why);
      expect(message).not.toContain(proof.split('.')[2]!.slice(0, 20));
    }
    // A tampered payload breaks the signature.
    const [h, p, s] = es.proof({ htu: HTU }).split('.');
    const claims = JSON.parse(Buffer.from(p!, 'base64url').toString());
    const forged = `${h}.${Buffer.from(JSON.stringify({ ...claims, htm: 'GET' })).toString('base64url')}.${s}`;
    expect(refusal(() => verifyDpopProof(forged, { ...expect0, htm: 'GET' }))).toContain('signature');
  });

  it('accepts iat at the edges of the window and checks ath against the token', () => {
    const nowS = NOW / 1000;
    expect(verifyDpopProof(es.proof({ htu: HTU, iat: nowS - 60 }), expect0).iat).toBe(nowS - 60);
    expect(verifyDpopProof(es.proof({ htu: HTU, iat: nowS + 5 }), expect0).iat).toBe(nowS + 5);
    const token = 'header.payload.signature';
    expect(accessTokenHash(token)).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(
      verifyDpopProof(es.proof({ htu: HTU, accessToken: token }), { ...expect0, accessToken: token }).jkt,
    ).toBe(es.jkt);
  });

  it('never throws anything but DPOP_PROOF_INVALID on arbitrary input', () => {
    const valid = es.proof({ htu: HTU });
    const segment = fc.string({ unit: fc.constantFrom(...'ABCabc012-_'), maxLength: 80 });
    const json = fc.jsonValue().map((v) => Buffer.from(JSON.stringify(v)).toString('base64url'));
    const headerLike = fc
      .record(
        {
          typ: fc.oneof(fc.constant('dpop+jwt'), fc.jsonValue()),
          alg: fc.oneof(fc.constantFrom('ES256', 'EdDSA', 'none', 'HS256'), fc.jsonValue()),
          jwk: fc.oneof(
            fc.constant(es.publicJwk),
            fc.record({
              kty: fc.constantFrom('EC', 'OKP', 'RSA'),
              crv: fc.string(),
              x: fc.string(),
              y: fc.string(),
            }),
            fc.jsonValue(),
          ),
        },
        { requiredKeys: [] },
      )
      .map((v) => Buffer.from(JSON.stringify(v)).toString('base64url'));
    const proofs = fc.oneof(
      fc.string({ unit: 'binary', maxLength: 300 }),
      fc.tuple(fc.oneof(segment, json, headerLike), fc.oneof(segment, json), segment).map((p) => p.join('.')),
      fc.tuple(fc.nat(), fc.string({ minLength: 1, maxLength: 1 })).map(([n, ch]) => {
        const i = n % valid.length;
        return valid.slice(0, i) + ch + valid.slice(i + 1);
      }),
      fc.jsonValue(),
    );
    fc.assert(
      fc.property(proofs, (proof) => {
        try {
          verifyDpopProof(proof, expect0);
        } catch (error) {
          return error instanceof AppError && error.code === 'DPOP_PROOF_INVALID';
        }
        // Accepted: only the valid proof, or one whose signature's last character differs in the
        // spare bits base64url decoding ignores (the same signature bytes).
        const signed = (p: string) => p.slice(0, p.lastIndexOf('.'));
        const signature = (p: string) => Buffer.from(p.slice(p.lastIndexOf('.') + 1), 'base64url');
        return (
          typeof proof === 'string' &&
          signed(proof) === signed(valid) &&
          signature(proof).equals(signature(valid))
        );
      }),
      { numRuns: 2000 },
    );
  });
});

describe('stateless nonces', () => {
  const mac = (input: string) => Buffer.from(`mac:${input}`).toString('base64url');
  it('accepts its own step and the one before, and nothing else', () => {
    const nonce = dpopNonce(mac, NOW);
    expect(isCurrentNonce(mac, nonce, NOW)).toBe(true);
    expect(isCurrentNonce(mac, nonce, NOW + 300_000)).toBe(true);
    expect(isCurrentNonce(mac, nonce, NOW + 600_000)).toBe(false);
    expect(isCurrentNonce((i) => mac(`other${i}`), nonce, NOW)).toBe(false);
    expect(isCurrentNonce(mac, `${nonce}x`, NOW)).toBe(false);
  });
});

describe('hostile DPoP headers over HTTP', () => {
  let t: TestApp;
  const snapshot = () => {
    const db = (t.db as SqliteDatabase).sqlite;
    return JSON.stringify([
      db.prepare('SELECT * FROM sessions ORDER BY id').all(),
      db.prepare('SELECT count(*) AS n FROM users').get(),
      db.prepare('SELECT count(*) AS n FROM security_events').get(),
    ]);
  };
  beforeAll(async () => {
    t = await makeTestApp();
  });
  afterAll(async () => {
    await t.close();
  });

  it('answers garbage DPoP and Authorization headers with an envelope, never a 500, and changes nothing', async () => {
    const key = DpopKey.create('ES256', t.clock.now);
    const bound = await t.app.inject({
      method: 'POST',
      url: `${BASE}/auth/anonymous`,
      headers: { 'x-api-key': API_KEY, dpop: key.proof({ htu: `${INJECT_ORIGIN}${BASE}/auth/anonymous` }) },
    });
    const { refresh_token, access_token } = bound.json().content;
    const before = snapshot();
    const headerValue = fc.string({
      unit: fc.integer({ min: 0x20, max: 0x7e }).map((c) => String.fromCharCode(c)),
      maxLength: 400,
    });
    await fc.assert(
      fc.asyncProperty(
        headerValue,
        fc.constantFrom('refresh-token', 'logout', 'anonymous'),
        fc.constantFrom('Bearer', 'DPoP', 'dpop', 'Basic'),
        async (dpop, route, scheme) => {
          const res = await t.app.inject({
            method: 'POST',
            url: `${BASE}/auth/${route}`,
            headers: {
              dpop,
              authorization: `${scheme} ${access_token}`,
              'x-api-key': route === 'anonymous' ? 'wrong' : API_KEY,
              'content-type': 'application/json',
            },
            payload: JSON.stringify({ refresh_token }),
          });
          expect(res.statusCode).toBeLessThan(500);
          expect(res.json()).toMatchObject({ success: false, code: expect.any(String) });
        },
      ),
      { numRuns: 150 },
    );
    expect(snapshot()).toBe(before);
  });
});
