import { createPublicKey, verify } from 'node:crypto';
import { afterEach, describe, expect, it } from 'vitest';
import { rotateSigningKeys } from '../../src/operations/rotate-keys.js';
import { anonymous, BASE, makeTestApp, refresh, type TestApp } from '../helpers/app.js';

let t: TestApp;
afterEach(async () => {
  await t?.close();
});

const jwks = async () =>
  (await t.app.inject({ url: `${BASE}/.well-known/jwks.json` })).json().keys as Record<string, string>[];

/** What another service does: verify an access token against the published JWKS, nothing else. */
async function verifiesAgainstJwks(token: string): Promise<boolean> {
  const [h, p, s] = token.split('.') as [string, string, string];
  const { kid } = JSON.parse(Buffer.from(h, 'base64url').toString());
  const jwk = (await jwks()).find((k) => k.kid === kid);
  if (!jwk) return false;
  return verify(
    'sha256',
    Buffer.from(`${h}.${p}`),
    { key: createPublicKey({ key: jwk as never, format: 'jwk' }), dsaEncoding: 'ieee-p1363' },
    Buffer.from(s, 'base64url'),
  );
}

const kidOf = (token: string) =>
  JSON.parse(Buffer.from(token.split('.')[0]!, 'base64url').toString()).kid as string;

describe('keys rotate', () => {
  it('refreshes and verifications keep succeeding across a rotation under load; retired keys then fail', async () => {
    t = await makeTestApp({ ACCESS_TOKEN_TTL: '900', REFRESH_TOKEN_TTL: '7200' });
    let chains = await Promise.all(
      Array.from({ length: 20 }, async () => (await anonymous(t.app)).body.content),
    );
    const oldAccessKid = kidOf(chains[0]!.access_token);
    const oldRefreshKid = kidOf(chains[0]!.refresh_token);
    const oldPairs = chains.slice();

    // Rotation lands while 20 chains refresh concurrently, ten rounds in a row.
    let rotated: Awaited<ReturnType<typeof rotateSigningKeys>> | undefined;
    for (let round = 0; round < 10; round++) {
      const step = Promise.all(chains.map((c) => refresh(t.app, c.refresh_token)));
      if (round === 3) {
        rotated = await rotateSigningKeys(t.db, t.db.operator(), 'demo', {
          now: t.clock.now(),
          publishAfter: 300,
          accessTokenTtl: 900,
          refreshTokenTtl: 7200,
        });
      }
      const answers = await step;
      expect(answers.map((a) => a.status)).toEqual(chains.map(() => 200));
      chains = answers.map((a) => a.body.content);
      for (const c of chains.slice(0, 3)) expect(await verifiesAgainstJwks(c.access_token)).toBe(true);
      t.clock.advance(70); // past the key cache (60 s) and, from round 8, past publishAfter
    }
    expect(rotated).toBeDefined();
    // The new access key was published before it signed, and now signs.
    expect(kidOf(chains[0]!.access_token)).not.toBe(oldAccessKid);
    expect(kidOf(chains[0]!.refresh_token)).not.toBe(oldRefreshKid);
    expect((await jwks()).map((k) => k.kid)).toContain(oldAccessKid);
    // Access tokens the old key signed still verify while they can be alive.
    expect(await verifiesAgainstJwks(oldPairs[0]!.access_token)).toBe(true);

    // After the access key's retirement, its tokens no longer verify; the JWKS drops it.
    t.clock.ms = rotated!.retireAt.access + 61_000;
    expect((await jwks()).map((k) => k.kid)).not.toContain(oldAccessKid);
    expect(await verifiesAgainstJwks(oldPairs[0]!.access_token)).toBe(false);
    // And the old refresh key retires after the idle lifetime: nothing it signed verifies.
    t.clock.ms = rotated!.retireAt.refresh + 61_000;
    // INVALID (the key is gone), not EXPIRED: the signature no longer verifies at all.
    const res = await refresh(t.app, oldPairs[1]!.refresh_token);
    expect(res.body.code).toBe('INVALID_REFRESH_TOKEN');
    // The chains signed by the new keys are still fine (their own idle lifetime permitting).
    const fresh = (await anonymous(t.app)).body.content;
    expect((await refresh(t.app, fresh.refresh_token)).status).toBe(200);
  });
});
