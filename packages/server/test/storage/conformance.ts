import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { limitValuesOf, loadConfig } from '../../src/config.js';
import { AppError } from '../../src/errors/codes.js';
import type { OtpRecord, OutboxMessage, SessionRecord, UserAccount, UserRecord } from '../../src/model.js';
import { newAnonymousUser } from '../../src/sessions/anonymous.js';
import type { SessionContext } from '../../src/sessions/context.js';
import { openSession } from '../../src/sessions/create.js';
import { refreshSession } from '../../src/sessions/rotate.js';
import type { Database } from '../../src/storage/contract.js';
import type { Tenant } from '../../src/tenants/directory.js';
import { generateSigningKey, Keyring } from '../../src/tokens/keys.js';
import { randomId } from '../../src/util/ids.js';

/** A backend under test: an empty, migrated database and a way to open it a second time. */
export interface DatabaseFixture {
  db: Database;
  /** Another handle on the same database (another connection pool; for SQLite, another connection). */
  second(): Promise<Database>;
  dispose(): Promise<void>;
}

export const T0 = Date.UTC(2026, 0, 1);
export const DAY = 86_400_000;

/** A live session at generation 0, created at T0, idle for 30 days, absolute for 90. */
export function sessionRecord(
  storeId: string,
  userId: string,
  overrides: Partial<SessionRecord> = {},
): SessionRecord {
  return {
    id: randomId(16),
    storeId,
    userId,
    anonymousId: null,
    generation: 0,
    createdAt: T0,
    rotatedAt: T0,
    idleExpiresAt: T0 + 30 * DAY,
    absoluteExpiresAt: T0 + 90 * DAY,
    revokedAt: null,
    revokedReason: null,
    jkt: null,
    ...overrides,
  };
}

/** An OTP for a login by email, in flight since T0 and alive for a minute. */
export function otpRecord(storeId: string, overrides: Partial<OtpRecord> = {}): OtpRecord {
  return {
    id: randomId(32),
    storeId,
    action: 'login',
    channel: 'email',
    identifier: 'x@example.com',
    userId: null,
    codeHash: 'h',
    attempts: 0,
    expiresAt: T0 + 60_000,
    consumedAt: null,
    redeemedAt: null,
    payload: {},
    createdAt: T0,
    ...overrides,
  };
}

/**
 * The storage contract's conformance suite, written once and run against every backend
 * (test/storage/sqlite.test.ts, test/storage/postgres.test.ts), including the races that decide
 * refresh: the database, not this process, must pick exactly one winner.
 */
export function describeDatabase(name: string, makeFixture: () => Promise<DatabaseFixture>): void {
  describe(`storage contract: ${name}`, () => {
    let fx: DatabaseFixture;
    let store: Database;
    let other: Database;
    const storeId = 'conf';

    beforeAll(async () => {
      fx = await makeFixture();
      store = fx.db;
      other = await fx.second();
      await store.createStore({ id: storeId, name: 'Conformance', createdAt: T0 });
    });
    afterAll(async () => {
      await other?.close();
      await fx?.dispose();
    });

    function user(overrides: Partial<UserRecord> = {}): UserRecord {
      return { ...newAnonymousUser(storeId, T0), ...overrides };
    }

    async function newSession(overrides: Partial<SessionRecord> = {}) {
      const u = user();
      await store.createUser(u);
      const session = sessionRecord(storeId, u.id, overrides);
      await store.createSession(session);
      return { user: u, session };
    }

    it('migrates again without harm, from either handle', async () => {
      await store.migrate();
      await other.migrate();
      expect(await store.getStore(storeId)).toEqual({ id: storeId, name: 'Conformance', createdAt: T0 });
    });

    it('creates a store once and reports whether it did', async () => {
      const id = `s${randomId(4).toLowerCase()}`;
      expect(await store.getStore(id)).toBeNull();
      expect(await store.createStore({ id, name: 'one', createdAt: T0 })).toBe(true);
      expect(await other.createStore({ id, name: 'two', createdAt: T0 + 1 })).toBe(false);
      expect(await store.getStore(id)).toEqual({ id, name: 'one', createdAt: T0 });
    });

    it('finds a live API key by its hash, and not a revoked one or another store`s', async () => {
      const live = {
        id: randomId(),
        storeId,
        keyHash: randomId(),
        kind: 'public' as const,
        createdAt: T0,
        revokedAt: null,
      };
      const revoked = { ...live, id: randomId(), keyHash: randomId(), revokedAt: T0 + 1 };
      await store.addApiKey(live);
      await store.addApiKey(revoked);
      expect(await other.findApiKey(storeId, live.keyHash)).toEqual(live);
      expect(await store.findApiKey(storeId, revoked.keyHash)).toBeNull();
      expect(await store.findApiKey('elsewhere', live.keyHash)).toBeNull();
    });

    it('lists signing keys in creation order, exactly as stored', async () => {
      const id = `k${randomId(4).toLowerCase()}`;
      await store.createStore({ id, name: id, createdAt: T0 });
      const later = { ...generateSigningKey(id, 'access', T0 + 10), rotatedAt: T0 + 20, retiredAt: T0 + 30 };
      const first = generateSigningKey(id, 'refresh', T0);
      await store.addSigningKey(later);
      await store.addSigningKey(first);
      // A key added through one handle is seen by the other: what cross-instance rotation needs.
      expect(await other.listSigningKeys(id)).toEqual([first, later]);
    });

    it('round-trips users and sessions, booleans and nulls included', async () => {
      const u = user({
        isAnonymous: false,
        email: 'a@example.com',
        phone: '5550100',
        countryCode: '+1',
        firstName: 'Ada',
        lastName: 'L',
        customerId: 'cus_1',
        customerGroupId: 'grp',
        isEmailVerified: true,
      });
      await store.createUser(u);
      expect(await other.getUser(u.id)).toEqual(u);
      expect(await store.getUser('missing')).toBeNull();
      const { session, user: anon } = await newSession({ anonymousId: 'anon-1' });
      expect(await other.getSession(session.id)).toEqual({ session, user: anon });
      expect(await store.getSession('missing')).toBeNull();
    });

    describe('rotateSession (the compare-and-swap)', () => {
      it('bumps the generation, stamps the time and slides the idle expiry, capped at the absolute one', async () => {
        const { session, user: u } = await newSession({ absoluteExpiresAt: T0 + 40 * DAY });
        const now = T0 + DAY;
        const result = await store.rotateSession({
          sessionId: session.id,
          storeId,
          userId: session.userId,
          generation: 0,
          now,
          idleExpiresAt: now + 60 * DAY,
        });
        expect(result).toEqual({
          rotated: true,
          user: u,
          session: { ...session, generation: 1, rotatedAt: now, idleExpiresAt: T0 + 40 * DAY },
        });
        expect((await other.getSession(session.id))?.session.generation).toBe(1);
      });

      it('rotates a DPoP-bound session only for its own key, and keeps it bound', async () => {
        const { session } = await newSession({ jkt: 'key-thumbprint-a' });
        expect((await other.getSession(session.id))?.session.jkt).toBe('key-thumbprint-a');
        const input = {
          sessionId: session.id,
          storeId,
          userId: session.userId,
          generation: 0,
          now: T0 + 1,
          idleExpiresAt: T0 + DAY,
        };
        for (const jkt of [undefined, null, 'key-thumbprint-b']) {
          const refused = await store.rotateSession({ ...input, jkt });
          expect(refused).toMatchObject({
            rotated: false,
            session: { generation: 0, jkt: 'key-thumbprint-a' },
          });
        }
        const result = await other.rotateSession({ ...input, jkt: 'key-thumbprint-a' });
        expect(result).toMatchObject({ rotated: true, session: { generation: 1, jkt: 'key-thumbprint-a' } });
        // An unbound session rotates whatever key comes, and stays unbound.
        const { session: unbound } = await newSession();
        const bumped = await store.rotateSession({
          ...input,
          sessionId: unbound.id,
          userId: unbound.userId,
          jkt: 'key-thumbprint-b',
        });
        expect(bumped).toMatchObject({ rotated: true, session: { generation: 1, jkt: null } });
      });

      it('does not match a stale generation, and answers the row as found', async () => {
        const { session } = await newSession();
        await store.rotateSession({
          sessionId: session.id,
          storeId,
          userId: session.userId,
          generation: 0,
          now: T0 + 1,
          idleExpiresAt: T0 + DAY,
        });
        const result = await other.rotateSession({
          sessionId: session.id,
          storeId,
          userId: session.userId,
          generation: 0,
          now: T0 + 2,
          idleExpiresAt: T0 + DAY,
        });
        expect(result?.rotated).toBe(false);
        expect(result?.session.generation).toBe(1);
        expect(result?.session.rotatedAt).toBe(T0 + 1);
      });

      it('does not rotate a revoked, idle-expired or absolutely expired session', async () => {
        const revoked = await newSession({ revokedAt: T0, revokedReason: 'logout' });
        const idle = await newSession({ idleExpiresAt: T0 + 10 });
        const absolute = await newSession({ absoluteExpiresAt: T0 + 10 });
        for (const { session } of [revoked, idle, absolute]) {
          const result = await store.rotateSession({
            sessionId: session.id,
            storeId,
            userId: session.userId,
            generation: 0,
            now: T0 + 10,
            idleExpiresAt: T0 + DAY,
          });
          expect(result?.rotated).toBe(false);
          expect(result?.session).toEqual(session);
        }
      });

      it('does not rotate a session for a token naming another store or another user', async () => {
        await store.createStore({ id: 'conf-other', name: 'Other', createdAt: T0 });
        const { session } = await newSession();
        const intruder = user();
        await store.createUser(intruder);
        for (const names of [
          { storeId: 'conf-other', userId: session.userId },
          { storeId, userId: intruder.id },
        ]) {
          const result = await store.rotateSession({
            sessionId: session.id,
            ...names,
            generation: 0,
            now: T0 + 5,
            idleExpiresAt: T0 + DAY,
          });
          expect(result?.rotated).toBe(false);
          expect(result?.session).toEqual(session);
        }
        expect((await other.getSession(session.id))?.session.generation).toBe(0);
      });

      it('answers null for a session that does not exist', async () => {
        expect(
          await store.rotateSession({
            sessionId: 'gone',
            storeId,
            userId: 'nobody',
            generation: 0,
            now: T0,
            idleExpiresAt: T0 + DAY,
          }),
        ).toBeNull();
      });

      it('picks exactly one winner among 40 concurrent swaps from two handles', async () => {
        const { session } = await newSession();
        const results = await Promise.all(
          Array.from({ length: 40 }, (_, i) =>
            (i % 2 ? other : store).rotateSession({
              sessionId: session.id,
              storeId,
              userId: session.userId,
              generation: 0,
              now: T0 + 5,
              idleExpiresAt: T0 + DAY,
            }),
          ),
        );
        expect(results.filter((r) => r?.rotated)).toHaveLength(1);
        // Losers see the row either before the winner (a statement snapshot) or after it.
        for (const r of results) expect([0, 1]).toContain(r?.session.generation);
        expect((await store.getSession(session.id))?.session.generation).toBe(1);
      });

      it('answers each of many concurrent rotations (one group) with its own session and user', async () => {
        // Ids in descending order, so a backend that sorts a group (PostgreSQL locks rows in id
        // order) must still answer each call in the order it was made.
        const made = [];
        for (let i = 0; i < 12; i++) made.push(await newSession({ id: `group-${String(99 - i)}` }));
        const results = await Promise.all([
          ...made.map(({ session }, i) =>
            store.rotateSession({
              sessionId: session.id,
              storeId,
              userId: session.userId,
              generation: i % 3 === 0 ? 7 : 0, // a third present a generation the row is not at
              now: T0 + 9,
              idleExpiresAt: T0 + DAY,
            }),
          ),
          store.rotateSession({
            sessionId: 'group-gone',
            storeId,
            userId: 'nobody',
            generation: 0,
            now: T0 + 9,
            idleExpiresAt: T0 + DAY,
          }),
        ]);
        for (const [i, { session, user }] of made.entries()) {
          expect(results[i]?.session.id).toBe(session.id);
          expect(results[i]?.user.id).toBe(user.id);
          expect(results[i]?.rotated).toBe(i % 3 !== 0);
          expect(results[i]?.session.generation).toBe(i % 3 === 0 ? 0 : 1);
        }
        expect(results[made.length]).toBeNull();
      });
    });

    it('revokes a live session once', async () => {
      const { session } = await newSession();
      expect(await store.revokeSession(session.id, 'logout', T0 + 3)).toBe(true);
      expect(await other.revokeSession(session.id, 'admin', T0 + 4)).toBe(false);
      expect(await store.revokeSession('gone', 'admin', T0)).toBe(false);
      const found = await other.getSession(session.id);
      expect(found?.session.revokedAt).toBe(T0 + 3);
      expect(found?.session.revokedReason).toBe('logout');
    });

    it("a new session past `keep` revokes the user's oldest not revoked, as session_limit, and no one else's", async () => {
      const u = user();
      const bystander = await newSession();
      await store.createUser(u);
      const made: SessionRecord[] = [];
      const revokedBy: number[] = [];
      for (let i = 0; i < 5; i++) {
        const session = sessionRecord(storeId, u.id, { createdAt: T0 + i, rotatedAt: T0 + i });
        made.push(session);
        // The second handle writes every other one: the limit counts what either wrote.
        revokedBy.push(await (i % 2 ? other : store).createSession(session, 3));
        // A session revoked otherwise no longer counts towards the limit.
        if (i === 1) await store.revokeSession(session.id, 'logout', T0 + 1);
      }
      // 0, 1 (logged out: not counted), 2, 3 are the live ones when the fifth (4) arrives: 0 goes.
      expect(revokedBy).toEqual([0, 0, 0, 0, 1]);
      const states = await Promise.all(made.map(async (m) => (await other.getSession(m.id))?.session));
      expect(states.map((s) => s?.revokedReason ?? null)).toEqual([
        'session_limit',
        'logout',
        null,
        null,
        null,
      ]);
      expect(states[0]?.revokedAt).toBe(T0 + 4);
      expect(states[1]?.revokedAt).toBe(T0 + 1);
      // Without `keep`, nothing is revoked, however many there are.
      expect(await store.createSession(sessionRecord(storeId, u.id, { createdAt: T0 + 9 }))).toBe(0);
      expect((await store.getSession(bystander.session.id))?.session.revokedAt).toBeNull();
      const rotated = await store.rotateSession({
        sessionId: made[0]!.id,
        storeId,
        userId: u.id,
        generation: 0,
        now: T0 + 10,
        idleExpiresAt: T0 + 20 * DAY,
        jkt: null,
      });
      expect(rotated?.rotated).toBe(false);
    });

    it('records a security event', async () => {
      await expect(
        store.recordSecurityEvent({
          storeId,
          type: 'refresh_token_reused',
          sessionId: 's',
          userId: 'u',
          detail: { presented_generation: 1 },
          createdAt: T0,
        }),
      ).resolves.toBeUndefined();
    });

    describe('refresh through the domain, racing on two handles', () => {
      const clock = {
        ms: T0,
        now() {
          return this.ms;
        },
      };
      let tenant: Tenant;
      beforeAll(() => {
        tenant = {
          record: { id: storeId, name: 'Conformance', createdAt: T0 },
          keyring: new Keyring(
            [generateSigningKey(storeId, 'access', T0), generateSigningKey(storeId, 'refresh', T0)],
            T0,
          ),
          issuer: `test/${storeId}`,
          limits: limitValuesOf(loadConfig({})),
          audience: 'conformance',
          requireDpop: false,
        };
      });
      const ctx = (s: Database, grace: number): SessionContext => ({
        db: s,
        clock,
        policy: {
          accessTokenTtl: 900,
          refreshTokenTtl: 30 * 86400,
          sessionMaxAge: 90 * 86400,
          refreshReuseGrace: grace,
          maxSessionsPerUser: 100,
        },
        onSecurityEvent: () => {},
      });
      const codeOf = (e: unknown) => (e instanceof AppError ? e.code : String(e));

      it('grace on: 40 concurrent refreshes of one token all get the same single successor', async () => {
        const u = user();
        await store.createUser(u);
        const { session, tokens } = await openSession(ctx(store, 30), tenant, u, null);
        clock.ms += 1000;
        const results = await Promise.all(
          Array.from({ length: 40 }, (_, i) =>
            refreshSession(ctx(i % 2 ? other : store, 30), tenant, tokens.refresh_token),
          ),
        );
        expect(new Set(results.map((r) => r.refresh_token)).size).toBe(1);
        expect(results[0]!.refresh_token).not.toBe(tokens.refresh_token);
        const row = (await store.getSession(session.id))!.session;
        expect(row.generation).toBe(1);
        expect(row.revokedAt).toBeNull();
      });

      it('any sequence of refreshes over two handles answers what the rotation rules say', async () => {
        const step = fc.record({
          handle: fc.constantFrom(0, 1),
          present: fc.constantFrom('current', 'previous', 'older'),
          advanceSeconds: fc.constantFrom(0, 1, 10, 29, 31, 45),
        });
        await fc.assert(
          fc.asyncProperty(fc.array(step, { minLength: 1, maxLength: 8 }), async (steps) => {
            const u = user();
            await store.createUser(u);
            const opened = await openSession(ctx(store, 30), tenant, u, null);
            // The model: the tokens issued per generation, the current one, when it rotated.
            const issued = [opened.tokens.refresh_token];
            let gen = 0;
            let rotatedAt = clock.ms;
            let revoked = false;
            for (const s of steps) {
              clock.ms += s.advanceSeconds * 1000;
              const presented =
                s.present === 'current' ? gen : Math.max(0, gen - (s.present === 'previous' ? 1 : 2));
              let expected: string;
              if (revoked) expected = 'SESSION_REVOKED';
              else if (presented === gen) expected = 'rotated';
              else if (presented === gen - 1 && clock.ms - rotatedAt <= 30_000) expected = 'replayed';
              else expected = 'REFRESH_TOKEN_REUSED';

              const got = await refreshSession(
                ctx(s.handle ? other : store, 30),
                tenant,
                issued[presented]!,
              ).then(
                (r) => r,
                (e: unknown) => codeOf(e),
              );
              if (expected === 'rotated') {
                expect(typeof got).toBe('object');
                gen++;
                rotatedAt = clock.ms;
                issued[gen] = (got as { refresh_token: string }).refresh_token;
              } else if (expected === 'replayed') {
                expect((got as { refresh_token: string }).refresh_token).toBe(issued[gen]);
              } else {
                expect(got).toBe(expected);
                revoked = true;
              }
            }
            const row = (await store.getSession(opened.session.id))!.session;
            expect(row.generation).toBe(gen);
            expect(row.revokedAt !== null).toBe(revoked);
          }),
          { numRuns: 25 },
        );
      });

      // Regression: a refresh that read its clock before the winner stamped the rotation (it lost
      // the race, or its instance's clock is behind) was judged reuse and revoked the family.
      it('grace on: a loser whose clock reads earlier than the winner`s stamp gets the same successor', async () => {
        const u = user();
        await store.createUser(u);
        const { session, tokens } = await openSession(ctx(store, 30), tenant, u, null);
        const ahead = { now: () => clock.ms + 2000 };
        const winner = await refreshSession(
          { ...ctx(store, 30), clock: ahead },
          tenant,
          tokens.refresh_token,
        );
        const loser = await refreshSession(ctx(other, 30), tenant, tokens.refresh_token);
        expect(loser.refresh_token).toBe(winner.refresh_token);
        expect((await store.getSession(session.id))!.session.revokedAt).toBeNull();
      });

      it('grace 0: exactly one of 40 concurrent refreshes wins, and the family is revoked as reused', async () => {
        const u = user();
        await store.createUser(u);
        const { session, tokens } = await openSession(ctx(store, 0), tenant, u, null);
        clock.ms += 1000;
        const settled = await Promise.allSettled(
          Array.from({ length: 40 }, (_, i) =>
            refreshSession(ctx(i % 2 ? other : store, 0), tenant, tokens.refresh_token),
          ),
        );
        expect(settled.filter((s) => s.status === 'fulfilled')).toHaveLength(1);
        for (const s of settled) {
          if (s.status === 'rejected')
            expect(['REFRESH_TOKEN_REUSED', 'SESSION_REVOKED']).toContain(codeOf(s.reason));
        }
        const row = (await store.getSession(session.id))!.session;
        expect(row.generation).toBe(1);
        expect(row.revokedReason).toBe('reuse');
      });
    });

    describe('customer accounts', () => {
      function account(overrides: Partial<UserRecord> = {}): UserAccount {
        return {
          user: user({
            isAnonymous: false,
            email: `${randomId(6)}@example.com`,
            isEmailVerified: true,
            isPhoneVerified: overrides.phone !== undefined,
            ...overrides,
          }),
          passwordHash: null,
          status: 'active',
          loginMethods: ['email'],
          notificationPreferences: null,
          profileImageEtag: null,
        };
      }

      it('creates an account once per store email, and finds it by email or phone', async () => {
        const a = account({ phone: '5550101', countryCode: '+1' });
        expect(await store.createAccount(a)).toBe(true);
        expect(
          await other.createAccount({ ...account(), user: { ...account().user, email: a.user.email } }),
        ).toBe(false);
        expect(await other.getAccount(a.user.id)).toEqual(a);
        expect(await store.findAccountByEmail(storeId, a.user.email!)).toEqual(a);
        expect(await store.findAccountByPhone(storeId, '+1', '5550101')).toEqual(a);
        expect(await store.findAccountByEmail('elsewhere', a.user.email!)).toBeNull();
      });

      it('pending identifiers: not unique, never found, and claimIdentifier moves them to their prover', async () => {
        const email = `${randomId(6)}@example.com`;
        const a = account({ email, isEmailVerified: false });
        const b = account({ email, isEmailVerified: false });
        expect(await store.createAccount(a)).toBe(true);
        expect(await other.createAccount(b)).toBe(true);
        expect(await store.findAccountByEmail(storeId, email)).toBeNull();
        await store.createStore({ id: 'conf-pending', name: 'Elsewhere', createdAt: T0 });
        const elsewhere = { ...account({ email, isEmailVerified: false }) };
        elsewhere.user.storeId = 'conf-pending';
        await store.createAccount(elsewhere);

        const owner = account();
        await store.createAccount(owner);
        const claimed = await other.claimIdentifier(owner.user.id, { email }, T0 + 7);
        expect(claimed.outcome).toBe('claimed');
        expect(claimed.outcome === 'claimed' && [...claimed.releasedFrom].sort()).toEqual(
          [a.user.id, b.user.id].sort(),
        );
        expect((await store.getAccount(a.user.id))?.user).toMatchObject({ email: null, modifiedAt: T0 + 7 });
        expect((await store.getAccount(elsewhere.user.id))?.user.email).toBe(email);
        expect((await store.findAccountByEmail(storeId, email))?.user).toMatchObject({
          id: owner.user.id,
          email,
          isEmailVerified: true,
        });

        // Proven by one customer, it cannot be claimed by another; nothing changes.
        const late = account({ email: `${randomId(6)}@example.com`, isEmailVerified: false });
        await store.createAccount(late);
        expect(await store.claimIdentifier(late.user.id, { email }, T0 + 8)).toEqual({ outcome: 'conflict' });
        expect((await store.getAccount(late.user.id))?.user.email).toBe(late.user.email);

        // A missing claimant releases nothing.
        const spare = `${randomId(6)}@example.com`;
        const holder = account({ email: spare, isEmailVerified: false });
        await store.createAccount(holder);
        expect(await store.claimIdentifier('missing', { email: spare }, T0 + 9)).toEqual({
          outcome: 'missing',
        });
        expect((await store.getAccount(holder.user.id))?.user.email).toBe(spare);
      });

      it('claimIdentifier for a phone releases the pending phone and its country code', async () => {
        const p = account({ phone: '5550199', countryCode: '+1', isPhoneVerified: false });
        await store.createAccount(p);
        expect(await store.findAccountByPhone(storeId, '+1', '5550199')).toBeNull();
        const owner = account();
        await store.createAccount(owner);
        expect(
          await store.claimIdentifier(owner.user.id, { phone: '5550199', countryCode: '+1' }, T0 + 3),
        ).toEqual({
          outcome: 'claimed',
          releasedFrom: [p.user.id],
        });
        expect((await other.getAccount(p.user.id))?.user).toMatchObject({ phone: null, countryCode: null });
        expect((await other.findAccountByPhone(storeId, '+1', '5550199'))?.user).toMatchObject({
          id: owner.user.id,
          isPhoneVerified: true,
        });
      });

      it('updates fields, and reports a conflicting email or a missing user', async () => {
        const a = account();
        const b = account();
        await store.createAccount(a);
        await store.createAccount(b);
        const prefs = {
          transactional: { email: true, sms: false, whatsapp: false },
          promotional: { email: false, sms: false, whatsapp: false },
          newsletter: { email: true, sms: false, whatsapp: false },
        };
        expect(
          await store.updateUser(
            a.user.id,
            {
              firstName: 'Grace',
              isPhoneVerified: true,
              loginMethods: ['email', 'password'],
              notificationPreferences: prefs,
            },
            T0 + 9,
          ),
        ).toBe('updated');
        const got = await other.getAccount(a.user.id);
        expect(got?.user).toMatchObject({ firstName: 'Grace', isPhoneVerified: true, modifiedAt: T0 + 9 });
        expect(got?.loginMethods).toEqual(['email', 'password']);
        expect(got?.notificationPreferences).toEqual(prefs);
        expect(await store.updateUser(b.user.id, { email: a.user.email }, T0 + 9)).toBe('conflict');
        expect(await store.updateUser('missing', { firstName: 'x' }, T0)).toBe('missing');
      });

      it('deactivating revokes every live session; revoking all but one keeps that one', async () => {
        const a = account();
        await store.createAccount(a);
        const mk = async () => {
          const s: SessionRecord = {
            id: randomId(16),
            storeId,
            userId: a.user.id,
            anonymousId: null,
            generation: 0,
            createdAt: T0,
            rotatedAt: T0,
            idleExpiresAt: T0 + DAY,
            absoluteExpiresAt: T0 + 2 * DAY,
            revokedAt: null,
            revokedReason: null,
            jkt: null,
          };
          await store.createSession(s);
          return s.id;
        };
        const [s1, s2, s3] = [await mk(), await mk(), await mk()];
        expect(await store.revokeUserSessions(a.user.id, 'password_change', T0 + 1, s1)).toBe(2);
        expect((await other.getSession(s2))?.session.revokedReason).toBe('password_change');
        expect((await other.getSession(s1))?.session.revokedAt).toBeNull();
        expect(await store.deactivateUser(a.user.id, T0 + 2)).toBe(true);
        expect((await other.getAccount(a.user.id))?.status).toBe('deactivated');
        expect((await other.getSession(s1))?.session.revokedReason).toBe('user_deactivated');
        expect((await other.getSession(s3))?.session.revokedReason).toBe('password_change');
        expect(await store.deactivateUser('missing', T0)).toBe(false);
        expect(await store.deleteUser(a.user.id)).toBe(true);
        expect(await other.getSession(s1)).toBeNull();
        expect(await store.deleteUser(a.user.id)).toBe(false);
      });

      it("a refresh answers the user as the users row is now, after any sequence of the user's writes", async () => {
        // SQLite answers a rotation's user from a copy on the session row (migration 13's
        // triggers); this is what keeps that copy honest against every write of a user.
        const text = fc.option(fc.string({ maxLength: 12 }), { nil: null });
        const write = fc.oneof(
          fc.record(
            {
              firstName: text,
              lastName: text,
              email: fc.option(fc.constantFrom('p1@example.com', 'p2@example.com'), { nil: null }),
              phone: text,
              countryCode: fc.option(fc.constantFrom('+1', '+91'), { nil: null }),
              isEmailVerified: fc.boolean(),
              isPhoneVerified: fc.boolean(),
            },
            { requiredKeys: [] },
          ),
          fc.constantFrom('claim email', 'claim phone', 'password', 'rotate only'),
        );
        let step = 0;
        await fc.assert(
          fc.asyncProperty(fc.array(write, { minLength: 1, maxLength: 6 }), async (writes) => {
            const a = account();
            await store.createAccount(a);
            const session = sessionRecord(storeId, a.user.id);
            await store.createSession(session);
            let generation = 0;
            for (const w of writes) {
              const now = T0 + ++step;
              const unique = randomId(6);
              if (w === 'claim email')
                await other.claimIdentifier(a.user.id, { email: `${unique}@example.com` }, now);
              else if (w === 'claim phone')
                await other.claimIdentifier(a.user.id, { phone: unique, countryCode: '+1' }, now);
              else if (w === 'password') await other.setPasswordHash(a.user.id, `hash-${unique}`, now);
              else if (w !== 'rotate only') {
                // The shared emails collide on purpose: a refused update must leave the copy as is too.
                const patch = w.email ? { ...w, email: `${unique}-${w.email}` } : w;
                await other.updateUser(a.user.id, patch, now);
              }
              const rotated = await store.rotateSession({
                sessionId: session.id,
                storeId,
                userId: a.user.id,
                generation,
                now,
                idleExpiresAt: now + DAY,
              });
              generation += 1;
              expect(rotated?.rotated).toBe(true);
              expect(rotated?.user).toEqual(await other.getUser(a.user.id));
            }
          }),
          { numRuns: 25 },
        );
      });

      /** A live login OTP sent to x@example.com, code hash `right`, valid for a minute from T0. */
      function otpRecord(overrides: Partial<OtpRecord> & { id: string }): OtpRecord {
        return {
          storeId,
          action: 'login' as const,
          channel: 'email' as const,
          identifier: 'x@example.com',
          userId: null,
          codeHash: 'right',
          attempts: 0,
          expiresAt: T0 + 60_000,
          consumedAt: null,
          redeemedAt: null,
          payload: { a: 1 },
          createdAt: T0,
          ...overrides,
        };
      }

      it('finds an OTP by id, whatever its state', async () => {
        const otp = otpRecord({ id: randomId(32), payload: { to: { email: 'find@example.com' } } });
        await store.createOtp(otp, null);
        expect(await other.findOtp(otp.id)).toEqual(otp);
        expect(await other.findOtp('missing')).toBeNull();
      });

      it('back-off: a compare-and-swap on the failures, one winner among 20 concurrent callers, cleared on demand', async () => {
        const key = `to:${randomId(6)}@example.com`;
        expect(await store.getBackoff(storeId, key)).toEqual({ failures: 0, nextAttemptAt: 0 });
        expect(await store.setBackoff(storeId, key, 0, { failures: 1, nextAttemptAt: T0 })).toBe(true);
        expect(await other.setBackoff(storeId, key, 0, { failures: 1, nextAttemptAt: T0 })).toBe(false);
        expect(await other.getBackoff(storeId, key)).toEqual({ failures: 1, nextAttemptAt: T0 });
        const wins = await Promise.all(
          Array.from({ length: 20 }, (_, i) =>
            (i % 2 ? other : store).setBackoff(storeId, key, 1, { failures: 2, nextAttemptAt: T0 + i }),
          ),
        );
        expect(wins.filter(Boolean)).toHaveLength(1);
        expect((await store.getBackoff(storeId, key)).failures).toBe(2);
        expect(await store.getBackoff('elsewhere', key)).toEqual({ failures: 0, nextAttemptAt: 0 });
        await other.clearBackoff(storeId, key);
        expect(await store.getBackoff(storeId, key)).toEqual({ failures: 0, nextAttemptAt: 0 });
      });

      describe('outbox', () => {
        function otpRow(id: string) {
          return {
            id,
            storeId,
            action: 'login' as const,
            channel: 'email' as const,
            identifier: 'box@example.com',
            userId: null,
            codeHash: 'h',
            attempts: 0,
            expiresAt: T0 + 600_000,
            consumedAt: null,
            redeemedAt: null,
            payload: {},
            createdAt: T0,
          };
        }
        function message(id: string, nextAttemptAt = T0): OutboxMessage {
          return {
            id,
            storeId,
            kind: 'otp',
            payload: { otp: '123456', to: { email: 'box@example.com' } },
            attempts: 0,
            nextAttemptAt,
            expiresAt: T0 + 600_000,
            createdAt: T0,
          };
        }
        // Far in the future of every other test's messages, so each test sees only its own.
        let base = T0 + 1000 * DAY;

        it('writes the OTP and its message together, or neither', async () => {
          const id = randomId(16);
          await store.createOtp(otpRow(`otp-${id}`), message(id, base));
          expect(await other.findOtp(`otp-${id}`)).not.toBeNull();
          // A duplicate message id fails the transaction: the second OTP is not kept either.
          await expect(store.createOtp(otpRow(`otp2-${id}`), message(id, base))).rejects.toThrow();
          expect(await other.findOtp(`otp2-${id}`)).toBeNull();
          const claimed = await other.claimOutbox(base, 10, base + 1000);
          expect(claimed).toEqual([{ ...message(id, base), attempts: 1, nextAttemptAt: base + 1000 }]);
          expect(await other.finishOutbox(id, 'delivered', base + 1)).toBe(true);
          base += DAY;
        });

        it('claims due messages once, across 2 handles claiming at once; leases, retries and finishes them', async () => {
          const ids = Array.from({ length: 30 }, () => randomId(16));
          for (const [i, id] of ids.entries())
            await store.createOtp(otpRow(`otp-${id}`), message(id, base + i));
          await store.createOtp(otpRow(`otp-later-${ids[0]}`), message(`later-${ids[0]}`, base + DAY / 2));
          const claims = await Promise.all(
            Array.from({ length: 6 }, (_, i) =>
              (i % 2 ? other : store).claimOutbox(base + 100, 7, base + 5000),
            ),
          );
          const all = claims.flat().map((m) => m.id);
          expect(new Set(all).size).toBe(all.length);
          expect(all.sort()).toEqual([...ids].sort());
          // Leased: nothing is due again before the lease ends.
          expect(await store.claimOutbox(base + 4999, 50, base + 9000)).toEqual([]);
          // A claim whose holder died comes back when its lease ends, with the try counted.
          const back = await other.claimOutbox(base + 5000, 50, base + 9000);
          expect(back.map((m) => m.id).sort()).toEqual([...ids].sort());
          expect(back.every((m) => m.attempts === 2)).toBe(true);
          await store.retryOutbox(ids[0]!, base + 6000);
          expect(await store.finishOutbox(ids[1]!, 'delivered', base + 5001)).toBe(true);
          expect(await other.finishOutbox(ids[1]!, 'failed', base + 5002)).toBe(false);
          const again = await store.claimOutbox(base + 9000, 50, base + 20000);
          expect(again.map((m) => m.id)).toContain(ids[0]);
          expect(again.map((m) => m.id)).not.toContain(ids[1]);
          base += DAY;
        });
      });

      it('an OTP is consumed by exactly one of 20 concurrent right-code attempts', async () => {
        const id = randomId(32);
        await store.createOtp(otpRecord({ id }), null);
        expect((await store.attemptOtp(id, 'wrong', T0 + 1, 25)).outcome).toBe('wrong_code');
        const outcomes = await Promise.all(
          Array.from({ length: 20 }, (_, i) => (i % 2 ? other : store).attemptOtp(id, 'right', T0 + 2, 25)),
        );
        expect(outcomes.filter((o) => o.outcome === 'verified')).toHaveLength(1);
        expect(outcomes.filter((o) => o.outcome === 'consumed')).toHaveLength(19);
        const verified = outcomes.find((o) => o.outcome === 'verified');
        expect(verified && 'record' in verified ? verified.record.payload : null).toEqual({ a: 1 });
        expect((await store.attemptOtp('missing', 'x', T0, 5)).outcome).toBe('missing');
      });

      it('an OTP stops counting at its attempt limit and at its expiry', async () => {
        const base = {
          storeId,
          action: 'login' as const,
          channel: 'sms' as const,
          identifier: '+15550101',
          userId: null,
          codeHash: 'right',
          attempts: 0,
          consumedAt: null,
          redeemedAt: null,
          payload: {},
          createdAt: T0,
        };
        const limited = randomId(32);
        await store.createOtp({ ...base, id: limited, expiresAt: T0 + 60_000 }, null);
        expect((await store.attemptOtp(limited, 'wrong', T0, 2)).outcome).toBe('wrong_code');
        expect((await store.attemptOtp(limited, 'wrong', T0, 2)).outcome).toBe('wrong_code');
        expect((await other.attemptOtp(limited, 'right', T0, 2)).outcome).toBe('exhausted');
        const expiring = randomId(32);
        await store.createOtp({ ...base, id: expiring, expiresAt: T0 + 10 }, null);
        expect((await store.attemptOtp(expiring, 'right', T0 + 10, 5)).outcome).toBe('expired');
      });

      it('a verified OTP is redeemed by exactly one of 20 concurrent redemptions, only once verified and before expiry', async () => {
        const otp = (id: string) => otpRecord({ id, action: 'reset-password', payload: {} });
        const id = randomId(32);
        await store.createOtp(otp(id), null);
        expect((await store.redeemOtp(id, T0 + 1)).outcome).toBe('unverified');
        expect((await store.attemptOtp(id, 'right', T0 + 2, 5)).outcome).toBe('verified');
        const outcomes = await Promise.all(
          Array.from({ length: 20 }, (_, i) => (i % 2 ? other : store).redeemOtp(id, T0 + 3)),
        );
        expect(outcomes.filter((o) => o.outcome === 'redeemed')).toHaveLength(1);
        expect(outcomes.filter((o) => o.outcome === 'already_redeemed')).toHaveLength(19);
        const redeemed = outcomes.find((o) => o.outcome === 'redeemed');
        expect(redeemed && 'record' in redeemed ? redeemed.record.redeemedAt : null).toBe(T0 + 3);

        const late = randomId(32);
        await store.createOtp(otp(late), null);
        expect((await store.attemptOtp(late, 'right', T0 + 2, 5)).outcome).toBe('verified');
        expect((await other.redeemOtp(late, T0 + 60_000)).outcome).toBe('expired');
        expect((await store.redeemOtp('missing', T0)).outcome).toBe('missing');
      });

      it('a profile image is stored, replaced, read by another handle, deleted, and deleted with its user', async () => {
        const a = account();
        expect(await store.createAccount(a)).toBe(true);
        const image = {
          userId: a.user.id,
          storeId,
          contentType: 'image/png' as const,
          bytes: new Uint8Array([0x89, 0x50, 0x4e, 0x47, 0, 1, 2, 255]),
          etag: '"first"',
          createdAt: T0,
          modifiedAt: T0,
        };
        expect(await store.putProfileImage(image, true)).toBe(false);
        expect(await other.getProfileImage(a.user.id)).toBeNull();
        expect(await store.putProfileImage(image, false)).toBe(true);
        expect(await other.getProfileImage(a.user.id)).toEqual(image);
        expect((await other.getAccount(a.user.id))?.profileImageEtag).toBe('"first"');
        const replaced = {
          ...image,
          contentType: 'image/gif' as const,
          bytes: new Uint8Array([71, 73, 70]),
          etag: '"second"',
          modifiedAt: T0 + 1,
        };
        expect(await other.putProfileImage(replaced, true)).toBe(true);
        expect(await store.getProfileImage(a.user.id)).toEqual(replaced);
        expect(await store.putProfileImage({ ...replaced, etag: '"third"', createdAt: T0 + 2 }, false)).toBe(
          true,
        );
        expect((await store.getProfileImage(a.user.id))?.createdAt).toBe(T0);
        expect(await store.deleteProfileImage(a.user.id)).toBe(true);
        expect(await other.deleteProfileImage(a.user.id)).toBe(false);
        expect((await store.getAccount(a.user.id))?.profileImageEtag).toBeNull();

        expect(await store.putProfileImage(image, false)).toBe(true);
        expect(await store.deleteUser(a.user.id)).toBe(true);
        expect(await other.getProfileImage(a.user.id)).toBeNull();
        // Nobody's image: refused, nothing stored.
        expect(await store.putProfileImage(image, false)).toBe(false);
        expect(await other.getProfileImage(a.user.id)).toBeNull();
      });
    });

    it('accepts a DPoP proof (key, jti) once, from any handle, until it is purged', async () => {
      const jti = randomId(16);
      const results = await Promise.all([
        store.recordDpopProof('jkt-1', jti, T0 + 60_000),
        other.recordDpopProof('jkt-1', jti, T0 + 60_000),
        store.recordDpopProof('jkt-1', jti, T0 + 60_000),
      ]);
      expect(results.filter(Boolean)).toHaveLength(1);
      expect(await other.recordDpopProof('jkt-1', jti, T0 + 60_000)).toBe(false);
      // The same jti under another key is another proof.
      expect(await store.recordDpopProof('jkt-2', jti, T0 + 60_000)).toBe(true);
      const operator = store.operator();
      expect((await operator.purgeBatch('dpop_proofs', T0 + 59_999, 10, DAY)).deleted).toBe(0);
      expect((await operator.purgeBatch('dpop_proofs', T0 + 60_000, 10, DAY)).deleted).toBeGreaterThanOrEqual(
        2,
      );
      expect(await store.recordDpopProof('jkt-1', jti, T0 + 120_000)).toBe(true);
    });

    it('store settings default to off and round-trip', async () => {
      const id = `x${randomId(4).toLowerCase()}`;
      await store.createStore({ id, name: id, createdAt: T0 });
      expect(await store.getStoreSettings(id)).toEqual({
        otpDebug: false,
        audience: null,
        requireDpop: false,
      });
      await store.setStoreSettings(id, {
        otpDebug: true,
        audience: 'https://api.shop.example',
        requireDpop: true,
      });
      expect(await other.getStoreSettings(id)).toEqual({
        otpDebug: true,
        audience: 'https://api.shop.example',
        requireDpop: true,
      });
      await store.setStoreSettings(id, { otpDebug: true, audience: null, requireDpop: false });
      expect(await other.getStoreSettings(id)).toEqual({
        otpDebug: true,
        audience: null,
        requireDpop: false,
      });
    });

    it('store limits: none until set, set and replaced per store, cleared back to none', async () => {
      const [a, b] = [`l${randomId(4).toLowerCase()}`, `l${randomId(4).toLowerCase()}`];
      await store.createStore({ id: a, name: a, createdAt: T0 });
      await store.createStore({ id: b, name: b, createdAt: T0 });
      expect(await store.getStoreLimits(a)).toEqual({});
      await store.setStoreLimit(a, 'anonymous', 600);
      await store.setStoreLimit(a, 'otpPerAddress', 0);
      await other.setStoreLimit(a, 'anonymous', 900);
      await store.setStoreLimit(b, 'anonymous', 1);
      expect(await other.getStoreLimits(a)).toEqual({ anonymous: 900, otpPerAddress: 0 });
      expect(await store.getStoreLimits(b)).toEqual({ anonymous: 1 });
      await store.setStoreLimit(a, 'anonymous', null);
      expect(await other.getStoreLimits(a)).toEqual({ otpPerAddress: 0 });
      await store.setStoreLimit(a, 'anonymous', 1_000_000_000);
      expect((await store.getStoreLimits(a))['anonymous']).toBe(1_000_000_000);
    });
  });
}
