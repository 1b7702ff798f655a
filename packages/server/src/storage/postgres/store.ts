import pg from 'pg';
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
import { toAppError } from './errors.js';
import { POSTGRES_MIGRATIONS } from './migrations.js';

type Row = Record<string, unknown>;

export interface PostgresOptions {
  /** `postgres://user:password@host:port/database?...`, as libpq and node-postgres read it. */
  url: string;
  /** Most connections this process opens. @default 10 */
  poolSize?: number;
  /** Server-side `statement_timeout`, milliseconds; 0 disables it. @default 5000 */
  statementTimeout?: number;
  /** How long a request waits for a free connection (or a new one) before answering 503, ms. @default 2000 */
  connectTimeout?: number;
  /** Schema to work in (tests give each file its own); default: the server's search_path. */
  schema?: string;
  /** `application_name` of the connections, seen in pg_stat_activity. @default storefront-auth */
  applicationName?: string;
}

/** BIGINT (oid 20) as a JS number: every BIGINT here is a millisecond time, far below 2^53. */
const INT8_OID = 20;
const types = {
  getTypeParser: ((oid: number, format?: 'text' | 'binary') =>
    oid === INT8_OID
      ? (value: string) => Number(value)
      : pg.types.getTypeParser(oid, format)) as typeof pg.types.getTypeParser,
};

const SCHEMA_NAME = /^[a-z_][a-z0-9_]{0,62}$/;
/** Advisory lock key that serializes migrations: any fixed 64-bit number ("sfa-migr" in ASCII). */
const MIGRATION_LOCK = '8315440609723246450';

const SESSION_COLUMNS = `s.id AS s_id, s.store_id AS s_store_id, s.user_id AS s_user_id,
  s.anonymous_id AS s_anonymous_id, s.generation AS s_generation, s.created_at AS s_created_at,
  s.rotated_at AS s_rotated_at, s.idle_expires_at AS s_idle_expires_at,
  s.absolute_expires_at AS s_absolute_expires_at, s.revoked_at AS s_revoked_at,
  s.revoked_reason AS s_revoked_reason`;

/*
 * Columns are listed, never `*`: a prepared statement's result shape is fixed per connection, and
 * a later migration that adds a column must not break the statements of instances still running.
 */
const USER_COLUMNS = `u.id, u.store_id, u.is_anonymous, u.email, u.phone, u.country_code, u.first_name,
  u.last_name, u.customer_id, u.customer_group_id, u.is_email_verified, u.is_phone_verified, u.created_at,
  u.modified_at`;
/** A user row's columns, in the order of the INSERTs' parameters (see userValues). */
const USER_FIELDS = `id, store_id, is_anonymous, email, phone, country_code, first_name, last_name, customer_id,
  customer_group_id, is_email_verified, is_phone_verified, created_at, modified_at`;
const ACCOUNT_COLUMNS = `${USER_COLUMNS}, u.password_hash, u.status, u.login_methods, u.notification_preferences`;
const OTP_COLUMNS = `id, store_id, action, channel, identifier, user_id, code_hash, attempts, expires_at, consumed_at,
  payload, created_at`;
const SESSION_FIELDS = `id, store_id, user_id, anonymous_id, generation, created_at, rotated_at, idle_expires_at,
  absolute_expires_at, revoked_at, revoked_reason`;
const SESSION_FIELDS_OF_S = SESSION_FIELDS.split(',')
  .map((field) => `s.${field.trim()}`)
  .join(', ');

/**
 * Group statements in flight at once, per instance. While one runs, new refreshes queue and go
 * together in the next. One gave the most refreshes per second and the lowest latency in
 * `npm run bench` at 16 clients (5.2k/s, against 4.7k/s with two and 4.5k/s with four in flight):
 * fewer, larger groups cost the database and this process less per refresh.
 */
const ROTATION_GROUPS_IN_FLIGHT = 1;
/** Largest group in one statement: bounds the statement's arrays and the row locks it holds. */
const MAX_ROTATION_GROUP = 256;

/**
 * Every statement the store runs, named so that node-postgres prepares each once per connection
 * and afterwards sends only its parameters.
 */
const SQL = {
  getStore: 'SELECT id, name, created_at FROM stores WHERE id = $1',
  createStore: 'INSERT INTO stores (id, name, created_at) VALUES ($1, $2, $3) ON CONFLICT (id) DO NOTHING',
  addApiKey: `INSERT INTO api_keys (id, store_id, key_hash, kind, created_at, revoked_at, label, key_prefix)
    VALUES ($1, $2, $3, $4, $5, $6, $7, $8)`,
  findApiKey:
    'SELECT id, store_id, key_hash, kind, created_at, revoked_at FROM api_keys WHERE store_id = $1 AND key_hash = $2 AND revoked_at IS NULL',
  listSigningKeys:
    'SELECT kid, store_id, use, alg, private_jwk, created_at, rotated_at, retired_at FROM signing_keys WHERE store_id = $1 ORDER BY created_at, kid',
  addSigningKey: `INSERT INTO signing_keys (kid, store_id, use, alg, private_jwk, created_at, rotated_at, retired_at)
    VALUES ($1, $2, $3, $4, $5, $6, $7, $8)`,
  createUser: `INSERT INTO users (${USER_FIELDS})
    VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14)`,
  getUser: `SELECT ${USER_COLUMNS} FROM users u WHERE u.id = $1`,
  createSession: `INSERT INTO sessions (id, store_id, user_id, anonymous_id, generation, created_at, rotated_at,
      idle_expires_at, absolute_expires_at, revoked_at, revoked_reason)
    VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)`,
  getSession: `SELECT ${SESSION_COLUMNS}, ${USER_COLUMNS} FROM sessions s JOIN users u ON u.id = s.user_id WHERE s.id = $1`,
  /*
   * The refresh in ONE statement and one round trip, for a group of refreshes at once (group
   * commit, see rotateSession): each input's compare-and-swap on the generation, then every
   * input's row with its user, whether its swap matched or not, tagged with the input's position.
   *
   * Both halves read the statement's snapshot. When a concurrent refresh of the same generation
   * commits first, the UPDATE waits for its row lock, re-checks the WHERE on the new row version
   * and matches nothing; the fallback SELECT then still sees the row as it was when the statement
   * began, at the presented generation. sessions/rotate.ts reads that as "lost a race" and asks
   * again, and the second statement's snapshot shows the winner's row. Two inputs of one group
   * naming the same row and generation behave the same way: the row is updated once, for one of
   * them, and the other reads it as a race lost.
   */
  rotate: `WITH i AS (
      SELECT * FROM unnest($1::text[], $2::integer[], $3::bigint[], $4::bigint[])
        WITH ORDINALITY AS t(id, gen, now, idle, ord)
    ), upd AS (
      UPDATE sessions s
         SET generation = s.generation + 1, rotated_at = i.now,
             idle_expires_at = LEAST(i.idle, s.absolute_expires_at)
        FROM i
       WHERE s.id = i.id AND s.generation = i.gen AND s.revoked_at IS NULL
         AND s.idle_expires_at > i.now AND s.absolute_expires_at > i.now
      RETURNING i.ord, ${SESSION_FIELDS_OF_S}
    ), found AS (
      SELECT true AS rotated, * FROM upd
      UNION ALL
      SELECT false, i.ord, ${SESSION_FIELDS_OF_S}
        FROM i JOIN sessions s ON s.id = i.id WHERE i.ord NOT IN (SELECT ord FROM upd)
    )
    SELECT s.ord, s.rotated, ${SESSION_COLUMNS}, ${USER_COLUMNS} FROM found s JOIN users u ON u.id = s.user_id`,
  revoke: 'UPDATE sessions SET revoked_at = $1, revoked_reason = $2 WHERE id = $3 AND revoked_at IS NULL',
  addEvent: `INSERT INTO security_events (store_id, type, session_id, user_id, detail, created_at)
    VALUES ($1, $2, $3, $4, $5, $6)`,

  getStoreSettings: 'SELECT otp_debug FROM stores WHERE id = $1',
  setStoreSettings: 'UPDATE stores SET otp_debug = $1 WHERE id = $2',
  // DO NOTHING on any unique index: the id, or the store's customer email or phone.
  createAccount: `INSERT INTO users (${USER_FIELDS}, password_hash, status, login_methods, notification_preferences)
    VALUES ($1, $2, false, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17)
    ON CONFLICT DO NOTHING`,
  getAccount: `SELECT ${ACCOUNT_COLUMNS} FROM users u WHERE u.id = $1 AND NOT u.is_anonymous`,
  findByEmail: `SELECT ${ACCOUNT_COLUMNS} FROM users u WHERE u.store_id = $1 AND u.email = $2 AND NOT u.is_anonymous`,
  findByPhone: `SELECT ${ACCOUNT_COLUMNS} FROM users u
    WHERE u.store_id = $1 AND u.country_code = $2 AND u.phone = $3 AND NOT u.is_anonymous`,
  setPassword: 'UPDATE users SET password_hash = $1, modified_at = $2 WHERE id = $3',
  // One statement, so the account and its sessions change together or not at all.
  deactivate: `WITH d AS (
      UPDATE users SET status = 'deactivated', modified_at = $1 WHERE id = $2 RETURNING id
    ), r AS (
      UPDATE sessions SET revoked_at = $1, revoked_reason = 'user_deactivated'
       WHERE user_id IN (SELECT id FROM d) AND revoked_at IS NULL
    )
    SELECT count(*)::integer AS n FROM d`,
  deleteUser: 'DELETE FROM users WHERE id = $1',
  revokeUserSessions: `UPDATE sessions SET revoked_at = $1, revoked_reason = $2
    WHERE user_id = $3 AND revoked_at IS NULL AND id IS DISTINCT FROM $4`,
  createOtp: `INSERT INTO otps (id, store_id, action, channel, identifier, user_id, code_hash, attempts,
      expires_at, consumed_at, payload, created_at)
    VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)`,
  // Counted only while the OTP is alive, consumed only when the code matches. Concurrent attempts
  // serialize on the row lock and re-check the WHERE: at most one consumes it.
  attemptOtp: `UPDATE otps
      SET attempts = attempts + 1,
          consumed_at = CASE WHEN code_hash = $2 THEN $3::bigint ELSE NULL END
    WHERE id = $1 AND consumed_at IS NULL AND attempts < $4::integer AND expires_at > $3::bigint
    RETURNING ${OTP_COLUMNS}`,
  getOtp: `SELECT ${OTP_COLUMNS} FROM otps WHERE id = $1`,
} as const;

type StatementName = keyof typeof SQL;

/**
 * The storage contract on PostgreSQL, for production and for several instances sharing one
 * database. Concurrency is decided by row locks and the compare-and-swap, never in this process.
 * A database that cannot be reached answers AppError SERVICE_UNAVAILABLE (see ./errors.ts).
 */
export class PostgresSessionStore implements SessionStore {
  readonly pool: pg.Pool;
  private readonly schema: string | undefined;
  /** How to connect, without the pool's timeouts (migrations use it). */
  private readonly connection: pg.ClientConfig;

  constructor(options: PostgresOptions) {
    if (options.schema !== undefined && !SCHEMA_NAME.test(options.schema)) {
      throw new Error(`invalid PostgreSQL schema name: ${options.schema}`);
    }
    this.schema = options.schema;
    const statementTimeout = options.statementTimeout ?? 5000;
    this.connection = {
      connectionString: options.url,
      keepAlive: true,
      application_name: options.applicationName ?? 'storefront-auth',
      ...(options.schema ? { options: `-c search_path=${options.schema}` } : {}),
      types,
    };
    this.pool = new pg.Pool({
      ...this.connection,
      max: options.poolSize ?? 10,
      connectionTimeoutMillis: options.connectTimeout ?? 2000,
      idleTimeoutMillis: 30_000,
      ...(statementTimeout > 0
        ? // The server cancels a statement past the limit; the client stops waiting a little later,
          // for when the server cannot even answer.
          { statement_timeout: statementTimeout, query_timeout: statementTimeout + 1000 }
        : {}),
    });
    // An idle connection the server closed (restart, pg_terminate_backend) is reported here; the
    // pool has already dropped it, and the next query opens a fresh one. Without a listener the
    // event would end the process.
    this.pool.on('error', () => {});
  }

  /**
   * Told when a statement fails because the database is unavailable (at most every 5 s), with
   * the driver's code and message only: main.ts logs it, so a run of 503s has its cause in the log.
   */
  onUnavailable: ((failure: { code: string | undefined; message: string }) => void) | undefined;
  private lastUnavailableReport = 0;

  private async run(name: StatementName, values: unknown[]): Promise<pg.QueryResult<Row>> {
    try {
      return await this.pool.query<Row>({ name, text: SQL[name], values });
    } catch (error) {
      throw this.translate(error);
    }
  }

  private translate(error: unknown): unknown {
    const mapped = toAppError(error);
    if (mapped !== error && this.onUnavailable && Date.now() - this.lastUnavailableReport >= 5000) {
      this.lastUnavailableReport = Date.now();
      const code = (error as { code?: unknown }).code;
      this.onUnavailable({
        code: typeof code === 'string' ? code : undefined,
        message: (error as Error).message,
      });
    }
    return mapped;
  }

  /**
   * Runs at start-up and from the CLI, so its failures keep the driver's own words (ECONNREFUSED,
   * authentication failed, ...): the operator needs the cause, not a 503.
   */
  async migrate(): Promise<void> {
    // A connection of its own, without the statement timeout: waiting for another instance's
    // migration, or building an index on a large table, may rightly take longer than a request.
    const client = new pg.Client(this.connection);
    client.on('error', () => {}); // a dropped connection also fails the pending query, which throws
    await client.connect();
    try {
      // Several instances starting at once: the first takes the lock and migrates, the others
      // wait, then find nothing left to do. Advisory locks are per database; this one is held by
      // this connection until it unlocks, or until the connection ends.
      await client.query(`SELECT pg_advisory_lock(${MIGRATION_LOCK})`);
      try {
        if (this.schema) await client.query(`CREATE SCHEMA IF NOT EXISTS ${this.schema}`);
        await client.query(`CREATE TABLE IF NOT EXISTS schema_migrations (
          version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at BIGINT NOT NULL)`);
        const done = new Set(
          (await client.query<Row>('SELECT version FROM schema_migrations')).rows.map((r) => r['version']),
        );
        for (const m of POSTGRES_MIGRATIONS) {
          if (done.has(m.version)) continue;
          await client.query('BEGIN');
          try {
            await client.query(m.sql);
            await client.query(
              'INSERT INTO schema_migrations (version, name, applied_at) VALUES ($1, $2, $3)',
              [m.version, m.name, Date.now()],
            );
            await client.query('COMMIT');
          } catch (error) {
            await client.query('ROLLBACK').catch(() => {});
            throw error;
          }
        }
      } finally {
        await client.query(`SELECT pg_advisory_unlock(${MIGRATION_LOCK})`);
      }
    } finally {
      await client.end().catch(() => {});
    }
  }

  async close(): Promise<void> {
    if (!this.pool.ended) await this.pool.end();
  }

  async getStore(id: string): Promise<StoreRecord | null> {
    const row = (await this.run('getStore', [id])).rows[0];
    return row
      ? { id: row['id'] as string, name: row['name'] as string, createdAt: row['created_at'] as number }
      : null;
  }

  async createStore(store: StoreRecord): Promise<boolean> {
    return (await this.run('createStore', [store.id, store.name, store.createdAt])).rowCount === 1;
  }

  async addApiKey(key: ApiKeyRecord): Promise<void> {
    await this.run('addApiKey', [
      key.id,
      key.storeId,
      key.keyHash,
      key.kind,
      key.createdAt,
      key.revokedAt,
      key.label ?? null,
      key.prefix ?? null,
    ]);
  }

  async findApiKey(storeId: string, keyHash: string): Promise<ApiKeyRecord | null> {
    const row = (await this.run('findApiKey', [storeId, keyHash])).rows[0];
    if (!row) return null;
    return {
      id: row['id'] as string,
      storeId: row['store_id'] as string,
      keyHash: row['key_hash'] as string,
      kind: row['kind'] as ApiKeyRecord['kind'],
      createdAt: row['created_at'] as number,
      revokedAt: row['revoked_at'] as number | null,
    };
  }

  async listSigningKeys(storeId: string): Promise<SigningKeyRecord[]> {
    return (await this.run('listSigningKeys', [storeId])).rows.map((row) => ({
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
    await this.run('addSigningKey', [
      key.kid,
      key.storeId,
      key.use,
      key.alg,
      key.privateJwk,
      key.createdAt,
      key.rotatedAt,
      key.retiredAt,
    ]);
  }

  async createUser(u: UserRecord): Promise<void> {
    await this.run('createUser', [u.id, u.storeId, u.isAnonymous, ...userValues(u)]);
  }

  async getUser(id: string): Promise<UserRecord | null> {
    const row = (await this.run('getUser', [id])).rows[0];
    return row ? userFromRow(row) : null;
  }

  async createSession(s: SessionRecord): Promise<void> {
    await this.run('createSession', [
      s.id,
      s.storeId,
      s.userId,
      s.anonymousId,
      s.generation,
      s.createdAt,
      s.rotatedAt,
      s.idleExpiresAt,
      s.absoluteExpiresAt,
      s.revokedAt,
      s.revokedReason,
    ]);
  }

  async getSession(id: string): Promise<SessionWithUser | null> {
    const row = (await this.run('getSession', [id])).rows[0];
    return row ? { session: sessionFromRow(row), user: userFromRow(row) } : null;
  }

  /** Grouped with the rotations that arrive while the previous group runs (group-commit.ts). */
  rotateSession(input: RotateInput): Promise<RotateResult | null> {
    return this.rotations.submit(input);
  }

  private readonly rotations = new GroupCommit<RotateInput, RotateResult | null>(
    (inputs) => this.rotateGroup(inputs),
    { maxInFlight: ROTATION_GROUPS_IN_FLIGHT, maxGroup: MAX_ROTATION_GROUP },
  );

  /** One statement for the group (SQL.rotate); one result per input, in input order. */
  private async rotateGroup(inputs: RotateInput[]): Promise<Array<RotateResult | null>> {
    // In session-id order, so that groups in flight together (here or on other instances) take
    // their row locks in one order and cannot deadlock each other.
    const sorted = [...inputs].sort((a, b) =>
      a.sessionId < b.sessionId ? -1 : a.sessionId > b.sessionId ? 1 : 0,
    );
    const { rows } = await this.run('rotate', [
      sorted.map((i) => i.sessionId),
      sorted.map((i) => i.generation),
      sorted.map((i) => i.now),
      sorted.map((i) => i.idleExpiresAt),
    ]);
    const byInput = new Map<RotateInput, RotateResult>();
    for (const row of rows) {
      const input = sorted[Number(row['ord']) - 1];
      if (!input) continue;
      byInput.set(input, {
        rotated: row['rotated'] === true,
        session: sessionFromRow(row),
        user: userFromRow(row),
      });
    }
    return inputs.map((input) => byInput.get(input) ?? null);
  }

  async revokeSession(id: string, reason: RevokeReason, now: number): Promise<boolean> {
    return (await this.run('revoke', [now, reason, id])).rowCount === 1;
  }

  async recordSecurityEvent(e: SecurityEvent): Promise<void> {
    await this.run('addEvent', [
      e.storeId,
      e.type,
      e.sessionId,
      e.userId,
      JSON.stringify(e.detail),
      e.createdAt,
    ]);
  }

  async getStoreSettings(storeId: string): Promise<StoreSettings> {
    const row = (await this.run('getStoreSettings', [storeId])).rows[0];
    return { otpDebug: row?.['otp_debug'] === true };
  }

  async setStoreSettings(storeId: string, settings: StoreSettings): Promise<void> {
    await this.run('setStoreSettings', [settings.otpDebug, storeId]);
  }

  async createAccount(account: UserAccount): Promise<boolean> {
    const u = account.user;
    const result = await this.run('createAccount', [
      u.id,
      u.storeId,
      ...userValues(u),
      account.passwordHash,
      account.status,
      JSON.stringify(account.loginMethods),
      account.notificationPreferences ? JSON.stringify(account.notificationPreferences) : null,
    ]);
    return result.rowCount === 1;
  }

  async getAccount(userId: string): Promise<UserAccount | null> {
    const row = (await this.run('getAccount', [userId])).rows[0];
    return row ? accountFromRow(row) : null;
  }

  async findAccountByEmail(storeId: string, email: string): Promise<UserAccount | null> {
    const row = (await this.run('findByEmail', [storeId, email])).rows[0];
    return row ? accountFromRow(row) : null;
  }

  async findAccountByPhone(storeId: string, countryCode: string, phone: string): Promise<UserAccount | null> {
    const row = (await this.run('findByPhone', [storeId, countryCode, phone])).rows[0];
    return row ? accountFromRow(row) : null;
  }

  async updateUser(
    userId: string,
    patch: UserPatch,
    now: number,
  ): Promise<'updated' | 'conflict' | 'missing'> {
    const sets: string[] = [];
    const values: unknown[] = [userId, now];
    for (const [field, column] of PATCH_COLUMNS) {
      const value = patch[field];
      if (value === undefined) continue;
      values.push(value !== null && typeof value === 'object' ? JSON.stringify(value) : value);
      sets.push(`${column} = $${values.length}`);
    }
    sets.push('modified_at = $2');
    try {
      const result = await this.pool.query(`UPDATE users SET ${sets.join(', ')} WHERE id = $1`, values);
      return result.rowCount === 1 ? 'updated' : 'missing';
    } catch (error) {
      if ((error as { code?: string }).code === '23505') return 'conflict';
      throw this.translate(error);
    }
  }

  async setPasswordHash(userId: string, passwordHash: string, now: number): Promise<boolean> {
    return (await this.run('setPassword', [passwordHash, now, userId])).rowCount === 1;
  }

  async deactivateUser(userId: string, now: number): Promise<boolean> {
    return (await this.run('deactivate', [now, userId])).rows[0]?.['n'] === 1;
  }

  async deleteUser(userId: string): Promise<boolean> {
    return (await this.run('deleteUser', [userId])).rowCount === 1;
  }

  async revokeUserSessions(
    userId: string,
    reason: RevokeReason,
    now: number,
    exceptSessionId?: string,
  ): Promise<number> {
    return (
      (await this.run('revokeUserSessions', [now, reason, userId, exceptSessionId ?? null])).rowCount ?? 0
    );
  }

  async createOtp(otp: OtpRecord): Promise<void> {
    await this.run('createOtp', [
      otp.id,
      otp.storeId,
      otp.action,
      otp.channel,
      otp.identifier,
      otp.userId,
      otp.codeHash,
      otp.attempts,
      otp.expiresAt,
      otp.consumedAt,
      JSON.stringify(otp.payload),
      otp.createdAt,
    ]);
  }

  async attemptOtp(id: string, codeHash: string, now: number, maxAttempts: number): Promise<OtpAttempt> {
    const updated = (await this.run('attemptOtp', [id, codeHash, now, maxAttempts])).rows[0];
    if (updated) {
      const record = otpFromRow(updated);
      return { outcome: record.consumedAt !== null ? 'verified' : 'wrong_code', record };
    }
    // A second statement, so a fresh snapshot: it sees the attempt that beat this one, if any.
    const row = (await this.run('getOtp', [id])).rows[0];
    if (!row) return { outcome: 'missing' };
    const record = otpFromRow(row);
    if (record.consumedAt !== null) return { outcome: 'consumed', record };
    if (record.attempts >= maxAttempts) return { outcome: 'exhausted', record };
    return { outcome: 'expired', record };
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
  return {
    user: userFromRow(row),
    passwordHash: (row['password_hash'] as string | null) ?? null,
    status: row['status'] === 'deactivated' ? 'deactivated' : 'active',
    loginMethods: (row['login_methods'] as UserAccount['loginMethods'] | null) ?? [],
    notificationPreferences:
      (row['notification_preferences'] as UserAccount['notificationPreferences']) ?? null,
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
    payload: row['payload'] as Record<string, unknown>,
    createdAt: row['created_at'] as number,
  };
}

/** The parameters of a user row after id, store_id and is_anonymous, in USER_FIELDS order. */
function userValues(u: UserRecord): unknown[] {
  return [
    u.email,
    u.phone,
    u.countryCode,
    u.firstName,
    u.lastName,
    u.customerId,
    u.customerGroupId,
    u.isEmailVerified,
    u.isPhoneVerified,
    u.createdAt,
    u.modifiedAt,
  ];
}

function userFromRow(row: Row): UserRecord {
  return {
    id: row['id'] as string,
    storeId: row['store_id'] as string,
    isAnonymous: row['is_anonymous'] as boolean,
    email: row['email'] as string | null,
    phone: row['phone'] as string | null,
    countryCode: row['country_code'] as string | null,
    firstName: row['first_name'] as string | null,
    lastName: row['last_name'] as string | null,
    customerId: row['customer_id'] as string | null,
    customerGroupId: row['customer_group_id'] as string | null,
    isEmailVerified: row['is_email_verified'] as boolean,
    isPhoneVerified: row['is_phone_verified'] as boolean,
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
