import BetterSqlite3 from 'better-sqlite3';
import type * as model from '../../model.js';
import type {
  ClaimOutcome,
  Database,
  OtpAttempt,
  OtpRedemption,
  RotateInput,
  RotateResult,
  UserUpdateOutcome,
} from '../contract.js';
import { GroupCommit } from '../group-commit.js';
import type { OperatorStore } from '../operator.js';
import * as mapping from '../rows.js';
import { type BackgroundCheckpointer, tuneServingConnection } from './checkpointer.js';
import { sqliteDialect as D } from './dialect.js';
import { prepareDatabaseFile } from './file-mode.js';
import { SQLITE_MIGRATIONS } from './migrations.js';
import { SqliteOperator } from './operator.js';

export interface SqliteOptions {
  /** File path, or `:memory:`. Relative paths resolve against the working directory. */
  path: string;
  /**
   * NORMAL (default): with WAL, a committed refresh survives a crash of this process; only an
   * operating-system crash or power loss can drop the last transactions. FULL also survives that,
   * at the cost of an fsync on every commit. See docs/storage.md.
   */
  synchronous?: 'NORMAL' | 'FULL';
}

export class SqliteDatabase implements Database {
  readonly sqlite: BetterSqlite3.Database;
  readonly checkpointer: BackgroundCheckpointer | undefined;
  private prepared: ReturnType<SqliteDatabase['prepare']> | undefined;

  constructor(options: SqliteOptions) {
    prepareDatabaseFile(options.path);
    this.sqlite = new BetterSqlite3(options.path);
    this.sqlite.pragma('journal_mode = WAL');
    const synchronous = options.synchronous === 'FULL' ? 'FULL' : 'NORMAL';
    this.sqlite.pragma(`synchronous = ${synchronous}`);
    this.sqlite.pragma('foreign_keys = ON');
    // Several processes may share the file (CLI beside a server): wait for the writer, do not fail.
    this.sqlite.pragma('busy_timeout = 5000');
    this.checkpointer = tuneServingConnection(this.sqlite, options.path, synchronous);
  }

  operator(): OperatorStore {
    return new SqliteOperator(this.sqlite, this.checkpointer);
  }

  private get q() {
    this.prepared ??= this.prepare();
    return this.prepared;
  }

  private prepare() {
    const statements = this.prepareStatements();
    // A won swap answers its row, with the copy of its user the row holds (migration 13), through
    // RETURNING: one statement. A lost swap reads the session as it is now. A group of them is one
    // immediate transaction.
    const rotateOne = (i: RotateInput): RotateResult | null => {
      const swapped = statements.rotate.get({ ...i, jkt: i.jkt ?? null }) as mapping.Row | undefined;
      const row = swapped ?? (statements.getRotated.get(i.sessionId) as mapping.Row | undefined);
      return row
        ? {
            rotated: swapped !== undefined,
            session: mapping.sessionFromRow(row),
            user: mapping.userFromSubject(row['subject'], D),
          }
        : null;
    };
    // Built once: better-sqlite3 wraps a new function per transaction() call.
    const rotateGroup = this.sqlite.transaction((inputs: RotateInput[]) => inputs.map(rotateOne));
    // The new session and the revocations of the user's oldest past `keep`, in one transaction.
    const openSession = this.sqlite.transaction((session: model.SessionRecord, keep?: number) => {
      statements.createSession.run(...mapping.sessionValues(session));
      if (keep === undefined) return 0;
      return statements.revokeBeyondNewest.run(session.createdAt, session.userId, keep).changes;
    });
    return { ...statements, rotateGroup, openSession };
  }

  private prepareStatements() {
    const db = this.sqlite;
    return {
      getStore: db.prepare(`SELECT ${mapping.STORE_COLUMNS} FROM stores WHERE id = ?`),
      createStore: db.prepare(
        `INSERT INTO stores (${mapping.STORE_COLUMNS}) VALUES (${mapping.params(D, 3)}) ON CONFLICT (id) DO NOTHING`,
      ),
      addApiKey: db.prepare(
        `INSERT INTO api_keys (${mapping.API_KEY_COLUMNS}) VALUES (${mapping.params(D, mapping.API_KEY_COLUMN_COUNT)})`,
      ),
      findApiKey: db.prepare(
        `SELECT ${mapping.API_KEY_COLUMNS} FROM api_keys WHERE store_id = ? AND key_hash = ? AND revoked_at IS NULL`,
      ),
      listSigningKeys: db.prepare(
        `SELECT ${mapping.SIGNING_KEY_COLUMNS} FROM signing_keys WHERE store_id = ? ORDER BY created_at, kid`,
      ),
      addSigningKey: db.prepare(
        `INSERT INTO signing_keys (${mapping.SIGNING_KEY_COLUMNS}) VALUES (${mapping.params(D, 8)})`,
      ),
      createUser: db.prepare(`INSERT INTO users (${mapping.USER_COLUMNS}) VALUES (${mapping.params(D, 14)})`),
      getUser: db.prepare(`SELECT ${mapping.USER_COLUMNS} FROM users WHERE id = ?`),
      createSession: db.prepare(
        `INSERT INTO sessions (${mapping.SESSION_COLUMNS}) VALUES (${mapping.params(D, mapping.SESSION_COLUMN_COUNT)})`,
      ),
      getSession: db.prepare(
        `SELECT ${mapping.SESSION_COLUMNS_AS_S}, ${mapping.USER_COLUMNS_OF_U} FROM sessions s JOIN users u ON u.id = s.user_id WHERE s.id = ?`,
      ),
      getRotated: db.prepare(`SELECT ${mapping.SESSION_COLUMNS}, subject FROM sessions WHERE id = ?`),
      // The compare-and-swap: no row answered means another request won, or the session is over.
      rotate: db.prepare(
        `UPDATE sessions
            SET generation = generation + 1, rotated_at = @now,
                idle_expires_at = MIN(@idleExpiresAt, absolute_expires_at)
          WHERE id = @sessionId AND generation = @generation AND revoked_at IS NULL
            AND store_id = @storeId AND user_id = @userId
            AND idle_expires_at > @now AND absolute_expires_at > @now
            AND (jkt IS NULL OR jkt = @jkt)
        RETURNING ${mapping.SESSION_COLUMNS}, subject`,
      ),
      revokeBeyondNewest: db.prepare(mapping.REVOKE_BEYOND_NEWEST(D)),
      recordDpopProof: db.prepare(mapping.INSERT_DPOP_PROOF(D)),
      revoke: db.prepare(
        'UPDATE sessions SET revoked_at = ?, revoked_reason = ? WHERE id = ? AND revoked_at IS NULL',
      ),
      addEvent: db.prepare(
        `INSERT INTO security_events (${mapping.SECURITY_EVENT_COLUMNS}) VALUES (${mapping.params(D, 6)})`,
      ),
      ...this.prepareCustomers(),
    };
  }

  private prepareCustomers() {
    const db = this.sqlite;
    return {
      getStoreSettings: db.prepare(`SELECT ${mapping.STORE_SETTINGS_COLUMNS} FROM stores WHERE id = ?`),
      setStoreSettings: db.prepare(mapping.SET_STORE_SETTINGS(D)),
      getStoreLimits: db.prepare('SELECT name, value FROM store_limits WHERE store_id = ?'),
      setStoreLimit: db.prepare(
        `INSERT INTO store_limits (store_id, name, value) VALUES (?, ?, ?)
           ON CONFLICT (store_id, name) DO UPDATE SET value = excluded.value`,
      ),
      clearStoreLimit: db.prepare('DELETE FROM store_limits WHERE store_id = ? AND name = ?'),
      // DO NOTHING on any unique index: the id, or the store's customer email or phone.
      createAccount: db.prepare(
        `INSERT INTO users (${mapping.ACCOUNT_COLUMNS}) VALUES (${mapping.params(D, 18)}) ON CONFLICT DO NOTHING`,
      ),
      getAccount: db.prepare(`SELECT ${mapping.ACCOUNT_SELECT} FROM users WHERE id = ? AND is_anonymous = 0`),
      findByEmail: db.prepare(
        `SELECT ${mapping.ACCOUNT_SELECT} FROM users
          WHERE store_id = ? AND email = ? AND is_anonymous = 0 AND is_email_verified = 1`,
      ),
      findByPhone: db.prepare(
        `SELECT ${mapping.ACCOUNT_SELECT} FROM users
          WHERE store_id = ? AND country_code = ? AND phone = ? AND is_anonymous = 0 AND is_phone_verified = 1`,
      ),
      setPassword: db.prepare('UPDATE users SET password_hash = ?, modified_at = ? WHERE id = ?'),
      deactivate: db.prepare("UPDATE users SET status = 'deactivated', modified_at = ? WHERE id = ?"),
      deleteUser: db.prepare('DELETE FROM users WHERE id = ?'),
      revokeUserSessions: db.prepare(
        `UPDATE sessions SET revoked_at = @now, revoked_reason = @reason
          WHERE user_id = @userId AND revoked_at IS NULL AND id IS NOT @except`,
      ),
      createOtp: db.prepare(
        `INSERT INTO otps (${mapping.OTP_COLUMNS}) VALUES (${mapping.params(D, mapping.OTP_COLUMN_COUNT)})`,
      ),
      // One statement decides the attempt: counted only while the OTP is alive, consumed only when
      // the code matches. Concurrent attempts serialize on the row; at most one consumes it.
      attemptOtp: db.prepare(
        `UPDATE otps
            SET attempts = attempts + 1,
                consumed_at = CASE WHEN code_hash = @codeHash THEN @now ELSE NULL END
          WHERE id = @id AND consumed_at IS NULL AND attempts < @maxAttempts AND expires_at > @now
          RETURNING ${mapping.OTP_COLUMNS}`,
      ),
      getOtp: db.prepare(`SELECT ${mapping.OTP_COLUMNS} FROM otps WHERE id = ?`),
      redeemOtp: db.prepare(
        `UPDATE otps SET redeemed_at = @now
          WHERE id = @id AND consumed_at IS NOT NULL AND redeemed_at IS NULL AND expires_at > @now
          RETURNING ${mapping.OTP_COLUMNS}`,
      ),
      getProfileImage: db.prepare(
        `SELECT ${mapping.PROFILE_IMAGE_COLUMNS} FROM profile_images WHERE user_id = ?`,
      ),
      insertProfileImage: db.prepare(mapping.profileImageStatement(false, D)),
      replaceProfileImage: db.prepare(mapping.profileImageStatement(true, D)),
      deleteProfileImage: db.prepare('DELETE FROM profile_images WHERE user_id = ?'),
      getBackoff: db.prepare(mapping.GET_BACKOFF(D)),
      setBackoff: db.prepare(mapping.SET_BACKOFF(D)),
      clearBackoff: db.prepare(mapping.CLEAR_BACKOFF(D)),
      insertOutbox: db.prepare(mapping.INSERT_OUTBOX(D)),
      claimOutbox: db.prepare(mapping.CLAIM_OUTBOX(D)),
      retryOutbox: db.prepare(mapping.RETRY_OUTBOX(D)),
      finishOutbox: db.prepare(mapping.FINISH_OUTBOX(D)),
    };
  }

  async migrate(): Promise<void> {
    const db = this.sqlite;
    db.exec(`CREATE TABLE IF NOT EXISTS schema_migrations (
      version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at INTEGER NOT NULL)`);
    // IMMEDIATE takes the write lock first, so two processes starting at once migrate one at a time.
    const apply = db.transaction(() => {
      const done = new Set(
        (db.prepare('SELECT version FROM schema_migrations').all() as mapping.Row[]).map((r) => r['version']),
      );
      for (const m of SQLITE_MIGRATIONS) {
        if (done.has(m.version)) continue;
        db.exec(m.sql);
        db.prepare('INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)').run(
          m.version,
          m.name,
          Date.now(),
        );
      }
    });
    apply.immediate();
  }

  async close(): Promise<void> {
    await this.checkpointer?.close();
    if (this.sqlite.open) this.sqlite.close();
  }

  async getStore(id: string): Promise<model.StoreRecord | null> {
    const row = this.q.getStore.get(id) as mapping.Row | undefined;
    return row ? mapping.storeFromRow(row) : null;
  }

  async createStore(store: model.StoreRecord): Promise<boolean> {
    return this.q.createStore.run(...mapping.storeValues(store)).changes === 1;
  }

  async addApiKey(key: model.ApiKeyRecord): Promise<void> {
    this.q.addApiKey.run(...mapping.apiKeyValues(key));
  }

  async findApiKey(storeId: string, keyHash: string): Promise<model.ApiKeyRecord | null> {
    const row = this.q.findApiKey.get(storeId, keyHash) as mapping.Row | undefined;
    return row ? mapping.apiKeyFromRow(row) : null;
  }

  async listSigningKeys(storeId: string): Promise<model.SigningKeyRecord[]> {
    return (this.q.listSigningKeys.all(storeId) as mapping.Row[]).map(mapping.signingKeyFromRow);
  }

  async addSigningKey(key: model.SigningKeyRecord): Promise<void> {
    this.q.addSigningKey.run(...mapping.signingKeyValues(key));
  }

  async createUser(user: model.UserRecord): Promise<void> {
    this.q.createUser.run(...mapping.userValues(user, D));
  }

  async getUser(id: string): Promise<model.UserRecord | null> {
    const row = this.q.getUser.get(id) as mapping.Row | undefined;
    return row ? mapping.userFromRow(row, D) : null;
  }

  async createSession(session: model.SessionRecord, keep?: number): Promise<number> {
    return this.q.openSession(session, keep);
  }

  async getSession(id: string): Promise<model.SessionWithUser | null> {
    const row = this.q.getSession.get(id) as mapping.Row | undefined;
    return row ? { session: mapping.sessionFromRow(row, 's_'), user: mapping.userFromRow(row, D) } : null;
  }

  /** Grouped with the rotations arriving in the same turn of the event loop (group-commit.ts). */
  rotateSession(input: RotateInput): Promise<RotateResult | null> {
    return this.rotations.submit(input);
  }

  private readonly rotations = new GroupCommit<RotateInput, RotateResult | null>(
    async (inputs) => this.rotateSessions(inputs),
    // better-sqlite3 runs the group synchronously: one is all there can be in flight.
    { maxInFlight: 1, maxGroup: 256 },
  );

  /**
   * Several rotations in one transaction, in order, as if made one after another: one write lock
   * and one append to the WAL for the group. All or none: if the transaction fails, every rotation
   * of the group fails with it.
   */
  rotateSessions(inputs: RotateInput[]): Array<RotateResult | null> {
    return this.q.rotateGroup.immediate(inputs);
  }

  async revokeSession(id: string, reason: model.RevokeReason, now: number): Promise<boolean> {
    return this.q.revoke.run(now, reason, id).changes === 1;
  }

  async recordDpopProof(jkt: string, jti: string, expiresAt: number): Promise<boolean> {
    return this.q.recordDpopProof.run(jkt, jti, expiresAt).changes === 1;
  }

  async recordSecurityEvent(e: model.SecurityEvent): Promise<void> {
    this.q.addEvent.run(...mapping.securityEventValues(e));
  }

  async getStoreSettings(storeId: string): Promise<model.StoreSettings> {
    return mapping.storeSettingsFromRow(this.q.getStoreSettings.get(storeId) as mapping.Row | undefined, D);
  }

  async setStoreSettings(storeId: string, settings: model.StoreSettings): Promise<void> {
    this.q.setStoreSettings.run(...mapping.storeSettingsValues(settings, D), storeId);
  }

  async getStoreLimits(storeId: string): Promise<Record<string, number>> {
    return mapping.storeLimitsFromRows(this.q.getStoreLimits.all(storeId) as mapping.Row[]);
  }

  async setStoreLimit(storeId: string, name: string, value: number | null): Promise<void> {
    if (value === null) this.q.clearStoreLimit.run(storeId, name);
    else this.q.setStoreLimit.run(storeId, name, value);
  }

  async createAccount(account: model.UserAccount): Promise<boolean> {
    return this.q.createAccount.run(...mapping.accountValues(account, D)).changes === 1;
  }

  async getAccount(userId: string): Promise<model.UserAccount | null> {
    const row = this.q.getAccount.get(userId) as mapping.Row | undefined;
    return row ? mapping.accountFromRow(row, D) : null;
  }

  async findAccountByEmail(storeId: string, email: string): Promise<model.UserAccount | null> {
    const row = this.q.findByEmail.get(storeId, email) as mapping.Row | undefined;
    return row ? mapping.accountFromRow(row, D) : null;
  }

  async findAccountByPhone(
    storeId: string,
    countryCode: string,
    phone: string,
  ): Promise<model.UserAccount | null> {
    const row = this.q.findByPhone.get(storeId, countryCode, phone) as mapping.Row | undefined;
    return row ? mapping.accountFromRow(row, D) : null;
  }

  async updateUser(userId: string, patch: model.UserPatch, now: number): Promise<UserUpdateOutcome> {
    const { text, values } = mapping.userPatchStatement(userId, patch, now, D);
    try {
      return this.sqlite.prepare(text).run(...values).changes === 1 ? 'updated' : 'missing';
    } catch (error) {
      if ((error as { code?: string }).code === 'SQLITE_CONSTRAINT_UNIQUE') return 'conflict';
      throw error;
    }
  }

  async claimIdentifier(userId: string, identifier: model.Identifier, now: number): Promise<ClaimOutcome> {
    const { release, claim } = mapping.claimStatements(userId, identifier, now, D);
    const db = this.sqlite;
    const run = db.transaction((): ClaimOutcome => {
      const released = db.prepare(release.text).all(...release.values) as mapping.Row[];
      if (db.prepare(claim.text).run(...claim.values).changes !== 1) throw new ClaimMissing();
      return { outcome: 'claimed', releasedFrom: released.map((r) => String(r['id'])) };
    });
    try {
      return run.immediate();
    } catch (error) {
      if (error instanceof ClaimMissing) return { outcome: 'missing' };
      if ((error as { code?: string }).code === 'SQLITE_CONSTRAINT_UNIQUE') return { outcome: 'conflict' };
      throw error;
    }
  }

  async setPasswordHash(userId: string, passwordHash: string, now: number): Promise<boolean> {
    return this.q.setPassword.run(passwordHash, now, userId).changes === 1;
  }

  async deactivateUser(userId: string, now: number): Promise<boolean> {
    const q = this.q;
    const run = this.sqlite.transaction(() => {
      if (q.deactivate.run(now, userId).changes !== 1) return false;
      q.revokeUserSessions.run({ userId, now, reason: 'user_deactivated', except: null });
      return true;
    });
    return run.immediate();
  }

  async deleteUser(userId: string): Promise<boolean> {
    return this.q.deleteUser.run(userId).changes === 1;
  }

  async revokeUserSessions(
    userId: string,
    reason: model.RevokeReason,
    now: number,
    exceptSessionId?: string,
  ): Promise<number> {
    return this.q.revokeUserSessions.run({ userId, now, reason, except: exceptSessionId ?? null }).changes;
  }

  async createOtp(otp: model.OtpRecord, delivery: model.OutboxMessage | null): Promise<void> {
    const q = this.q;
    this.sqlite.transaction(() => {
      q.createOtp.run(...mapping.otpValues(otp));
      if (delivery) q.insertOutbox.run(...mapping.outboxValues(delivery));
    })();
  }

  async attemptOtp(id: string, codeHash: string, now: number, maxAttempts: number): Promise<OtpAttempt> {
    const q = this.q;
    const run = this.sqlite.transaction((): OtpAttempt => {
      const updated = q.attemptOtp.get({ id, codeHash, now, maxAttempts }) as mapping.Row | undefined;
      if (updated) return mapping.countedOtpAttempt(updated, D);
      return mapping.refusedOtpAttempt(q.getOtp.get(id) as mapping.Row | undefined, maxAttempts, D);
    });
    return run.immediate();
  }

  async redeemOtp(id: string, now: number): Promise<OtpRedemption> {
    const q = this.q;
    const run = this.sqlite.transaction((): OtpRedemption => {
      const updated = q.redeemOtp.get({ id, now }) as mapping.Row | undefined;
      if (updated) return { outcome: 'redeemed', record: mapping.otpFromRow(updated, D) };
      return mapping.refusedOtpRedemption(q.getOtp.get(id) as mapping.Row | undefined, now, D);
    });
    return run.immediate();
  }

  async getProfileImage(userId: string): Promise<model.ProfileImageRecord | null> {
    const row = this.q.getProfileImage.get(userId) as mapping.Row | undefined;
    return row ? mapping.profileImageFromRow(row) : null;
  }

  async putProfileImage(image: model.ProfileImageRecord, replace: boolean): Promise<boolean> {
    const statement = replace ? this.q.replaceProfileImage : this.q.insertProfileImage;
    try {
      return statement.run(...mapping.profileImageParams(replace, image)).changes === 1;
    } catch (error) {
      // The user (or store) is gone: the foreign key refuses an image nobody owns.
      if ((error as { code?: string }).code === 'SQLITE_CONSTRAINT_FOREIGNKEY') return false;
      throw error;
    }
  }

  async deleteProfileImage(userId: string): Promise<boolean> {
    return this.q.deleteProfileImage.run(userId).changes === 1;
  }

  async findOtp(id: string): Promise<model.OtpRecord | null> {
    const row = this.q.getOtp.get(id) as mapping.Row | undefined;
    return row ? mapping.otpFromRow(row, D) : null;
  }

  async getBackoff(storeId: string, key: string): Promise<model.BackoffState> {
    return mapping.backoffFromRow(this.q.getBackoff.get(storeId, key) as mapping.Row | undefined);
  }

  async setBackoff(
    storeId: string,
    key: string,
    expectedFailures: number,
    next: model.BackoffState,
  ): Promise<boolean> {
    return (
      this.q.setBackoff.run(storeId, key, next.failures, next.nextAttemptAt, expectedFailures).changes === 1
    );
  }

  async clearBackoff(storeId: string, key: string): Promise<void> {
    this.q.clearBackoff.run(storeId, key);
  }

  async claimOutbox(now: number, limit: number, leaseUntil: number): Promise<model.OutboxMessage[]> {
    const q = this.q;
    const rows = this.sqlite
      .transaction(() => q.claimOutbox.all(leaseUntil, now, limit) as mapping.Row[])
      .immediate();
    return rows.map((row) => mapping.outboxFromRow(row, D));
  }

  async retryOutbox(id: string, nextAttemptAt: number): Promise<void> {
    this.q.retryOutbox.run(nextAttemptAt, id);
  }

  async finishOutbox(id: string, outcome: 'delivered' | 'failed', now: number): Promise<boolean> {
    return this.q.finishOutbox.run(now, outcome, id).changes === 1;
  }
}

/** Thrown inside claimIdentifier's transaction to roll back what it released. */
class ClaimMissing extends Error {}
