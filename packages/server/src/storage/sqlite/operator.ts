import type BetterSqlite3 from 'better-sqlite3';
import type * as model from '../../model.js';
import {
  indexedBatch,
  type OperatorStore,
  OTP_BACKOFF_RETENTION_MS,
  OUTBOX_RETENTION_MS,
  type PurgeBatch,
  type PurgeKind,
  SECURITY_EVENT_RETENTION_MS,
  type SessionFilter,
} from '../operator.js';
import * as mapping from '../rows.js';
import type { BackgroundCheckpointer } from './checkpointer.js';
import { sqliteDialect as D } from './dialect.js';

const PURGE: Record<Exclude<PurgeKind, 'sessions'>, string> = {
  anonymous_users: `DELETE FROM users WHERE rowid IN (
      SELECT u.rowid FROM users u WHERE u.is_anonymous = 1 AND u.created_at <= @now - @anonymousIdleMs
         AND NOT EXISTS (SELECT 1 FROM sessions s WHERE s.user_id = u.id) LIMIT @limit)`,
  otps: `DELETE FROM otps WHERE rowid IN (
      SELECT rowid FROM otps WHERE expires_at <= @now OR consumed_at IS NOT NULL LIMIT @limit)`,
  security_events: `DELETE FROM security_events WHERE id IN (
      SELECT id FROM security_events WHERE created_at <= @now - ${SECURITY_EVENT_RETENTION_MS} LIMIT @limit)`,
  dpop_proofs: `DELETE FROM dpop_proofs WHERE (jkt, jti) IN (
      SELECT jkt, jti FROM dpop_proofs WHERE expires_at <= @now LIMIT @limit)`,
  outbox: `DELETE FROM outbox WHERE id IN (
      SELECT id FROM outbox WHERE done_at IS NOT NULL AND done_at <= @now - ${OUTBOX_RETENTION_MS} LIMIT @limit)`,
  otp_backoff: `DELETE FROM otp_backoff WHERE (store_id, key) IN (
      SELECT store_id, key FROM otp_backoff WHERE next_attempt_at <= @now - ${OTP_BACKOFF_RETENTION_MS} LIMIT @limit)`,
};

/**
 * Sessions are purged by walking the table in windows of rowids: with no index on
 * idle_expires_at (migration 12) a search for expired sessions would read every page of the
 * table in one statement, on the event loop. A window is found through the rowid B-tree and
 * only its rows are read; rowids only grow, so sessions created during the walk lie past it.
 */
const SESSION_WINDOW_END =
  'SELECT max(rowid) AS last FROM (SELECT rowid FROM sessions WHERE rowid > ? ORDER BY rowid LIMIT ?)';
const PURGE_SESSION_WINDOW = `DELETE FROM sessions WHERE rowid > @after AND rowid <= @last
    AND (idle_expires_at <= @now OR absolute_expires_at <= @now)`;

const COUNT_ACTIVE_SESSIONS =
  'SELECT count(*) AS n FROM sessions WHERE revoked_at IS NULL AND idle_expires_at > ? AND absolute_expires_at > ?';

export class SqliteOperator implements OperatorStore {
  /** `background`: the worker's connection, for the reads that walk a whole table (none for `:memory:`). */
  constructor(
    private readonly sqlite: BetterSqlite3.Database,
    private readonly background?: BackgroundCheckpointer,
  ) {}

  async listStores(): Promise<model.StoreRecord[]> {
    return (
      this.sqlite.prepare(`SELECT ${mapping.STORE_COLUMNS} FROM stores ORDER BY id`).all() as mapping.Row[]
    ).map(mapping.storeFromRow);
  }

  async listApiKeys(storeId: string): Promise<model.ApiKeyRecord[]> {
    const rows = this.sqlite
      .prepare(`SELECT ${mapping.API_KEY_COLUMNS} FROM api_keys WHERE store_id = ? ORDER BY created_at, id`)
      .all(storeId) as mapping.Row[];
    return rows.map(mapping.apiKeyFromRow);
  }

  async revokeApiKey(storeId: string, keyId: string, now: number): Promise<boolean> {
    return (
      this.sqlite
        .prepare('UPDATE api_keys SET revoked_at = ? WHERE store_id = ? AND id = ? AND revoked_at IS NULL')
        .run(now, storeId, keyId).changes === 1
    );
  }

  async rotateSigningKeys(
    storeId: string,
    newKeys: model.SigningKeyRecord[],
    rotateAt: number,
    retireAt: Record<model.SigningKeyRecord['use'], number>,
    now: number,
  ): Promise<void> {
    const statements = mapping.rotationStatements(storeId, newKeys, rotateAt, retireAt, now, D);
    this.sqlite.transaction(() => {
      for (const statement of statements) this.run(statement);
    })();
  }

  async retireSigningKey(
    storeId: string,
    kid: string,
    now: number,
    replacement: model.SigningKeyRecord | undefined,
  ): Promise<boolean> {
    return this.sqlite.transaction(() => {
      if (this.run(mapping.retireSigningKeyStatement(storeId, kid, now, D)) !== 1) return false;
      if (replacement) this.run(mapping.addSigningKeyStatement(replacement, D));
      return true;
    })();
  }

  async replaceSigningKeyMaterial(storeId: string, kid: string, from: string, to: string): Promise<boolean> {
    return this.run(mapping.replaceSigningKeyMaterialStatement(storeId, kid, from, to, D)) === 1;
  }

  /** Runs one statement; answers how many rows it changed. */
  private run(statement: mapping.Statement): number {
    return this.sqlite.prepare(statement.text).run(...statement.values).changes;
  }

  async listSessions(filter: SessionFilter): Promise<model.SessionRecord[]> {
    const where: string[] = [];
    const values: Record<string, unknown> = { limit: filter.limit, now: filter.now };
    if (filter.storeId) {
      where.push('store_id = @storeId');
      values['storeId'] = filter.storeId;
    }
    if (filter.userId) {
      where.push('user_id = @userId');
      values['userId'] = filter.userId;
    }
    if (!filter.all)
      where.push('revoked_at IS NULL AND idle_expires_at > @now AND absolute_expires_at > @now');
    const sql = `SELECT ${mapping.SESSION_COLUMNS} FROM sessions ${where.length ? `WHERE ${where.join(' AND ')}` : ''}
      ORDER BY created_at DESC LIMIT @limit`;
    return (this.sqlite.prepare(sql).all(values) as mapping.Row[]).map((row) => mapping.sessionFromRow(row));
  }

  async countActiveSessions(now: number): Promise<number> {
    // A walk of the whole table (no index covers it since migration 12): off the event loop.
    const row = (
      this.background
        ? await this.background.read(COUNT_ACTIVE_SESSIONS, [now, now])
        : this.sqlite.prepare(COUNT_ACTIVE_SESSIONS).get(now, now)
    ) as { n: number };
    return row.n;
  }

  async purgeBatch(
    kind: PurgeKind,
    now: number,
    limit: number,
    anonymousIdleMs: number,
    after = 0,
  ): Promise<PurgeBatch> {
    if (kind === 'sessions') {
      const { last } = this.sqlite.prepare(SESSION_WINDOW_END).get(after, limit) as { last: number | null };
      if (last === null) return { deleted: 0 };
      const deleted = this.sqlite.prepare(PURGE_SESSION_WINDOW).run({ after, last, now }).changes;
      return { deleted, next: last };
    }
    const values: Record<string, number> = { now, limit };
    if (kind === 'anonymous_users') values['anonymousIdleMs'] = anonymousIdleMs;
    return indexedBatch(this.sqlite.prepare(PURGE[kind]).run(values).changes, limit);
  }
}
