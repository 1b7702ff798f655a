import pg from 'pg';
import type * as model from '../../model.js';
import type {
  ClaimOutcome,
  Database,
  OtpAttempt,
  OtpRedemption,
  PoolStats,
  RotateInput,
  RotateResult,
  UnavailableReport,
  UserUpdateOutcome,
} from '../contract.js';
import { GroupCommit } from '../group-commit.js';
import type { OperatorStore } from '../operator.js';
import * as mapping from '../rows.js';
import { postgresDialect as D } from './dialect.js';
import { toAppError } from './errors.js';
import { POSTGRES_MIGRATIONS } from './migrations.js';
import { PostgresOperator } from './operator.js';

export interface PostgresOptions {
  /** `postgres://user:password@host:port/database?...`, as libpq and node-postgres read it. */
  url: string;
  /** Most connections this process opens. @default 10 */
  poolSize?: number;
  /** Server-side `statement_timeout`, milliseconds; 0 disables it. @default 5000 */
  statementTimeout?: number;
  /** How long a request waits for a free connection (or a new one) before answering 503, ms. @default 2000 */
  connectTimeout?: number;
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

/** Advisory lock key that serializes migrations: any fixed 64-bit number ("sfa-migr" in ASCII). */
const MIGRATION_LOCK = '8315440609723246450';

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
  getStore: `SELECT ${mapping.STORE_COLUMNS} FROM stores WHERE id = $1`,
  createStore: `INSERT INTO stores (${mapping.STORE_COLUMNS}) VALUES (${mapping.params(D, 3)}) ON CONFLICT (id) DO NOTHING`,
  addApiKey: `INSERT INTO api_keys (${mapping.API_KEY_COLUMNS}) VALUES (${mapping.params(D, mapping.API_KEY_COLUMN_COUNT)})`,
  findApiKey: `SELECT ${mapping.API_KEY_COLUMNS} FROM api_keys WHERE store_id = $1 AND key_hash = $2 AND revoked_at IS NULL`,
  listSigningKeys: `SELECT ${mapping.SIGNING_KEY_COLUMNS} FROM signing_keys WHERE store_id = $1 ORDER BY created_at, kid`,
  addSigningKey: `INSERT INTO signing_keys (${mapping.SIGNING_KEY_COLUMNS}) VALUES (${mapping.params(D, 8)})`,
  createUser: `INSERT INTO users (${mapping.USER_COLUMNS}) VALUES (${mapping.params(D, 14)})`,
  getUser: `SELECT ${mapping.USER_COLUMNS} FROM users WHERE id = $1`,
  createSession: `INSERT INTO sessions (${mapping.SESSION_COLUMNS}) VALUES (${mapping.params(D, mapping.SESSION_COLUMN_COUNT)})`,
  getSession: `SELECT ${mapping.SESSION_COLUMNS_AS_S}, ${mapping.USER_COLUMNS_OF_U} FROM sessions s JOIN users u ON u.id = s.user_id WHERE s.id = $1`,
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
      SELECT * FROM unnest($1::text[], $2::integer[], $3::bigint[], $4::bigint[], $5::text[], $6::text[], $7::text[])
        WITH ORDINALITY AS t(id, gen, now, idle, store_id, user_id, jkt, ord)
    ), upd AS (
      UPDATE sessions s
         SET generation = s.generation + 1, rotated_at = i.now,
             idle_expires_at = LEAST(i.idle, s.absolute_expires_at)
        FROM i
       WHERE s.id = i.id AND s.generation = i.gen AND s.revoked_at IS NULL
         AND s.store_id = i.store_id AND s.user_id = i.user_id
         AND s.idle_expires_at > i.now AND s.absolute_expires_at > i.now
         AND (s.jkt IS NULL OR s.jkt = i.jkt)
      RETURNING i.ord, ${mapping.SESSION_COLUMNS_OF_S}
    ), found AS (
      SELECT true AS rotated, * FROM upd
      UNION ALL
      SELECT false, i.ord, ${mapping.SESSION_COLUMNS_OF_S}
        FROM i JOIN sessions s ON s.id = i.id WHERE i.ord NOT IN (SELECT ord FROM upd)
    )
    SELECT s.ord, s.rotated, ${mapping.SESSION_COLUMNS_AS_S}, ${mapping.USER_COLUMNS_OF_U} FROM found s JOIN users u ON u.id = s.user_id`,
  revoke: 'UPDATE sessions SET revoked_at = $1, revoked_reason = $2 WHERE id = $3 AND revoked_at IS NULL',
  addEvent: `INSERT INTO security_events (${mapping.SECURITY_EVENT_COLUMNS}) VALUES (${mapping.params(D, 6)})`,

  getStoreSettings: `SELECT ${mapping.STORE_SETTINGS_COLUMNS} FROM stores WHERE id = $1`,
  setStoreSettings: mapping.SET_STORE_SETTINGS(D),
  recordDpopProof: mapping.INSERT_DPOP_PROOF(D),
  getStoreLimits: 'SELECT name, value FROM store_limits WHERE store_id = $1',
  setStoreLimit: `INSERT INTO store_limits (store_id, name, value) VALUES ($1, $2, $3)
    ON CONFLICT (store_id, name) DO UPDATE SET value = excluded.value`,
  clearStoreLimit: 'DELETE FROM store_limits WHERE store_id = $1 AND name = $2',
  // DO NOTHING on any unique index: the id, or the store's customer email or phone.
  createAccount: `INSERT INTO users (${mapping.ACCOUNT_COLUMNS}) VALUES (${mapping.params(D, 18)}) ON CONFLICT DO NOTHING`,
  getAccount: `SELECT ${mapping.ACCOUNT_SELECT} FROM users WHERE id = $1 AND NOT is_anonymous`,
  findByEmail: `SELECT ${mapping.ACCOUNT_SELECT} FROM users
    WHERE store_id = $1 AND email = $2 AND NOT is_anonymous AND is_email_verified`,
  findByPhone: `SELECT ${mapping.ACCOUNT_SELECT} FROM users
    WHERE store_id = $1 AND country_code = $2 AND phone = $3 AND NOT is_anonymous AND is_phone_verified`,
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
  revokeBeyondNewest: mapping.REVOKE_BEYOND_NEWEST(D),
  revokeUserSessions: `UPDATE sessions SET revoked_at = $1, revoked_reason = $2
    WHERE user_id = $3 AND revoked_at IS NULL AND id IS DISTINCT FROM $4`,
  createOtp: `INSERT INTO otps (${mapping.OTP_COLUMNS}) VALUES (${mapping.params(D, mapping.OTP_COLUMN_COUNT)})`,
  // Counted only while the OTP is alive, consumed only when the code matches. Concurrent attempts
  // serialize on the row lock and re-check the WHERE: at most one consumes it.
  attemptOtp: `UPDATE otps
      SET attempts = attempts + 1,
          consumed_at = CASE WHEN code_hash = $2 THEN $3::bigint ELSE NULL END
    WHERE id = $1 AND consumed_at IS NULL AND attempts < $4::integer AND expires_at > $3::bigint
    RETURNING ${mapping.OTP_COLUMNS}`,
  getOtp: `SELECT ${mapping.OTP_COLUMNS} FROM otps WHERE id = $1`,
  redeemOtp: `UPDATE otps SET redeemed_at = $2
    WHERE id = $1 AND consumed_at IS NOT NULL AND redeemed_at IS NULL AND expires_at > $2
    RETURNING ${mapping.OTP_COLUMNS}`,
  getProfileImage: `SELECT ${mapping.PROFILE_IMAGE_COLUMNS} FROM profile_images WHERE user_id = $1`,
  insertProfileImage: mapping.profileImageStatement(false, D),
  replaceProfileImage: mapping.profileImageStatement(true, D),
  deleteProfileImage: 'DELETE FROM profile_images WHERE user_id = $1',
  getBackoff: mapping.GET_BACKOFF(D),
  setBackoff: mapping.SET_BACKOFF(D),
  clearBackoff: mapping.CLEAR_BACKOFF(D),
  insertOutbox: mapping.INSERT_OUTBOX(D),
  claimOutbox: mapping.CLAIM_OUTBOX(D),
  retryOutbox: mapping.RETRY_OUTBOX(D),
  finishOutbox: mapping.FINISH_OUTBOX(D),
} as const;

type StatementName = keyof typeof SQL;

/**
 * The storage contract on PostgreSQL, for production and for several instances sharing one
 * database. Concurrency is decided by row locks and the compare-and-swap, never in this process.
 * A database that cannot be reached answers AppError SERVICE_UNAVAILABLE (see ./errors.ts).
 */
export class PostgresDatabase implements Database {
  readonly pool: pg.Pool;
  /** How to connect, without the pool's timeouts (migrations use it). */
  private readonly connection: pg.ClientConfig;

  constructor(options: PostgresOptions) {
    const statementTimeout = options.statementTimeout ?? 5000;
    this.connection = {
      connectionString: options.url,
      keepAlive: true,
      application_name: options.applicationName ?? 'storefront-auth',
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

  /** Reported at most every 5 s: one line per outage, not one per failed request. */
  onUnavailable: ((failure: UnavailableReport) => void) | undefined;
  private lastUnavailableReport = 0;

  operator(): OperatorStore {
    return new PostgresOperator(this.pool);
  }

  poolStats(): PoolStats {
    return { total: this.pool.totalCount, idle: this.pool.idleCount, waiting: this.pool.waitingCount };
  }

  private async run(name: StatementName, values: unknown[]): Promise<pg.QueryResult<mapping.Row>> {
    try {
      return await this.pool.query<mapping.Row>({ name, text: SQL[name], values });
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
        await client.query(`CREATE TABLE IF NOT EXISTS schema_migrations (
          version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at BIGINT NOT NULL)`);
        const done = new Set(
          (await client.query<mapping.Row>('SELECT version FROM schema_migrations')).rows.map(
            (r) => r['version'],
          ),
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

  async getStore(id: string): Promise<model.StoreRecord | null> {
    const row = (await this.run('getStore', [id])).rows[0];
    return row ? mapping.storeFromRow(row) : null;
  }

  async createStore(store: model.StoreRecord): Promise<boolean> {
    return (await this.run('createStore', mapping.storeValues(store))).rowCount === 1;
  }

  async addApiKey(key: model.ApiKeyRecord): Promise<void> {
    await this.run('addApiKey', mapping.apiKeyValues(key));
  }

  async findApiKey(storeId: string, keyHash: string): Promise<model.ApiKeyRecord | null> {
    const row = (await this.run('findApiKey', [storeId, keyHash])).rows[0];
    return row ? mapping.apiKeyFromRow(row) : null;
  }

  async listSigningKeys(storeId: string): Promise<model.SigningKeyRecord[]> {
    return (await this.run('listSigningKeys', [storeId])).rows.map(mapping.signingKeyFromRow);
  }

  async addSigningKey(key: model.SigningKeyRecord): Promise<void> {
    await this.run('addSigningKey', mapping.signingKeyValues(key));
  }

  async createUser(user: model.UserRecord): Promise<void> {
    await this.run('createUser', mapping.userValues(user, D));
  }

  async getUser(id: string): Promise<model.UserRecord | null> {
    const row = (await this.run('getUser', [id])).rows[0];
    return row ? mapping.userFromRow(row, D) : null;
  }

  /**
   * Two statements rather than a transaction (two more round trips): a failure between them leaves
   * the user one session past the limit until their next sign-in, and concurrent sign-ins each
   * revoke what is past the limit once both sessions are in.
   */
  async createSession(session: model.SessionRecord, keep?: number): Promise<number> {
    await this.run('createSession', mapping.sessionValues(session));
    if (keep === undefined) return 0;
    return (await this.run('revokeBeyondNewest', [session.createdAt, session.userId, keep])).rowCount ?? 0;
  }

  async getSession(id: string): Promise<model.SessionWithUser | null> {
    const row = (await this.run('getSession', [id])).rows[0];
    return row ? { session: mapping.sessionFromRow(row, 's_'), user: mapping.userFromRow(row, D) } : null;
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
      sorted.map((i) => i.storeId),
      sorted.map((i) => i.userId),
      sorted.map((i) => i.jkt ?? null),
    ]);
    const byInput = new Map<RotateInput, RotateResult>();
    for (const row of rows) {
      const input = sorted[Number(row['ord']) - 1];
      if (!input) continue;
      byInput.set(input, {
        rotated: row['rotated'] === true,
        session: mapping.sessionFromRow(row, 's_'),
        user: mapping.userFromRow(row, D),
      });
    }
    return inputs.map((input) => byInput.get(input) ?? null);
  }

  async revokeSession(id: string, reason: model.RevokeReason, now: number): Promise<boolean> {
    return (await this.run('revoke', [now, reason, id])).rowCount === 1;
  }

  async recordDpopProof(jkt: string, jti: string, expiresAt: number): Promise<boolean> {
    return (await this.run('recordDpopProof', [jkt, jti, expiresAt])).rowCount === 1;
  }

  async recordSecurityEvent(e: model.SecurityEvent): Promise<void> {
    await this.run('addEvent', mapping.securityEventValues(e));
  }

  async getStoreSettings(storeId: string): Promise<model.StoreSettings> {
    return mapping.storeSettingsFromRow((await this.run('getStoreSettings', [storeId])).rows[0], D);
  }

  async setStoreSettings(storeId: string, settings: model.StoreSettings): Promise<void> {
    await this.run('setStoreSettings', [...mapping.storeSettingsValues(settings, D), storeId]);
  }

  async getStoreLimits(storeId: string): Promise<Record<string, number>> {
    return mapping.storeLimitsFromRows((await this.run('getStoreLimits', [storeId])).rows);
  }

  async setStoreLimit(storeId: string, name: string, value: number | null): Promise<void> {
    if (value === null) await this.run('clearStoreLimit', [storeId, name]);
    else await this.run('setStoreLimit', [storeId, name, value]);
  }

  async createAccount(account: model.UserAccount): Promise<boolean> {
    return (await this.run('createAccount', mapping.accountValues(account, D))).rowCount === 1;
  }

  async getAccount(userId: string): Promise<model.UserAccount | null> {
    const row = (await this.run('getAccount', [userId])).rows[0];
    return row ? mapping.accountFromRow(row, D) : null;
  }

  async findAccountByEmail(storeId: string, email: string): Promise<model.UserAccount | null> {
    const row = (await this.run('findByEmail', [storeId, email])).rows[0];
    return row ? mapping.accountFromRow(row, D) : null;
  }

  async findAccountByPhone(
    storeId: string,
    countryCode: string,
    phone: string,
  ): Promise<model.UserAccount | null> {
    const row = (await this.run('findByPhone', [storeId, countryCode, phone])).rows[0];
    return row ? mapping.accountFromRow(row, D) : null;
  }

  async updateUser(userId: string, patch: model.UserPatch, now: number): Promise<UserUpdateOutcome> {
    const { text, values } = mapping.userPatchStatement(userId, patch, now, D);
    try {
      return (await this.pool.query(text, values)).rowCount === 1 ? 'updated' : 'missing';
    } catch (error) {
      if ((error as { code?: string }).code === '23505') return 'conflict';
      throw this.translate(error);
    }
  }

  async claimIdentifier(userId: string, identifier: model.Identifier, now: number): Promise<ClaimOutcome> {
    const { release, claim } = mapping.claimStatements(userId, identifier, now, D);
    return this.transaction<ClaimOutcome>(async (client) => {
      const released = await client.query<mapping.Row>(release.text, release.values);
      if ((await client.query(claim.text, claim.values)).rowCount !== 1)
        return { rollback: { outcome: 'missing' } };
      return { commit: { outcome: 'claimed', releasedFrom: released.rows.map((r) => String(r['id'])) } };
    }).catch((error: unknown): ClaimOutcome => {
      if ((error as { code?: string }).code === '23505') return { outcome: 'conflict' };
      throw this.translate(error);
    });
  }

  /**
   * Runs `work` in a transaction on one pooled connection: it answers `commit` or `rollback` with
   * the value to return; a throw rolls back and rejects with the driver's error.
   */
  private async transaction<T>(
    work: (client: pg.PoolClient) => Promise<{ commit: T } | { rollback: T }>,
  ): Promise<T> {
    const client = await this.pool.connect().catch((error: unknown) => {
      throw this.translate(error);
    });
    try {
      await client.query('BEGIN');
      const result = await work(client);
      await client.query('commit' in result ? 'COMMIT' : 'ROLLBACK');
      return 'commit' in result ? result.commit : result.rollback;
    } catch (error) {
      await client.query('ROLLBACK').catch(() => {});
      throw error;
    } finally {
      client.release();
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
    reason: model.RevokeReason,
    now: number,
    exceptSessionId?: string,
  ): Promise<number> {
    return (
      (await this.run('revokeUserSessions', [now, reason, userId, exceptSessionId ?? null])).rowCount ?? 0
    );
  }

  async createOtp(otp: model.OtpRecord, delivery: model.OutboxMessage | null): Promise<void> {
    if (!delivery) {
      await this.run('createOtp', mapping.otpValues(otp));
      return;
    }
    await this.transaction(async (client) => {
      await client.query({ name: 'createOtp', text: SQL.createOtp, values: mapping.otpValues(otp) });
      await client.query({
        name: 'insertOutbox',
        text: SQL.insertOutbox,
        values: mapping.outboxValues(delivery),
      });
      return { commit: undefined };
    }).catch((error: unknown) => {
      throw this.translate(error);
    });
  }

  async attemptOtp(id: string, codeHash: string, now: number, maxAttempts: number): Promise<OtpAttempt> {
    const updated = (await this.run('attemptOtp', [id, codeHash, now, maxAttempts])).rows[0];
    if (updated) return mapping.countedOtpAttempt(updated, D);
    // A second statement, so a fresh snapshot: it sees the attempt that beat this one, if any.
    return mapping.refusedOtpAttempt((await this.run('getOtp', [id])).rows[0], maxAttempts, D);
  }

  async redeemOtp(id: string, now: number): Promise<OtpRedemption> {
    const updated = (await this.run('redeemOtp', [id, now])).rows[0];
    if (updated) return { outcome: 'redeemed', record: mapping.otpFromRow(updated, D) };
    return mapping.refusedOtpRedemption((await this.run('getOtp', [id])).rows[0], now, D);
  }

  async getProfileImage(userId: string): Promise<model.ProfileImageRecord | null> {
    const row = (await this.run('getProfileImage', [userId])).rows[0];
    return row ? mapping.profileImageFromRow(row) : null;
  }

  async putProfileImage(image: model.ProfileImageRecord, replace: boolean): Promise<boolean> {
    try {
      const name = replace ? 'replaceProfileImage' : 'insertProfileImage';
      return (await this.run(name, mapping.profileImageParams(replace, image))).rowCount === 1;
    } catch (error) {
      // The user (or store) is gone: the foreign key refuses an image nobody owns.
      if ((error as { code?: string }).code === '23503') return false;
      throw error;
    }
  }

  async deleteProfileImage(userId: string): Promise<boolean> {
    return (await this.run('deleteProfileImage', [userId])).rowCount === 1;
  }

  async findOtp(id: string): Promise<model.OtpRecord | null> {
    const row = (await this.run('getOtp', [id])).rows[0];
    return row ? mapping.otpFromRow(row, D) : null;
  }

  async getBackoff(storeId: string, key: string): Promise<model.BackoffState> {
    return mapping.backoffFromRow((await this.run('getBackoff', [storeId, key])).rows[0]);
  }

  async setBackoff(
    storeId: string,
    key: string,
    expectedFailures: number,
    next: model.BackoffState,
  ): Promise<boolean> {
    const values = [storeId, key, next.failures, next.nextAttemptAt, expectedFailures];
    return (await this.run('setBackoff', values)).rowCount === 1;
  }

  async clearBackoff(storeId: string, key: string): Promise<void> {
    await this.run('clearBackoff', [storeId, key]);
  }

  async claimOutbox(now: number, limit: number, leaseUntil: number): Promise<model.OutboxMessage[]> {
    const { rows } = await this.run('claimOutbox', [leaseUntil, now, limit]);
    return rows.map((row) => mapping.outboxFromRow(row, D));
  }

  async retryOutbox(id: string, nextAttemptAt: number): Promise<void> {
    await this.run('retryOutbox', [nextAttemptAt, id]);
  }

  async finishOutbox(id: string, outcome: 'delivered' | 'failed', now: number): Promise<boolean> {
    return (await this.run('finishOutbox', [now, outcome, id])).rowCount === 1;
  }
}
