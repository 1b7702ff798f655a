import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Database } from '../../src/storage/contract.js';
import { SqliteDatabase } from '../../src/storage/sqlite/store.js';
import { b64urlJson } from '../../src/tokens/jwt.js';
import { generateSigningKey } from '../../src/tokens/keys.js';
import { anonymous, makeTestApp, refresh, type TestApp } from '../helpers/app.js';

const kidOf = (token: string) => JSON.parse(Buffer.from(token.split('.')[0]!, 'base64url').toString()).kid;

/** Two apps on one database, as two instances would be; B's keyring is cached before A's keys change. */
describe('signing keys added by another instance', () => {
  let a: TestApp;
  let b: TestApp;
  let keyReads = 0;

  beforeAll(async () => {
    a = await makeTestApp();
    const counted = new SqliteDatabase({ path: join(a.dir, 'auth.db') });
    const store = new Proxy(counted, {
      get(target, prop, receiver) {
        if (prop === 'listSigningKeys') keyReads++;
        const value = Reflect.get(target, prop, receiver);
        return typeof value === 'function' ? value.bind(target) : value;
      },
    }) as Database;
    b = await makeTestApp({}, { dir: a.dir, db: store });
  });
  afterAll(async () => {
    await b?.close();
    await a?.close();
  });

  it('a token signed with a key B has not loaded yet refreshes on B', async () => {
    expect((await anonymous(b.app)).status).toBe(200); // B caches the store's keys now
    const now = a.clock.now() + 1;
    const fresh = [generateSigningKey('demo', 'access', now), generateSigningKey('demo', 'refresh', now)];
    // What a key rotation does on one instance: the old keys stop signing (they still verify), new ones sign.
    (a.db as SqliteDatabase).sqlite
      .prepare('UPDATE signing_keys SET rotated_at = ? WHERE rotated_at IS NULL')
      .run(a.clock.now());
    for (const key of fresh) await a.db.addSigningKey(key);

    // A third instance, started after the rotation, signs with the new keys.
    const c = await makeTestApp({}, { dir: a.dir });
    const minted = await anonymous(c.app).finally(() => c.close());
    expect(minted.status).toBe(200);
    expect(kidOf(minted.body.content.refresh_token)).toBe(fresh[1]!.kid);

    const reads = keyReads;
    const res = await refresh(b.app, minted.body.content.refresh_token);
    expect(res.status).toBe(200);
    expect(keyReads).toBe(reads + 1);
    expect(kidOf(res.body.content.access_token)).toBe(fresh[0]!.kid);
  });

  it('unknown kids re-read the store at most once per few seconds', async () => {
    const forged = (kid: string) =>
      `${b64urlJson({ alg: 'HS256', typ: 'rt+jwt', kid })}.${b64urlJson({ sid: 'x', gen: 0 })}.c2lnbmF0dXJl`;
    b.clock.advance(10);
    const reads = keyReads;
    for (const kid of ['nope-1', 'nope-2', 'nope-3']) {
      const res = await refresh(b.app, forged(kid));
      expect(res.status).toBe(400);
      expect(res.body.code).toBe('INVALID_REFRESH_TOKEN');
    }
    expect(keyReads).toBe(reads + 1);
    b.clock.advance(6);
    await refresh(b.app, forged('nope-4'));
    expect(keyReads).toBe(reads + 2);
  });
});
