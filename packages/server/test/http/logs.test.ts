import { afterAll, describe, expect, it } from 'vitest';
import type { SqliteDatabase } from '../../src/storage/sqlite/store.js';
import { API_KEY, anonymous, BASE, makeTestApp, refresh, type TestApp } from '../helpers/app.js';

let t: TestApp;
afterAll(async () => {
  await t.close();
});

describe('logs', () => {
  it('never contain a token, an API key or key material, even at trace level', async () => {
    t = await makeTestApp({ LOG_LEVEL: 'trace' });
    const secrets: string[] = [API_KEY];
    const first = (await anonymous(t.app)).body.content;
    secrets.push(first.access_token, first.refresh_token);
    const second = (
      await refresh(t.app, first.refresh_token, { authorization: `Bearer ${first.access_token}` })
    ).body.content;
    secrets.push(second.access_token, second.refresh_token);
    t.clock.advance(60);
    // A reuse (security event), a bad token, a bad key, a token in a query string, broken JSON.
    expect((await refresh(t.app, first.refresh_token)).body.code).toBe('REFRESH_TOKEN_REUSED');
    await refresh(t.app, `${first.refresh_token}x`);
    await t.app.inject({
      method: 'POST',
      url: `${BASE}/auth/anonymous`,
      headers: { 'x-api-key': `${API_KEY}-wrong` },
    });
    await t.app.inject({ method: 'GET', url: `${BASE}/nothing?token=${first.refresh_token}` });
    await t.app.inject({
      method: 'POST',
      url: `${BASE}/auth/refresh-token`,
      headers: { 'content-type': 'application/json' },
      payload: `{"refresh_token":"${first.refresh_token}`,
    });
    const db = (t.db as SqliteDatabase).sqlite;
    for (const row of db.prepare('SELECT private_jwk FROM signing_keys').all() as { private_jwk: string }[]) {
      const jwk = JSON.parse(row.private_jwk);
      secrets.push(jwk.d ?? jwk.k);
    }

    const log = t.logs.join('');
    expect(t.logs.length).toBeGreaterThan(5);
    expect(log).toContain('refresh_token_reused');
    for (const secret of secrets) {
      expect(secret.length).toBeGreaterThan(15);
      // Any 16-character window of a secret would already be a leak.
      for (const part of [secret.slice(0, 16), secret.slice(-16), secret.split('.').pop()!.slice(0, 16)]) {
        expect(log.includes(part), 'a secret is in the logs').toBe(false);
      }
    }
  });
});
