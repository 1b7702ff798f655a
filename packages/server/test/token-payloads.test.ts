import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { newAnonymousUser } from '../src/sessions/anonymous.js';
import type { UserRecord } from '../src/storage/contract.js';
import { issueTokenPair } from '../src/tokens/issue.js';
import { generateSigningKey, Keyring } from '../src/tokens/keys.js';
import { verifyAccessToken, verifyRefreshToken } from '../src/tokens/verify.js';
import { DAY, sessionRecord, T0 } from './storage/conformance.js';

const payloadText = (token: string) => Buffer.from(token.split('.')[1] ?? '', 'base64url').toString('utf8');

/** The claims as they were built before the payloads were templated: an object, then JSON.stringify. */
function claimsObjects(
  issuer: string,
  storeId: string,
  session: ReturnType<typeof sessionRecord>,
  user: UserRecord,
) {
  const iat = Math.floor(session.rotatedAt / 1000);
  const refreshExp = Math.floor(Math.min(session.idleExpiresAt, session.absoluteExpiresAt) / 1000);
  return {
    access: {
      iss: issuer,
      sub: user.id,
      iat,
      exp: Math.min(iat + 900, refreshExp),
      jti: `${session.id}.${session.generation}`,
      sid: session.id,
      ulid: user.id,
      is_anonymous: user.isAnonymous,
      is_logged_in: !user.isAnonymous,
      anonymous_id: user.isAnonymous ? user.id : session.anonymousId,
      customer_id: user.customerId,
      customer_group_id: user.customerGroupId,
      store_id: storeId,
      channel: { id: storeId, name: storeId, type: 'storefront' },
      username: user.email ?? user.phone ?? '',
      email: user.email,
      phone: user.phone,
      first_name: user.firstName,
      last_name: user.lastName,
    },
    refresh: { iss: issuer, sub: user.id, sid: session.id, gen: session.generation, iat, exp: refreshExp },
  };
}

// Any string a profile or a store id may hold, including quotes, backslashes, control characters
// and characters outside the BMP, which the JSON encoding must escape exactly as JSON.stringify.
const text = fc.string({ unit: 'binary', maxLength: 24 });
const nullableText = fc.option(text, { nil: null });

describe('token payloads written from templates', () => {
  it('are byte for byte the JSON.stringify of the claims, for any profile and store', () => {
    fc.assert(
      fc.property(
        fc.record({
          storeId: text,
          issuerBase: text,
          anonymous: fc.boolean(),
          email: nullableText,
          phone: nullableText,
          firstName: nullableText,
          lastName: nullableText,
          customerId: nullableText,
          customerGroupId: nullableText,
          anonymousId: nullableText,
          generation: fc.nat(),
          rotatedAt: fc.integer({ min: T0, max: T0 + 80 * DAY }),
        }),
        (v) => {
          const keyring = new Keyring(
            [generateSigningKey(v.storeId, 'access', T0), generateSigningKey(v.storeId, 'refresh', T0)],
            T0,
          );
          const issuer = `${v.issuerBase}/${v.storeId}`;
          const user: UserRecord = {
            ...newAnonymousUser(v.storeId, T0),
            isAnonymous: v.anonymous,
            email: v.email,
            phone: v.phone,
            firstName: v.firstName,
            lastName: v.lastName,
            customerId: v.customerId,
            customerGroupId: v.customerGroupId,
          };
          const session = sessionRecord(v.storeId, user.id, {
            anonymousId: v.anonymousId,
            generation: v.generation,
            rotatedAt: v.rotatedAt,
            idleExpiresAt: v.rotatedAt + 30 * DAY,
          });
          const pair = issueTokenPair(keyring, { issuer, accessTokenTtl: 900 }, session, user);
          const expected = claimsObjects(issuer, v.storeId, session, user);
          expect(payloadText(pair.access_token)).toBe(JSON.stringify(expected.access));
          expect(payloadText(pair.refresh_token)).toBe(JSON.stringify(expected.refresh));
          // And they verify with the keys that signed them.
          const now = v.rotatedAt;
          expect(verifyRefreshToken(keyring, issuer, pair.refresh_token, now).gen).toBe(v.generation);
          expect(verifyAccessToken(keyring, issuer, pair.access_token, now)?.sid).toBe(session.id);
        },
      ),
      { numRuns: 300 },
    );
  });

  it('keep each store its own claims when several stores share the process', () => {
    const user = newAnonymousUser('a', T0);
    const pairs = ['a', 'b'].map((storeId) => {
      const keyring = new Keyring(
        [generateSigningKey(storeId, 'access', T0), generateSigningKey(storeId, 'refresh', T0)],
        T0,
      );
      const session = sessionRecord(storeId, user.id);
      return issueTokenPair(keyring, { issuer: `base/${storeId}`, accessTokenTtl: 900 }, session, user);
    });
    const claims = pairs.map((p) => JSON.parse(payloadText(p.access_token)));
    expect(claims.map((c) => [c.iss, c.store_id, c.channel.id])).toEqual([
      ['base/a', 'a', 'a'],
      ['base/b', 'b', 'b'],
    ]);
  });
});
