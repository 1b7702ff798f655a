import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { SqliteDatabase } from '../../src/storage/sqlite/store.js';
import { anonymous, BASE, makeTestApp, type TestApp } from '../helpers/app.js';

let t: TestApp;
let valid: string;
const snapshot = () => {
  const db = (t.db as SqliteDatabase).sqlite;
  return JSON.stringify([
    db.prepare('SELECT * FROM sessions ORDER BY id').all(),
    db.prepare('SELECT * FROM users ORDER BY id').all(),
    db.prepare('SELECT count(*) AS n FROM security_events').get(),
  ]);
};

beforeAll(async () => {
  t = await makeTestApp();
  valid = (await anonymous(t.app)).body.content.refresh_token;
});
afterAll(async () => {
  await t.close();
});

const contentTypes = fc.constantFrom(
  'application/json',
  'application/json; charset=utf-8',
  'text/plain',
  'application/x-www-form-urlencoded',
  'multipart/form-data; boundary=x',
  'application/octet-stream',
  '',
);

/** A valid token with one character of its header or payload changed (never a no-op change). */
const mutatedToken = fc
  .tuple(
    fc.nat(),
    fc.constantFrom(...'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_.=+/ %'),
  )
  .map(([n, ch]) => {
    const end = valid.lastIndexOf('.');
    const i = n % end;
    return valid.slice(0, i) + ch + valid.slice(i + 1);
  })
  .filter((m) => {
    // Base64url's last character of a segment has spare bits: skip changes that decode the same.
    const same = (a: string, b: string) => Buffer.from(a, 'base64url').equals(Buffer.from(b, 'base64url'));
    const [h1, p1] = m.split('.');
    const [h2, p2] = valid.split('.');
    return m !== valid && !(m.split('.').length === 3 && same(h1!, h2!) && same(p1!, p2!));
  });

const refreshTokenField = fc.oneof(fc.string(), fc.string({ unit: 'binary' }), mutatedToken, fc.jsonValue());

const bodies = fc.oneof(
  fc.jsonValue().map((v) => JSON.stringify(v)),
  fc.string({ unit: 'binary', maxLength: 300 }),
  fc.record({ refresh_token: refreshTokenField }, { requiredKeys: [] }).map((v) => JSON.stringify(v)),
  fc.dictionary(fc.string(), refreshTokenField).map((v) => JSON.stringify(v)),
  fc.constant('{"refresh_token":"x","__proto__":{"admin":true}}'),
  fc.constant('{"constructor":{"prototype":{"x":1}},"refresh_token":"x"}'),
);

describe('hostile input to /auth/refresh-token', () => {
  it('never answers 5xx, always the error envelope, and changes no session', async () => {
    const before = snapshot();
    await fc.assert(
      fc.asyncProperty(bodies, contentTypes, async (payload, contentType) => {
        const res = await t.app.inject({
          method: 'POST',
          url: `${BASE}/auth/refresh-token`,
          headers: contentType ? { 'content-type': contentType } : {},
          payload,
        });
        expect(res.statusCode).toBeGreaterThanOrEqual(400);
        expect(res.statusCode).toBeLessThan(500);
        const body = res.json();
        expect(body).toMatchObject({
          success: false,
          message: expect.any(String),
          code: expect.stringMatching(/^[A-Z_]+$/),
        });
      }),
      { numRuns: 400 },
    );
    expect(snapshot()).toBe(before);
  });

  it('mutated tokens are all refused as INVALID_REFRESH_TOKEN', async () => {
    const before = snapshot();
    await fc.assert(
      fc.asyncProperty(mutatedToken, async (token) => {
        const res = await t.app.inject({
          method: 'POST',
          url: `${BASE}/auth/refresh-token`,
          payload: { refresh_token: token },
        });
        expect(res.statusCode).toBe(400);
        expect(res.json().code).toBe('INVALID_REFRESH_TOKEN');
      }),
      { numRuns: 300 },
    );
    expect(snapshot()).toBe(before);
  });

  it('hostile headers and paths on /auth/anonymous never answer 5xx', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.string({ maxLength: 80 }),
        fc.string({ maxLength: 200 }),
        fc.stringMatching(/^[a-zA-Z0-9%._-]{0,70}$/),
        async (apiKey, bearer, storeId) => {
          const headers: Record<string, string> = {};
          if (/^[\x20-\x7e]*$/.test(apiKey)) headers['x-api-key'] = apiKey;
          if (/^[\x20-\x7e]*$/.test(bearer)) headers.authorization = `Bearer ${bearer}`;
          const res = await t.app.inject({
            method: 'POST',
            url: `/api/v1/${storeId}/storefront/auth/anonymous`,
            headers,
          });
          expect(res.statusCode).toBeGreaterThanOrEqual(400);
          expect(res.statusCode).toBeLessThan(500);
          expect(res.json().success).toBe(false);
        },
      ),
      { numRuns: 200 },
    );
  });
});

describe('internal failures', () => {
  it('answer INTERNAL_ERROR without internals', async () => {
    const store = t.db;
    const original = store.rotateSession.bind(store);
    store.rotateSession = async () => {
      throw new Error('SQLITE_CORRUPT: table sessions at /secret/path');
    };
    try {
      const res = await t.app.inject({
        method: 'POST',
        url: `${BASE}/auth/refresh-token`,
        payload: { refresh_token: valid },
      });
      expect(res.statusCode).toBe(500);
      expect(res.json()).toEqual({ message: expect.any(String), success: false, code: 'INTERNAL_ERROR' });
      expect(res.body).not.toContain('secret');
    } finally {
      store.rotateSession = original;
    }
  });
});
