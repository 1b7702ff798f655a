import type pg from 'pg';
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
import { postgresDialect as D } from './dialect.js';
import { toAppError } from './errors.js';

/** Runs one statement inside a transaction; answers how many rows it changed. */
async function run(client: pg.PoolClient, statement: mapping.Statement): Promise<number> {
  return (await client.query(statement.text, statement.values)).rowCount ?? 0;
}

const PURGE: Record<PurgeKind, string> = {
  sessions: `DELETE FROM sessions WHERE id IN (
      SELECT id FROM sessions WHERE idle_expires_at <= $1 OR absolute_expires_at <= $1 LIMIT $2)`,
  anonymous_users: `DELETE FROM users WHERE id IN (
      SELECT u.id FROM users u WHERE u.is_anonymous AND u.created_at <= $1 - $3::bigint
         AND NOT EXISTS (SELECT 1 FROM sessions s WHERE s.user_id = u.id) LIMIT $2)`,
  otps: `DELETE FROM otps WHERE id IN (
      SELECT id FROM otps WHERE expires_at <= $1 OR consumed_at IS NOT NULL LIMIT $2)`,
  security_events: `DELETE FROM security_events WHERE id IN (
      SELECT id FROM security_events WHERE created_at <= $1 - ${SECURITY_EVENT_RETENTION_MS}::bigint LIMIT $2)`,
  dpop_proofs: `DELETE FROM dpop_proofs WHERE (jkt, jti) IN (
      SELECT jkt, jti FROM dpop_proofs WHERE expires_at <= $1 LIMIT $2)`,
  outbox: `DELETE FROM outbox WHERE id IN (
      SELECT id FROM outbox WHERE done_at IS NOT NULL AND done_at <= $1 - ${OUTBOX_RETENTION_MS}::bigint LIMIT $2)`,
  otp_backoff: `DELETE FROM otp_backoff WHERE (store_id, key) IN (
      SELECT store_id, key FROM otp_backoff WHERE next_attempt_at <= $1 - ${OTP_BACKOFF_RETENTION_MS}::bigint LIMIT $2)`,
};

export class PostgresOperator implements OperatorStore {
  constructor(private readonly pool: pg.Pool) {}

  private async query(text: string, values: unknown[] = []): Promise<pg.QueryResult<mapping.Row>> {
    try {
      return await this.pool.query<mapping.Row>(text, values);
    } catch (error) {
      throw toAppError(error);
    }
  }

  async listStores(): Promise<model.StoreRecord[]> {
    const { rows } = await this.query(`SELECT ${mapping.STORE_COLUMNS} FROM stores ORDER BY id`);
    return rows.map(mapping.storeFromRow);
  }

  async listApiKeys(storeId: string): Promise<model.ApiKeyRecord[]> {
    const { rows } = await this.query(
      `SELECT ${mapping.API_KEY_COLUMNS} FROM api_keys WHERE store_id = $1 ORDER BY created_at, id`,
      [storeId],
    );
    return rows.map(mapping.apiKeyFromRow);
  }

  async revokeApiKey(storeId: string, keyId: string, now: number): Promise<boolean> {
    const { rowCount } = await this.query(
      'UPDATE api_keys SET revoked_at = $1 WHERE store_id = $2 AND id = $3 AND revoked_at IS NULL',
      [now, storeId, keyId],
    );
    return rowCount === 1;
  }

  private async transaction<T>(work: (client: pg.PoolClient) => Promise<T>): Promise<T> {
    let client: pg.PoolClient | undefined;
    try {
      client = await this.pool.connect();
      await client.query('BEGIN');
      const result = await work(client);
      await client.query('COMMIT');
      return result;
    } catch (error) {
      await client?.query('ROLLBACK').catch(() => {});
      throw toAppError(error);
    } finally {
      client?.release();
    }
  }

  async rotateSigningKeys(
    storeId: string,
    newKeys: model.SigningKeyRecord[],
    rotateAt: number,
    retireAt: Record<model.SigningKeyRecord['use'], number>,
    now: number,
  ): Promise<void> {
    const statements = mapping.rotationStatements(storeId, newKeys, rotateAt, retireAt, now, D);
    await this.transaction(async (client) => {
      for (const statement of statements) await run(client, statement);
    });
  }

  async retireSigningKey(
    storeId: string,
    kid: string,
    now: number,
    replacement: model.SigningKeyRecord | undefined,
  ): Promise<boolean> {
    return this.transaction(async (client) => {
      if ((await run(client, mapping.retireSigningKeyStatement(storeId, kid, now, D))) !== 1) return false;
      if (replacement) await run(client, mapping.addSigningKeyStatement(replacement, D));
      return true;
    });
  }

  async replaceSigningKeyMaterial(storeId: string, kid: string, from: string, to: string): Promise<boolean> {
    const { text, values } = mapping.replaceSigningKeyMaterialStatement(storeId, kid, from, to, D);
    const { rowCount } = await this.query(text, values);
    return rowCount === 1;
  }

  async listSessions(filter: SessionFilter): Promise<model.SessionRecord[]> {
    const where: string[] = [];
    const values: unknown[] = [filter.limit];
    if (filter.storeId) {
      values.push(filter.storeId);
      where.push(`store_id = $${values.length}`);
    }
    if (filter.userId) {
      values.push(filter.userId);
      where.push(`user_id = $${values.length}`);
    }
    if (!filter.all) {
      values.push(filter.now);
      const n = `$${values.length}`;
      where.push(`revoked_at IS NULL AND idle_expires_at > ${n} AND absolute_expires_at > ${n}`);
    }
    const { rows } = await this.query(
      `SELECT ${mapping.SESSION_COLUMNS} FROM sessions ${where.length ? `WHERE ${where.join(' AND ')}` : ''}
        ORDER BY created_at DESC LIMIT $1`,
      values,
    );
    return rows.map((row) => mapping.sessionFromRow(row));
  }

  async countActiveSessions(now: number): Promise<number> {
    const { rows } = await this.query(
      'SELECT count(*)::integer AS n FROM sessions WHERE revoked_at IS NULL AND idle_expires_at > $1 AND absolute_expires_at > $1',
      [now],
    );
    return Number(rows[0]?.['n'] ?? 0);
  }

  async purgeBatch(
    kind: PurgeKind,
    now: number,
    limit: number,
    anonymousIdleMs: number,
  ): Promise<PurgeBatch> {
    const values = kind === 'anonymous_users' ? [now, limit, anonymousIdleMs] : [now, limit];
    const { rowCount } = await this.query(PURGE[kind], values);
    return indexedBatch(rowCount ?? 0, limit);
  }
}
