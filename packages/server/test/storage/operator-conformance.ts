import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type {
  ApiKeyRecord,
  OtpRecord,
  OutboxMessage,
  SigningKeyRecord,
  UserRecord,
} from '../../src/model.js';
import { newAnonymousUser } from '../../src/sessions/anonymous.js';
import type { Database } from '../../src/storage/contract.js';
import {
  type OperatorStore,
  OTP_BACKOFF_RETENTION_MS,
  OUTBOX_RETENTION_MS,
  SECURITY_EVENT_RETENTION_MS,
} from '../../src/storage/operator.js';
import { generateSigningKey } from '../../src/tokens/keys.js';
import { randomId } from '../../src/util/ids.js';
import { DAY, type DatabaseFixture, otpRecord, sessionRecord, T0 } from './conformance.js';

/**
 * The operator contract's conformance suite (CLI, purge, metrics), run against every backend from
 * test/storage/sqlite.test.ts and test/storage/postgres.test.ts. Each test gets an empty database,
 * so counts and purges are exact.
 */
export function describeOperatorStore(name: string, makeFixture: () => Promise<DatabaseFixture>): void {
  describe(`operator contract: ${name}`, () => {
    let fx: DatabaseFixture;
    let db: Database;
    let op: OperatorStore;
    const storeId = 'ops';

    beforeEach(async () => {
      fx = await makeFixture();
      db = fx.db;
      op = db.operator();
      await db.createStore({ id: storeId, name: 'Operators', createdAt: T0 });
    });
    afterEach(async () => {
      await fx?.dispose();
    });

    const anonymous = async (createdAt = T0): Promise<UserRecord> => {
      const user = newAnonymousUser(storeId, createdAt);
      await db.createUser(user);
      return user;
    };

    it('lists every store by id, as stored', async () => {
      await db.createStore({ id: 'b-shop', name: 'B', createdAt: T0 + 2 });
      await db.createStore({ id: 'a-shop', name: 'A', createdAt: T0 + 1 });
      expect(await op.listStores()).toEqual([
        { id: 'a-shop', name: 'A', createdAt: T0 + 1 },
        { id: 'b-shop', name: 'B', createdAt: T0 + 2 },
        { id: storeId, name: 'Operators', createdAt: T0 },
      ]);
    });

    it('lists a store`s API keys revoked ones included, and revokes a live key once', async () => {
      const key = (createdAt: number): ApiKeyRecord => ({
        id: randomId(),
        storeId,
        keyHash: randomId(),
        kind: 'public',
        createdAt,
        revokedAt: null,
      });
      const later = key(T0 + 10);
      const first = { ...key(T0), kind: 'secret' as const };
      await db.addApiKey(later);
      await db.addApiKey(first);
      expect(await op.listApiKeys(storeId)).toEqual([first, later]);
      expect(await op.listApiKeys('elsewhere')).toEqual([]);

      expect(await op.revokeApiKey('elsewhere', first.id, T0 + 20)).toBe(false);
      expect(await op.revokeApiKey(storeId, first.id, T0 + 20)).toBe(true);
      expect(await op.revokeApiKey(storeId, first.id, T0 + 30)).toBe(false);
      expect(await op.revokeApiKey(storeId, 'missing', T0 + 30)).toBe(false);
      expect(await db.findApiKey(storeId, first.keyHash)).toBeNull();
      expect(await op.listApiKeys(storeId)).toEqual([{ ...first, revokedAt: T0 + 20 }, later]);
      // A label and prefix, when a key has them, come back as stored; keys without them have neither.
      const labelled = { ...key(T0 + 40), label: 'mobile app', prefix: 'pk_abcdefg' };
      await db.addApiKey(labelled);
      expect((await op.listApiKeys(storeId)).at(-1)).toEqual(labelled);
      expect(await db.findApiKey(storeId, labelled.keyHash)).toEqual(labelled);
      expect(await db.findApiKey(storeId, later.keyHash)).toEqual(later);
    });

    it('rotates signing keys in one step: the current keys of each renewed use get their times, the new ones join', async () => {
      const oldAccess = generateSigningKey(storeId, 'access', T0);
      const oldRefresh = generateSigningKey(storeId, 'refresh', T0 + 1);
      const longGone = {
        ...generateSigningKey(storeId, 'access', T0 - 10),
        rotatedAt: T0 - 5,
        retiredAt: T0 - 1,
      };
      for (const k of [longGone, oldAccess, oldRefresh]) await db.addSigningKey(k);
      const newAccess = generateSigningKey(storeId, 'access', T0 + 100);
      await op.rotateSigningKeys(
        storeId,
        [newAccess],
        T0 + 200,
        { access: T0 + 300, refresh: T0 + 400 },
        T0 + 100,
      );
      expect(await db.listSigningKeys(storeId)).toEqual([
        longGone,
        { ...oldAccess, rotatedAt: T0 + 200, retiredAt: T0 + 300 },
        // No new refresh key: the refresh key keeps signing.
        oldRefresh,
        newAccess,
      ]);
    });

    it('a rotation while one is pending reschedules every key still signing or due to sign after now', async () => {
      // One access key: it stops signing at `rotateAt` and verifying at `retireAt`.
      const rotate = (key: SigningKeyRecord, rotateAt: number, retireAt: number, now: number) =>
        op.rotateSigningKeys(storeId, [key], rotateAt, { access: retireAt, refresh: retireAt }, now);
      const signing = generateSigningKey(storeId, 'access', T0);
      await db.addSigningKey(signing);
      const pending = generateSigningKey(storeId, 'access', T0 + 10);
      await rotate(pending, T0 + 1000, T0 + 2000, T0 + 10);
      // Before the first rotation takes effect, a second one: the newest request decides.
      const newest = generateSigningKey(storeId, 'access', T0 + 20);
      await rotate(newest, T0 + 500, T0 + 600, T0 + 20);
      expect(await db.listSigningKeys(storeId)).toEqual([
        { ...signing, rotatedAt: T0 + 500, retiredAt: T0 + 600 },
        { ...pending, rotatedAt: T0 + 500, retiredAt: T0 + 600 },
        newest,
      ]);
      // A key whose rotation time has passed is not rescheduled.
      const later = generateSigningKey(storeId, 'access', T0 + 700);
      await rotate(later, T0 + 900, T0 + 950, T0 + 700);
      const keys = await db.listSigningKeys(storeId);
      expect(keys.slice(0, 2)).toEqual([
        { ...signing, rotatedAt: T0 + 500, retiredAt: T0 + 600 },
        { ...pending, rotatedAt: T0 + 500, retiredAt: T0 + 600 },
      ]);
      expect(keys[2]).toEqual({ ...newest, rotatedAt: T0 + 900, retiredAt: T0 + 950 });
    });

    it('retires a key at once with its replacement in one step, and only a key still verifying', async () => {
      const access = generateSigningKey(storeId, 'access', T0);
      const rotated = {
        ...generateSigningKey(storeId, 'refresh', T0 + 1),
        rotatedAt: T0 + 5,
        retiredAt: T0 + 500,
      };
      for (const k of [access, rotated]) await db.addSigningKey(k);
      const successor = generateSigningKey(storeId, 'access', T0 + 100);
      expect(await op.retireSigningKey(storeId, access.kid, T0 + 100, successor)).toBe(true);
      // A key that already stopped signing keeps its rotation time; it stops verifying now.
      expect(await op.retireSigningKey(storeId, rotated.kid, T0 + 100, undefined)).toBe(true);
      expect(await db.listSigningKeys(storeId)).toEqual([
        { ...access, rotatedAt: T0 + 100, retiredAt: T0 + 100 },
        { ...rotated, retiredAt: T0 + 100 },
        successor,
      ]);
      const unused = generateSigningKey(storeId, 'access', T0 + 200);
      expect(await op.retireSigningKey(storeId, access.kid, T0 + 200, unused)).toBe(false);
      expect(await op.retireSigningKey('elsewhere', successor.kid, T0 + 200, undefined)).toBe(false);
      expect(await op.retireSigningKey(storeId, 'missing', T0 + 200, undefined)).toBe(false);
      // Nothing was added by a retirement that did not happen.
      expect((await db.listSigningKeys(storeId)).map((k) => k.kid)).toEqual([
        access.kid,
        rotated.kid,
        successor.kid,
      ]);
    });

    it('replaces a key`s stored material only while it is still what the caller read', async () => {
      const key = generateSigningKey(storeId, 'refresh', T0);
      await db.addSigningKey(key);
      expect(await op.replaceSigningKeyMaterial(storeId, key.kid, key.privateJwk, 'wrapped-1')).toBe(true);
      // A second writer that read the old text loses: the first one's write stays.
      expect(await op.replaceSigningKeyMaterial(storeId, key.kid, key.privateJwk, 'wrapped-2')).toBe(false);
      expect(await op.replaceSigningKeyMaterial('elsewhere', key.kid, 'wrapped-1', 'wrapped-3')).toBe(false);
      expect(await db.listSigningKeys(storeId)).toEqual([{ ...key, privateJwk: 'wrapped-1' }]);
    });

    it('lists sessions newest first, by store or user, live ones unless all, up to the limit', async () => {
      const u = await anonymous();
      const other = await anonymous();
      const now = T0 + DAY;
      const s1 = sessionRecord(storeId, u.id, { createdAt: T0 + 1 });
      const s2 = sessionRecord(storeId, u.id, {
        createdAt: T0 + 2,
        revokedAt: T0 + 3,
        revokedReason: 'admin',
      });
      const s3 = sessionRecord(storeId, u.id, { createdAt: T0 + 3, idleExpiresAt: now });
      const s4 = sessionRecord(storeId, other.id, { createdAt: T0 + 4 });
      for (const s of [s1, s2, s3, s4]) await db.createSession(s);

      expect(await op.listSessions({ userId: u.id, now, limit: 10 })).toEqual([s1]);
      expect(await op.listSessions({ userId: u.id, all: true, now, limit: 10 })).toEqual([s3, s2, s1]);
      expect(await op.listSessions({ storeId, now, limit: 10 })).toEqual([s4, s1]);
      expect(await op.listSessions({ storeId, all: true, now, limit: 2 })).toEqual([s4, s3]);
      expect(await op.listSessions({ storeId: 'elsewhere', all: true, now, limit: 10 })).toEqual([]);
    });

    it('counts the live, unexpired sessions', async () => {
      const u = await anonymous();
      const now = T0 + DAY;
      const sessions = [
        sessionRecord(storeId, u.id),
        sessionRecord(storeId, u.id),
        sessionRecord(storeId, u.id, { revokedAt: T0, revokedReason: 'logout' }),
        sessionRecord(storeId, u.id, { idleExpiresAt: now }),
        sessionRecord(storeId, u.id, { absoluteExpiresAt: now }),
      ];
      for (const s of sessions) await db.createSession(s);
      expect(await op.countActiveSessions(now)).toBe(2);
      expect(await op.countActiveSessions(T0 + 100 * DAY)).toBe(0);
    });

    it('purges expired sessions in batches, keeping revoked ones until their tokens expire', async () => {
      const u = await anonymous();
      const now = T0 + DAY;
      const expired = [
        sessionRecord(storeId, u.id, { idleExpiresAt: now }),
        sessionRecord(storeId, u.id, { idleExpiresAt: now - 1 }),
        sessionRecord(storeId, u.id, { absoluteExpiresAt: now }),
      ];
      const revoked = sessionRecord(storeId, u.id, { revokedAt: T0, revokedReason: 'logout' });
      const live = sessionRecord(storeId, u.id);
      for (const s of [...expired, revoked, live]) await db.createSession(s);
      // However the backend finds them (an index, or windows of the table), no batch deletes more
      // than its limit and the run ends once every expired session is gone.
      const batches: number[] = [];
      let after: number | undefined;
      for (;;) {
        const { deleted, next } = await op.purgeBatch('sessions', now, 2, DAY, after);
        batches.push(deleted);
        if (next === undefined) break;
        after = next;
        expect(batches.length).toBeLessThan(10);
      }
      expect(Math.max(...batches)).toBeLessThanOrEqual(2);
      expect(batches.reduce((a, b) => a + b, 0)).toBe(3);
      for (const s of expired) expect(await db.getSession(s.id)).toBeNull();
      expect((await db.getSession(revoked.id))?.session).toEqual(revoked);
      expect((await db.getSession(live.id))?.session).toEqual(live);
    });

    it('purges anonymous users with no session left once older than the idle lifetime, never customers', async () => {
      const idleMs = DAY;
      const now = T0 + 2 * DAY;
      const abandoned = await anonymous(T0);
      const young = await anonymous(now - idleMs + 1);
      const withSession = await anonymous(T0);
      await db.createSession(sessionRecord(storeId, withSession.id, { idleExpiresAt: T0 + 30 * DAY }));
      const customer: UserRecord = {
        ...newAnonymousUser(storeId, T0),
        isAnonymous: false,
        email: 'c@example.com',
      };
      await db.createUser(customer);
      expect((await op.purgeBatch('anonymous_users', now, 10, idleMs)).deleted).toBe(1);
      expect(await db.getUser(abandoned.id)).toBeNull();
      for (const kept of [young, withSession, customer]) expect(await db.getUser(kept.id)).toEqual(kept);
    });

    it('purges consumed and expired OTPs, and security events past their retention', async () => {
      const otp = (overrides: Partial<OtpRecord>) => otpRecord(storeId, overrides);
      const alive = otp({});
      await db.createOtp(alive, null);
      await db.createOtp(otp({ consumedAt: T0 + 1 }), null);
      await db.createOtp(otp({ expiresAt: T0 + 10 }), null);
      expect((await op.purgeBatch('otps', T0 + 10, 10, DAY)).deleted).toBe(2);
      expect((await db.attemptOtp(alive.id, 'wrong', T0 + 11, 5)).outcome).toBe('wrong_code');

      const now = T0 + SECURITY_EVENT_RETENTION_MS + 10;
      const event = (createdAt: number) =>
        db.recordSecurityEvent({
          storeId,
          type: 'session_revoked',
          sessionId: null,
          userId: null,
          detail: {},
          createdAt,
        });
      await event(T0 + 9);
      await event(T0 + 10);
      await event(T0 + 11);
      expect((await op.purgeBatch('security_events', now, 10, DAY)).deleted).toBe(2);
      expect((await op.purgeBatch('security_events', now, 10, DAY)).deleted).toBe(0);
      expect((await op.purgeBatch('security_events', now + 1, 10, DAY)).deleted).toBe(1);
    });

    it('purges deliveries finished a week ago, never one still to deliver', async () => {
      const otp = (id: string) => otpRecord(storeId, { id, expiresAt: T0 + 600_000 });
      const message = (id: string): OutboxMessage => ({
        id,
        storeId,
        kind: 'otp',
        payload: { to: 'x@example.com' },
        attempts: 0,
        nextAttemptAt: T0,
        expiresAt: T0 + 600_000,
        createdAt: T0,
      });
      for (const id of ['delivered', 'failed', 'late', 'pending'])
        await db.createOtp(otp(randomId(32)), message(`m-${id}`));
      expect(await db.finishOutbox('m-delivered', 'delivered', T0 + 1)).toBe(true);
      expect(await db.finishOutbox('m-failed', 'failed', T0 + 2)).toBe(true);
      expect(await db.finishOutbox('m-late', 'delivered', T0 + 3)).toBe(true);
      const now = T0 + 2 + OUTBOX_RETENTION_MS;
      expect((await op.purgeBatch('outbox', now, 10, DAY)).deleted).toBe(2);
      expect((await op.purgeBatch('outbox', now, 10, DAY)).deleted).toBe(0);
      // Only the undelivered message is left to claim, and the late one is still there to finish.
      expect((await db.claimOutbox(now, 10, now + 1000)).map((m) => m.id)).toEqual(['m-pending']);
      expect(await db.finishOutbox('m-late', 'delivered', now)).toBe(false);
      expect((await op.purgeBatch('outbox', now + 1, 10, DAY)).deleted).toBe(1);
    });

    it('forgets OTP guess counters a day after their last wait, never one still waiting or recent', async () => {
      const set = (key: string, failures: number, nextAttemptAt: number) =>
        db.setBackoff(storeId, key, 0, { failures, nextAttemptAt });
      expect(await set('quiet', 3, T0)).toBe(true);
      expect(await set('recent', 3, T0 + DAY)).toBe(true);
      expect(await set('waiting', 14, T0 + 10 * DAY)).toBe(true);
      const now = T0 + OTP_BACKOFF_RETENTION_MS;
      expect((await op.purgeBatch('otp_backoff', now, 10, DAY)).deleted).toBe(1);
      expect(await db.getBackoff(storeId, 'quiet')).toEqual({ failures: 0, nextAttemptAt: 0 });
      expect(await db.getBackoff(storeId, 'recent')).toEqual({ failures: 3, nextAttemptAt: T0 + DAY });
      expect(await db.getBackoff(storeId, 'waiting')).toEqual({ failures: 14, nextAttemptAt: T0 + 10 * DAY });
    });
  });
}
