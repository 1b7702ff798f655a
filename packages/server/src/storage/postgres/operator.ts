import type pg from 'pg';
import type { ApiKeyRecord, SessionRecord, SigningKeyRecord, StoreRecord } from '../contract.js';
import {
  type OperatorStore,
  type PurgeKind,
  SECURITY_EVENT_RETENTION_MS,
  type SessionFilter,
} from '../operator.js';
import { apiKeyFromRow, sessionFromRow } from '../rows.js';
import { toAppError } from './errors.js';

type Row = Record<string, unknown>;

const addSigningKey = (client: pg.PoolClient, k: SigningKeyRecord) =>
  client.query(
    `INSERT INTO signing_keys (kid, store_id, use, alg, private_jwk, created_at, rotated_at, retired_at)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8)`,
    [k.kid, k.storeId, k.use, k.alg, k.privateJwk, k.createdAt, k.rotatedAt, k.retiredAt],
  );

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
};

export class PostgresOperator implements OperatorStore {
  constructor(private readonly pool: pg.Pool) {}

  private async query(text: string, values: unknown[] = []): Promise<pg.QueryResult<Row>> {
    try {
      return await this.pool.query<Row>(text, values);
    } catch (error) {
      throw toAppError(error);
    }
  }

  async listStores(): Promise<StoreRecord[]> {
    const { rows } = await this.query('SELECT id, name, created_at FROM stores ORDER BY id');
    return rows.map((r) => ({
      id: r['id'] as string,
      name: r['name'] as string,
      createdAt: Number(r['created_at']),
    }));
  }

  async listApiKeys(storeId: string): Promise<ApiKeyRecord[]> {
    const { rows } = await this.query(
      'SELECT id, store_id, key_hash, kind, created_at, revoked_at, label, key_prefix FROM api_keys WHERE store_id = $1 ORDER BY created_at, id',
      [storeId],
    );
    return rows.map(apiKeyFromRow);
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
    newKeys: SigningKeyRecord[],
    rotateAt: number,
    retireAt: Record<SigningKeyRecord['use'], number>,
    now: number,
  ): Promise<void> {
    await this.transaction(async (client) => {
      for (const use of ['access', 'refresh'] as const) {
        if (!newKeys.some((k) => k.use === use)) continue;
        await client.query(
          `UPDATE signing_keys SET rotated_at = $1, retired_at = $2
            WHERE store_id = $3 AND use = $4 AND (rotated_at IS NULL OR rotated_at > $5)`,
          [rotateAt, retireAt[use], storeId, use, now],
        );
      }
      for (const k of newKeys) await addSigningKey(client, k);
    });
  }

  async retireSigningKey(
    storeId: string,
    kid: string,
    now: number,
    replacement: SigningKeyRecord | undefined,
  ): Promise<boolean> {
    return this.transaction(async (client) => {
      const { rowCount } = await client.query(
        `UPDATE signing_keys SET retired_at = $1,
                rotated_at = CASE WHEN rotated_at IS NULL OR rotated_at > $1 THEN $1 ELSE rotated_at END
          WHERE store_id = $2 AND kid = $3 AND (retired_at IS NULL OR retired_at > $1)`,
        [now, storeId, kid],
      );
      if (rowCount !== 1) return false;
      if (replacement) await addSigningKey(client, replacement);
      return true;
    });
  }

  async replaceSigningKeyMaterial(storeId: string, kid: string, from: string, to: string): Promise<boolean> {
    const { rowCount } = await this.query(
      'UPDATE signing_keys SET private_jwk = $1 WHERE store_id = $2 AND kid = $3 AND private_jwk = $4',
      [to, storeId, kid, from],
    );
    return rowCount === 1;
  }

  async listSessions(filter: SessionFilter): Promise<SessionRecord[]> {
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
      `SELECT id, store_id, user_id, anonymous_id, generation, created_at, rotated_at, idle_expires_at,
              absolute_expires_at, revoked_at, revoked_reason
         FROM sessions ${where.length ? `WHERE ${where.join(' AND ')}` : ''}
        ORDER BY created_at DESC LIMIT $1`,
      values,
    );
    return rows.map(sessionFromRow);
  }

  async countActiveSessions(now: number): Promise<number> {
    const { rows } = await this.query(
      'SELECT count(*)::integer AS n FROM sessions WHERE revoked_at IS NULL AND idle_expires_at > $1 AND absolute_expires_at > $1',
      [now],
    );
    return Number(rows[0]?.['n'] ?? 0);
  }

  async purgeBatch(kind: PurgeKind, now: number, limit: number, anonymousIdleMs: number): Promise<number> {
    const values = kind === 'anonymous_users' ? [now, limit, anonymousIdleMs] : [now, limit];
    const { rowCount } = await this.query(PURGE[kind], values);
    return rowCount ?? 0;
  }
}
