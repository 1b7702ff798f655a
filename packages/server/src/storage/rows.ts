import type { ApiKeyRecord, SessionRecord } from './contract.js';

/**
 * Row-to-record mappers shared by both backends, for tables read with their plain column names
 * (SQLite answers integers as numbers, PostgreSQL BIGINTs as numbers too once parsed; Number()
 * makes either safe).
 */
type Row = Record<string, unknown>;

export function apiKeyFromRow(row: Row): ApiKeyRecord {
  return {
    id: row['id'] as string,
    storeId: row['store_id'] as string,
    keyHash: row['key_hash'] as string,
    kind: row['kind'] as ApiKeyRecord['kind'],
    createdAt: Number(row['created_at']),
    revokedAt: row['revoked_at'] === null ? null : Number(row['revoked_at']),
    ...(typeof row['label'] === 'string' ? { label: row['label'] } : {}),
    ...(typeof row['key_prefix'] === 'string' ? { prefix: row['key_prefix'] } : {}),
  };
}

export function sessionFromRow(r: Row): SessionRecord {
  return {
    id: r['id'] as string,
    storeId: r['store_id'] as string,
    userId: r['user_id'] as string,
    anonymousId: r['anonymous_id'] as string | null,
    generation: Number(r['generation']),
    createdAt: Number(r['created_at']),
    rotatedAt: Number(r['rotated_at']),
    idleExpiresAt: Number(r['idle_expires_at']),
    absoluteExpiresAt: Number(r['absolute_expires_at']),
    revokedAt: r['revoked_at'] === null ? null : Number(r['revoked_at']),
    revokedReason: r['revoked_reason'] as SessionRecord['revokedReason'],
  };
}
