import type Database from 'better-sqlite3';
import type { ApiKeyRecord, SessionRecord, SigningKeyRecord, StoreRecord } from '../contract.js';
import {
  type OperatorStore,
  type PurgeKind,
  SECURITY_EVENT_RETENTION_MS,
  type SessionFilter,
} from '../operator.js';
import { apiKeyFromRow, sessionFromRow } from '../rows.js';

type Row = Record<string, unknown>;

const ADD_SIGNING_KEY = `INSERT INTO signing_keys (kid, store_id, use, alg, private_jwk, created_at, rotated_at, retired_at)
  VALUES (@kid, @storeId, @use, @alg, @privateJwk, @createdAt, @rotatedAt, @retiredAt)`;

const PURGE: Record<PurgeKind, string> = {
  sessions: `DELETE FROM sessions WHERE rowid IN (
      SELECT rowid FROM sessions WHERE idle_expires_at <= @now OR absolute_expires_at <= @now LIMIT @limit)`,
  anonymous_users: `DELETE FROM users WHERE rowid IN (
      SELECT u.rowid FROM users u WHERE u.is_anonymous = 1 AND u.created_at <= @now - @anonymousIdleMs
         AND NOT EXISTS (SELECT 1 FROM sessions s WHERE s.user_id = u.id) LIMIT @limit)`,
  otps: `DELETE FROM otps WHERE rowid IN (
      SELECT rowid FROM otps WHERE expires_at <= @now OR consumed_at IS NOT NULL LIMIT @limit)`,
  security_events: `DELETE FROM security_events WHERE id IN (
      SELECT id FROM security_events WHERE created_at <= @now - ${SECURITY_EVENT_RETENTION_MS} LIMIT @limit)`,
};

export class SqliteOperator implements OperatorStore {
  constructor(private readonly db: Database.Database) {}

  async listStores(): Promise<StoreRecord[]> {
    return (this.db.prepare('SELECT id, name, created_at FROM stores ORDER BY id').all() as Row[]).map(
      (r) => ({
        id: r['id'] as string,
        name: r['name'] as string,
        createdAt: r['created_at'] as number,
      }),
    );
  }

  async listApiKeys(storeId: string): Promise<ApiKeyRecord[]> {
    const rows = this.db
      .prepare('SELECT * FROM api_keys WHERE store_id = ? ORDER BY created_at, id')
      .all(storeId) as Row[];
    return rows.map(apiKeyFromRow);
  }

  async revokeApiKey(storeId: string, keyId: string, now: number): Promise<boolean> {
    return (
      this.db
        .prepare('UPDATE api_keys SET revoked_at = ? WHERE store_id = ? AND id = ? AND revoked_at IS NULL')
        .run(now, storeId, keyId).changes === 1
    );
  }

  async rotateSigningKeys(
    storeId: string,
    newKeys: SigningKeyRecord[],
    rotateAt: number,
    retireAt: Record<SigningKeyRecord['use'], number>,
    now: number,
  ): Promise<void> {
    const retire = this.db.prepare(
      `UPDATE signing_keys SET rotated_at = ?, retired_at = ?
        WHERE store_id = ? AND use = ? AND (rotated_at IS NULL OR rotated_at > ?)`,
    );
    const add = this.db.prepare(ADD_SIGNING_KEY);
    this.db.transaction(() => {
      for (const use of ['access', 'refresh'] as const) {
        if (newKeys.some((k) => k.use === use)) retire.run(rotateAt, retireAt[use], storeId, use, now);
      }
      for (const key of newKeys) add.run(key);
    })();
  }

  async retireSigningKey(
    storeId: string,
    kid: string,
    now: number,
    replacement: SigningKeyRecord | undefined,
  ): Promise<boolean> {
    const retire = this.db.prepare(
      `UPDATE signing_keys SET retired_at = @now,
              rotated_at = CASE WHEN rotated_at IS NULL OR rotated_at > @now THEN @now ELSE rotated_at END
        WHERE store_id = @storeId AND kid = @kid AND (retired_at IS NULL OR retired_at > @now)`,
    );
    const add = this.db.prepare(ADD_SIGNING_KEY);
    return this.db.transaction(() => {
      if (retire.run({ now, storeId, kid }).changes !== 1) return false;
      if (replacement) add.run(replacement);
      return true;
    })();
  }

  async replaceSigningKeyMaterial(storeId: string, kid: string, from: string, to: string): Promise<boolean> {
    return (
      this.db
        .prepare('UPDATE signing_keys SET private_jwk = ? WHERE store_id = ? AND kid = ? AND private_jwk = ?')
        .run(to, storeId, kid, from).changes === 1
    );
  }

  async listSessions(filter: SessionFilter): Promise<SessionRecord[]> {
    const where: string[] = [];
    const params: Record<string, unknown> = { limit: filter.limit, now: filter.now };
    if (filter.storeId) {
      where.push('store_id = @storeId');
      params['storeId'] = filter.storeId;
    }
    if (filter.userId) {
      where.push('user_id = @userId');
      params['userId'] = filter.userId;
    }
    if (!filter.all)
      where.push('revoked_at IS NULL AND idle_expires_at > @now AND absolute_expires_at > @now');
    const sql = `SELECT * FROM sessions ${where.length ? `WHERE ${where.join(' AND ')}` : ''}
      ORDER BY created_at DESC LIMIT @limit`;
    return (this.db.prepare(sql).all(params) as Row[]).map(sessionFromRow);
  }

  async countActiveSessions(now: number): Promise<number> {
    const row = this.db
      .prepare(
        'SELECT count(*) AS n FROM sessions WHERE revoked_at IS NULL AND idle_expires_at > ? AND absolute_expires_at > ?',
      )
      .get(now, now) as { n: number };
    return row.n;
  }

  async purgeBatch(kind: PurgeKind, now: number, limit: number, anonymousIdleMs: number): Promise<number> {
    const params: Record<string, number> = { now, limit };
    if (kind === 'anonymous_users') params['anonymousIdleMs'] = anonymousIdleMs;
    return this.db.prepare(PURGE[kind]).run(params).changes;
  }
}
