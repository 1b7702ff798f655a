import { resolve } from 'node:path';
import Database from 'better-sqlite3';
import type {
  ApiKeyRecord,
  OtpAttempt,
  OtpRecord,
  RevokeReason,
  RotateInput,
  RotateResult,
  SecurityEvent,
  SessionRecord,
  SessionStore,
  SessionWithUser,
  SigningKeyRecord,
  StoreRecord,
  StoreSettings,
  UserAccount,
  UserPatch,
  UserRecord,
} from '../contract.js';
import { GroupCommit } from '../group-commit.js';
import { apiKeyFromRow } from '../rows.js';
import { prepareDatabaseFile } from './file-mode.js';
import { SQLITE_MIGRATIONS } from './migrations.js';

type Row = Record<string, unknown>;

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

/** Parses `sqlite:<path>`; answers null for other URLs. */
export function sqlitePathFromUrl(url: string): string | null {
  if (!url.startsWith('sqlite:')) return null;
  const rest = url.slice('sqlite:'.length).replace(/^\/\/(?=\/)/, '');
  return rest === ':memory:' ? rest : resolve(rest);
}

const SESSION_COLUMNS = `s.id AS s_id, s.store_id AS s_store_id, s.user_id AS s_user_id,
  s.anonymous_id AS s_anonymous_id, s.generation AS s_generation, s.created_at AS s_created_at,
  s.rotated_at AS s_rotated_at, s.idle_expires_at AS s_idle_expires_at,
  s.absolute_expires_at AS s_absolute_expires_at, s.revoked_at AS s_revoked_at,
  s.revoked_reason AS s_revoked_reason`;

export class SqliteSessionStore implements SessionStore {
  readonly db: Database.Database;
  private prepared: ReturnType<SqliteSessionStore['prepare']> | undefined;

  constructor(options: SqliteOptions) {
    prepareDatabaseFile(options.path);
    this.db = new Database(options.path);
    this.db.pragma('journal_mode = WAL');
    this.db.pragma(`synchronous = ${options.synchronous === 'FULL' ? 'FULL' : 'NORMAL'}`);
    this.db.pragma('foreign_keys = ON');
    // Several processes may share the file (CLI beside a server): wait for the writer, do not fail.
    this.db.pragma('busy_timeout = 5000');
  }

  private get q() {
    this.prepared ??= this.prepare();
    return this.prepared;
  }

  private prepare() {
    const statements = this.prepareStatements();
    // Each rotation updates and reads back; a group of them is one immediate transaction.
    const rotateOne = (i: RotateInput): RotateResult | null => {
      const rotated = statements.rotate.run(i).changes === 1;
      const row = statements.getSession.get(i.sessionId) as Row | undefined;
      return row ? { rotated, session: sessionFromRow(row), user: userFromRow(row) } : null;
    };
    // Built once: better-sqlite3 wraps a new function per transaction() call.
    const rotateGroup = this.db.transaction((inputs: RotateInput[]) => inputs.map(rotateOne));
    return { ...statements, rotateGroup };
  }

  private prepareStatements() {
    const db = this.db;
    return {
      getStore: db.prepare('SELECT * FROM stores WHERE id = ?'),
      createStore: db.prepare(
        'INSERT INTO stores (id, name, created_at) VALUES (?, ?, ?) ON CONFLICT (id) DO NOTHING',
      ),
      addApiKey: db.prepare(
        `INSERT INTO api_keys (id, store_id, key_hash, kind, created_at, revoked_at, label, key_prefix)
         VALUES (@id, @storeId, @keyHash, @kind, @createdAt, @revokedAt, @label, @prefix)`,
      ),
      findApiKey: db.prepare(
        'SELECT * FROM api_keys WHERE store_id = ? AND key_hash = ? AND revoked_at IS NULL',
      ),
      listSigningKeys: db.prepare('SELECT * FROM signing_keys WHERE store_id = ? ORDER BY created_at, kid'),
      addSigningKey: db.prepare(
        `INSERT INTO signing_keys (kid, store_id, use, alg, private_jwk, created_at, rotated_at, retired_at)
         VALUES (@kid, @storeId, @use, @alg, @privateJwk, @createdAt, @rotatedAt, @retiredAt)`,
      ),
      createUser: db.prepare(
        `INSERT INTO users (id, store_id, is_anonymous, email, phone, country_code, first_name, last_name,
           customer_id, customer_group_id, is_email_verified, is_phone_verified, created_at, modified_at)
         VALUES (@id, @storeId, @isAnonymous, @email, @phone, @countryCode, @firstName, @lastName,
           @customerId, @customerGroupId, @isEmailVerified, @isPhoneVerified, @createdAt, @modifiedAt)`,
      ),
      getUser: db.prepare('SELECT * FROM users WHERE id = ?'),
      createSession: db.prepare(
        `INSERT INTO sessions (id, store_id, user_id, anonymous_id, generation, created_at, rotated_at,
           idle_expires_at, absolute_expires_at, revoked_at, revoked_reason)
         VALUES (@id, @storeId, @userId, @anonymousId, @generation, @createdAt, @rotatedAt,
           @idleExpiresAt, @absoluteExpiresAt, @revokedAt, @revokedReason)`,
      ),
      getSession: db.prepare(
        `SELECT ${SESSION_COLUMNS}, u.* FROM sessions s JOIN users u ON u.id = s.user_id WHERE s.id = ?`,
      ),
      // The compare-and-swap: zero rows changed means another request won, or the session is over.
      rotate: db.prepare(
        `UPDATE sessions
            SET generation = generation + 1, rotated_at = @now,
                idle_expires_at = MIN(@idleExpiresAt, absolute_expires_at)
          WHERE id = @sessionId AND generation = @generation AND revoked_at IS NULL
            AND idle_expires_at > @now AND absolute_expires_at > @now`,
      ),
      revoke: db.prepare(
        'UPDATE sessions SET revoked_at = ?, revoked_reason = ? WHERE id = ? AND revoked_at IS NULL',
      ),
      addEvent: db.prepare(
        `INSERT INTO security_events (store_id, type, session_id, user_id, detail, created_at)
         VALUES (?, ?, ?, ?, ?, ?)`,
      ),
      ...this.prepareCustomers(),
    };
  }

  private prepareCustomers() {
    const db = this.db;
    return {
      getStoreSettings: db.prepare('SELECT otp_debug FROM stores WHERE id = ?'),
      setStoreSettings: db.prepare('UPDATE stores SET otp_debug = ? WHERE id = ?'),
      createAccount: db.prepare(
        `INSERT INTO users (id, store_id, is_anonymous, email, phone, country_code, first_name, last_name,
           customer_id, customer_group_id, is_email_verified, is_phone_verified, created_at, modified_at,
           password_hash, status, login_methods, notification_preferences)
         VALUES (@id, @storeId, 0, @email, @phone, @countryCode, @firstName, @lastName,
           @customerId, @customerGroupId, @isEmailVerified, @isPhoneVerified, @createdAt, @modifiedAt,
           @passwordHash, @status, @loginMethods, @notificationPreferences)
         ON CONFLICT DO NOTHING`,
      ),
      findByEmail: db.prepare('SELECT * FROM users WHERE store_id = ? AND email = ? AND is_anonymous = 0'),
      findByPhone: db.prepare(
        'SELECT * FROM users WHERE store_id = ? AND country_code = ? AND phone = ? AND is_anonymous = 0',
      ),
      setPassword: db.prepare('UPDATE users SET password_hash = ?, modified_at = ? WHERE id = ?'),
      deactivate: db.prepare("UPDATE users SET status = 'deactivated', modified_at = ? WHERE id = ?"),
      deleteUser: db.prepare('DELETE FROM users WHERE id = ?'),
      revokeUserSessions: db.prepare(
        `UPDATE sessions SET revoked_at = @now, revoked_reason = @reason
          WHERE user_id = @userId AND revoked_at IS NULL AND id IS NOT @except`,
      ),
      createOtp: db.prepare(
        `INSERT INTO otps (id, store_id, action, channel, identifier, user_id, code_hash, attempts,
           expires_at, consumed_at, payload, created_at)
         VALUES (@id, @storeId, @action, @channel, @identifier, @userId, @codeHash, @attempts,
           @expiresAt, @consumedAt, @payload, @createdAt)`,
      ),
      // One statement decides the attempt: counted only while the OTP is alive, consumed only when
      // the code matches. Concurrent attempts serialize on the row; at most one consumes it.
      attemptOtp: db.prepare(
        `UPDATE otps
            SET attempts = attempts + 1,
                consumed_at = CASE WHEN code_hash = @codeHash THEN @now ELSE NULL END
          WHERE id = @id AND consumed_at IS NULL AND attempts < @maxAttempts AND expires_at > @now
          RETURNING *`,
      ),
      getOtp: db.prepare('SELECT * FROM otps WHERE id = ?'),
    };
  }

  async migrate(): Promise<void> {
    const db = this.db;
    db.exec(`CREATE TABLE IF NOT EXISTS schema_migrations (
      version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at INTEGER NOT NULL)`);
    // IMMEDIATE takes the write lock first, so two processes starting at once migrate one at a time.
    const apply = db.transaction(() => {
      const done = new Set(
        (db.prepare('SELECT version FROM schema_migrations').all() as Row[]).map((r) => r['version']),
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
    if (this.db.open) this.db.close();
  }

  async getStore(id: string): Promise<StoreRecord | null> {
    const row = this.q.getStore.get(id) as Row | undefined;
    return row
      ? { id: row['id'] as string, name: row['name'] as string, createdAt: row['created_at'] as number }
      : null;
  }

  async createStore(store: StoreRecord): Promise<boolean> {
    return this.q.createStore.run(store.id, store.name, store.createdAt).changes === 1;
  }

  async addApiKey(key: ApiKeyRecord): Promise<void> {
    this.q.addApiKey.run({ ...key, label: key.label ?? null, prefix: key.prefix ?? null });
  }

  async findApiKey(storeId: string, keyHash: string): Promise<ApiKeyRecord | null> {
    const row = this.q.findApiKey.get(storeId, keyHash) as Row | undefined;
    return row ? apiKeyFromRow(row) : null;
  }

  async listSigningKeys(storeId: string): Promise<SigningKeyRecord[]> {
    return (this.q.listSigningKeys.all(storeId) as Row[]).map((row) => ({
      kid: row['kid'] as string,
      storeId: row['store_id'] as string,
      use: row['use'] as SigningKeyRecord['use'],
      alg: row['alg'] as SigningKeyRecord['alg'],
      privateJwk: row['private_jwk'] as string,
      createdAt: row['created_at'] as number,
      rotatedAt: row['rotated_at'] as number | null,
      retiredAt: row['retired_at'] as number | null,
    }));
  }

  async addSigningKey(key: SigningKeyRecord): Promise<void> {
    this.q.addSigningKey.run(key);
  }

  async createUser(user: UserRecord): Promise<void> {
    this.q.createUser.run({
      ...user,
      isAnonymous: user.isAnonymous ? 1 : 0,
      isEmailVerified: user.isEmailVerified ? 1 : 0,
      isPhoneVerified: user.isPhoneVerified ? 1 : 0,
    });
  }

  async getUser(id: string): Promise<UserRecord | null> {
    const row = this.q.getUser.get(id) as Row | undefined;
    return row ? userFromRow(row) : null;
  }

  async createSession(session: SessionRecord): Promise<void> {
    this.q.createSession.run(session);
  }

  async getSession(id: string): Promise<SessionWithUser | null> {
    const row = this.q.getSession.get(id) as Row | undefined;
    return row ? { session: sessionFromRow(row), user: userFromRow(row) } : null;
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

  async revokeSession(id: string, reason: RevokeReason, now: number): Promise<boolean> {
    return this.q.revoke.run(now, reason, id).changes === 1;
  }

  async recordSecurityEvent(e: SecurityEvent): Promise<void> {
    this.q.addEvent.run(e.storeId, e.type, e.sessionId, e.userId, JSON.stringify(e.detail), e.createdAt);
  }
  async getStoreSettings(storeId: string): Promise<StoreSettings> {
    const row = this.q.getStoreSettings.get(storeId) as Row | undefined;
    return { otpDebug: row?.['otp_debug'] === 1 };
  }

  async setStoreSettings(storeId: string, settings: StoreSettings): Promise<void> {
    this.q.setStoreSettings.run(settings.otpDebug ? 1 : 0, storeId);
  }

  async createAccount(account: UserAccount): Promise<boolean> {
    const { user } = account;
    return (
      this.q.createAccount.run({
        ...user,
        isEmailVerified: user.isEmailVerified ? 1 : 0,
        isPhoneVerified: user.isPhoneVerified ? 1 : 0,
        passwordHash: account.passwordHash,
        status: account.status,
        loginMethods: JSON.stringify(account.loginMethods),
        notificationPreferences: account.notificationPreferences
          ? JSON.stringify(account.notificationPreferences)
          : null,
      }).changes === 1
    );
  }

  async getAccount(userId: string): Promise<UserAccount | null> {
    const row = this.q.getUser.get(userId) as Row | undefined;
    return row && row['is_anonymous'] === 0 ? accountFromRow(row) : null;
  }

  async findAccountByEmail(storeId: string, email: string): Promise<UserAccount | null> {
    const row = this.q.findByEmail.get(storeId, email) as Row | undefined;
    return row ? accountFromRow(row) : null;
  }

  async findAccountByPhone(storeId: string, countryCode: string, phone: string): Promise<UserAccount | null> {
    const row = this.q.findByPhone.get(storeId, countryCode, phone) as Row | undefined;
    return row ? accountFromRow(row) : null;
  }

  async updateUser(
    userId: string,
    patch: UserPatch,
    now: number,
  ): Promise<'updated' | 'conflict' | 'missing'> {
    const sets: string[] = [];
    const values: Record<string, unknown> = { userId, now };
    for (const [field, column] of PATCH_COLUMNS) {
      const value = patch[field];
      if (value === undefined) continue;
      sets.push(`${column} = @${field}`);
      values[field] =
        typeof value === 'boolean'
          ? value
            ? 1
            : 0
          : value !== null && typeof value === 'object'
            ? JSON.stringify(value)
            : value;
    }
    sets.push('modified_at = @now');
    try {
      const changes = this.db
        .prepare(`UPDATE users SET ${sets.join(', ')} WHERE id = @userId`)
        .run(values).changes;
      return changes === 1 ? 'updated' : 'missing';
    } catch (error) {
      if ((error as { code?: string }).code === 'SQLITE_CONSTRAINT_UNIQUE') return 'conflict';
      throw error;
    }
  }

  async setPasswordHash(userId: string, passwordHash: string, now: number): Promise<boolean> {
    return this.q.setPassword.run(passwordHash, now, userId).changes === 1;
  }

  async deactivateUser(userId: string, now: number): Promise<boolean> {
    const q = this.q;
    const run = this.db.transaction(() => {
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
    reason: RevokeReason,
    now: number,
    exceptSessionId?: string,
  ): Promise<number> {
    return this.q.revokeUserSessions.run({ userId, now, reason, except: exceptSessionId ?? null }).changes;
  }

  async createOtp(otp: OtpRecord): Promise<void> {
    this.q.createOtp.run({ ...otp, payload: JSON.stringify(otp.payload) });
  }

  async attemptOtp(id: string, codeHash: string, now: number, maxAttempts: number): Promise<OtpAttempt> {
    const q = this.q;
    const run = this.db.transaction((): OtpAttempt => {
      const updated = q.attemptOtp.get({ id, codeHash, now, maxAttempts }) as Row | undefined;
      if (updated) {
        const record = otpFromRow(updated);
        return { outcome: record.consumedAt !== null ? 'verified' : 'wrong_code', record };
      }
      const row = q.getOtp.get(id) as Row | undefined;
      if (!row) return { outcome: 'missing' };
      const record = otpFromRow(row);
      if (record.consumedAt !== null) return { outcome: 'consumed', record };
      if (record.attempts >= maxAttempts) return { outcome: 'exhausted', record };
      return { outcome: 'expired', record };
    });
    return run.immediate();
  }
}

const PATCH_COLUMNS: ReadonlyArray<readonly [keyof UserPatch, string]> = [
  ['email', 'email'],
  ['phone', 'phone'],
  ['countryCode', 'country_code'],
  ['firstName', 'first_name'],
  ['lastName', 'last_name'],
  ['isEmailVerified', 'is_email_verified'],
  ['isPhoneVerified', 'is_phone_verified'],
  ['loginMethods', 'login_methods'],
  ['notificationPreferences', 'notification_preferences'],
];

function accountFromRow(row: Row): UserAccount {
  const prefs = row['notification_preferences'];
  return {
    user: userFromRow(row),
    passwordHash: (row['password_hash'] as string | null) ?? null,
    status: row['status'] === 'deactivated' ? 'deactivated' : 'active',
    loginMethods: JSON.parse((row['login_methods'] as string | undefined) ?? '[]'),
    notificationPreferences: typeof prefs === 'string' ? JSON.parse(prefs) : null,
  };
}

function otpFromRow(row: Row): OtpRecord {
  return {
    id: row['id'] as string,
    storeId: row['store_id'] as string,
    action: row['action'] as OtpRecord['action'],
    channel: row['channel'] as OtpRecord['channel'],
    identifier: row['identifier'] as string,
    userId: row['user_id'] as string | null,
    codeHash: row['code_hash'] as string,
    attempts: row['attempts'] as number,
    expiresAt: row['expires_at'] as number,
    consumedAt: row['consumed_at'] as number | null,
    payload: JSON.parse(row['payload'] as string),
    createdAt: row['created_at'] as number,
  };
}

function userFromRow(row: Row): UserRecord {
  return {
    id: row['id'] as string,
    storeId: row['store_id'] as string,
    isAnonymous: row['is_anonymous'] === 1,
    email: row['email'] as string | null,
    phone: row['phone'] as string | null,
    countryCode: row['country_code'] as string | null,
    firstName: row['first_name'] as string | null,
    lastName: row['last_name'] as string | null,
    customerId: row['customer_id'] as string | null,
    customerGroupId: row['customer_group_id'] as string | null,
    isEmailVerified: row['is_email_verified'] === 1,
    isPhoneVerified: row['is_phone_verified'] === 1,
    createdAt: row['created_at'] as number,
    modifiedAt: row['modified_at'] as number,
  };
}

function sessionFromRow(row: Row): SessionRecord {
  return {
    id: row['s_id'] as string,
    storeId: row['s_store_id'] as string,
    userId: row['s_user_id'] as string,
    anonymousId: row['s_anonymous_id'] as string | null,
    generation: row['s_generation'] as number,
    createdAt: row['s_created_at'] as number,
    rotatedAt: row['s_rotated_at'] as number,
    idleExpiresAt: row['s_idle_expires_at'] as number,
    absoluteExpiresAt: row['s_absolute_expires_at'] as number,
    revokedAt: row['s_revoked_at'] as number | null,
    revokedReason: row['s_revoked_reason'] as RevokeReason | null,
  };
}
