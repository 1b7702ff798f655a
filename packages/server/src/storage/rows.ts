import type * as model from '../model.js';
import type { OtpAttempt, OtpRedemption } from './contract.js';

/**
 * Records to rows and rows to records, written once for both backends: the column lists, their
 * order, the defaults of columns later migrations added, and what an OTP attempt's rows mean.
 * A schema change is made here and in each backend's migrations, nowhere else. What the two
 * drivers answer differently for the same column comes through a Dialect.
 */
export type Row = Record<string, unknown>;

/** What better-sqlite3 and node-postgres do differently with the same column or parameter. */
export interface Dialect {
  /** A boolean parameter: SQLite has no BOOLEAN and stores 0 or 1; PostgreSQL takes true or false. */
  boolean(value: boolean): unknown;
  readBoolean(value: unknown): boolean;
  /** A JSON column, parsed (SQLite keeps TEXT; node-postgres parses JSONB itself); null for null. */
  readJson(value: unknown): unknown;
  /** The placeholder of the n-th parameter (from 1), in the order parameters appear in the SQL. */
  param(n: number): string;
  /**
   * What a SELECT that picks rows to claim ends with: PostgreSQL's `FOR UPDATE SKIP LOCKED`, so
   * instances claiming at once take disjoint rows without waiting; nothing in SQLite, whose one
   * writer at a time makes every claim see the claims before it.
   */
  readonly skipLocked: string;
  /** The LIMIT that limits nothing, for an OFFSET alone: `-1` in SQLite, `ALL` in PostgreSQL. */
  readonly noLimit: string;
}

/** The placeholders of `count` parameters from the `first`-th: `?, ?, ?` or `$1, $2, $3`. */
export function params(d: Dialect, count: number, first = 1): string {
  return Array.from({ length: count }, (_, i) => d.param(first + i)).join(', ');
}

/**
 * Times are integer milliseconds in both backends (PostgreSQL BIGINT is parsed to a number where
 * the pool is made); Number() keeps a stray string or bigint from leaking into a record.
 */
const time = (value: unknown): number => Number(value);
const timeOrNull = (value: unknown): number | null =>
  value === null || value === undefined ? null : Number(value);
const text = (value: unknown): string => value as string;
const textOrNull = (value: unknown): string | null => (value ?? null) as string | null;

/** `a, b, c` for a column list; `t.a, t.b, t.c` with an alias. */
function list(fields: readonly string[], alias?: string): string {
  return fields.map((f) => (alias ? `${alias}.${f}` : f)).join(', ');
}

// Columns are always listed, never `*`: a PostgreSQL prepared statement's result shape is fixed per
// connection, and a migration that adds a column must not break instances still running.

const STORE = ['id', 'name', 'created_at'] as const;
export const STORE_COLUMNS = list(STORE);

export function storeFromRow(row: Row): model.StoreRecord {
  return { id: text(row['id']), name: text(row['name']), createdAt: time(row['created_at']) };
}

export const storeValues = (s: model.StoreRecord): unknown[] => [s.id, s.name, s.createdAt];

export function storeSettingsFromRow(row: Row | undefined, d: Dialect): model.StoreSettings {
  return {
    otpDebug: d.readBoolean(row?.['otp_debug']),
    audience: textOrNull(row?.['audience']),
    requireDpop: d.readBoolean(row?.['require_dpop']),
  };
}

/** The settings columns of `stores`, read by `storeSettingsFromRow`. */
export const STORE_SETTINGS_COLUMNS = 'otp_debug, audience, require_dpop';

/** `UPDATE stores SET <settings> WHERE id = <last>`: parameters are `storeSettingsValues` then the store id. */
export const SET_STORE_SETTINGS = (d: Dialect) =>
  `UPDATE stores SET otp_debug = ${d.param(1)}, audience = ${d.param(2)}, require_dpop = ${d.param(3)} WHERE id = ${d.param(4)}`;

export const storeSettingsValues = (s: model.StoreSettings, d: Dialect): unknown[] => [
  d.boolean(s.otpDebug),
  s.audience,
  d.boolean(s.requireDpop ?? false),
];

/**
 * Records a DPoP proof's (thumbprint, jti) until `expires_at`; a second insert of the same pair
 * changes no row (the proof was replayed). Parameters: jkt, jti, expires at.
 */
export const INSERT_DPOP_PROOF = (d: Dialect) =>
  `INSERT INTO dpop_proofs (jkt, jti, expires_at) VALUES (${params(d, 3)}) ON CONFLICT (jkt, jti) DO NOTHING`;

/**
 * Migration 4 on both backends (the same SQL on each): one row per limit a store set for itself
 * (CLI `limits set`); absent rows take the config's value.
 */
export const STORE_LIMITS_TABLE = `
  CREATE TABLE store_limits (
    store_id TEXT NOT NULL REFERENCES stores(id) ON DELETE CASCADE,
    name TEXT NOT NULL,
    value INTEGER NOT NULL,
    PRIMARY KEY (store_id, name)
  );
`;

/** A store's own limits, from its store_limits rows. */
export function storeLimitsFromRows(rows: readonly Row[]): Record<string, number> {
  return Object.fromEntries(rows.map((row) => [text(row['name']), Number(row['value'])]));
}

/** Migration 7 on both backends: the operator's label and the key's first characters. */
export const API_KEY_LABELS = `
  ALTER TABLE api_keys ADD COLUMN label TEXT;
  ALTER TABLE api_keys ADD COLUMN key_prefix TEXT;
`;

// Keys created before migration 7 have neither label nor key_prefix.
const API_KEY = [
  'id',
  'store_id',
  'key_hash',
  'kind',
  'created_at',
  'revoked_at',
  'label',
  'key_prefix',
] as const;
export const API_KEY_COLUMNS = list(API_KEY);
export const API_KEY_COLUMN_COUNT = API_KEY.length;

export function apiKeyFromRow(row: Row): model.ApiKeyRecord {
  return {
    id: text(row['id']),
    storeId: text(row['store_id']),
    keyHash: text(row['key_hash']),
    kind: row['kind'] as model.ApiKeyRecord['kind'],
    createdAt: time(row['created_at']),
    revokedAt: timeOrNull(row['revoked_at']),
    ...(typeof row['label'] === 'string' ? { label: row['label'] } : {}),
    ...(typeof row['key_prefix'] === 'string' ? { prefix: row['key_prefix'] } : {}),
  };
}

export const apiKeyValues = (k: model.ApiKeyRecord): unknown[] => [
  k.id,
  k.storeId,
  k.keyHash,
  k.kind,
  k.createdAt,
  k.revokedAt,
  k.label ?? null,
  k.prefix ?? null,
];

const SIGNING_KEY = [
  'kid',
  'store_id',
  'use',
  'alg',
  'private_jwk',
  'created_at',
  'rotated_at',
  'retired_at',
] as const;
export const SIGNING_KEY_COLUMNS = list(SIGNING_KEY);

export function signingKeyFromRow(row: Row): model.SigningKeyRecord {
  return {
    kid: text(row['kid']),
    storeId: text(row['store_id']),
    use: row['use'] as model.SigningKeyRecord['use'],
    alg: row['alg'] as model.SigningKeyRecord['alg'],
    privateJwk: text(row['private_jwk']),
    createdAt: time(row['created_at']),
    rotatedAt: timeOrNull(row['rotated_at']),
    retiredAt: timeOrNull(row['retired_at']),
  };
}

export const signingKeyValues = (k: model.SigningKeyRecord): unknown[] => [
  k.kid,
  k.storeId,
  k.use,
  k.alg,
  k.privateJwk,
  k.createdAt,
  k.rotatedAt,
  k.retiredAt,
];

/** A statement and its parameters, for either backend. */
export interface Statement {
  text: string;
  values: unknown[];
}

/** Adds a signing key. */
export function addSigningKeyStatement(key: model.SigningKeyRecord, d: Dialect): Statement {
  return {
    text: `INSERT INTO signing_keys (${SIGNING_KEY_COLUMNS}) VALUES (${params(d, SIGNING_KEY.length)})`,
    values: signingKeyValues(key),
  };
}

/**
 * A rotation's schedule for the store's keys of `use` that still sign or are due to sign after
 * `now`: never rotated, or rotated later than `now` (a pending rotation's keys, so the newest
 * rotation decides when its keys take over).
 */
function rotateSigningKeysStatement(
  storeId: string,
  use: model.SigningKeyRecord['use'],
  rotateAt: number,
  retireAt: number,
  now: number,
  d: Dialect,
): Statement {
  const p = (n: number) => d.param(n);
  return {
    text: `UPDATE signing_keys SET rotated_at = ${p(1)}, retired_at = ${p(2)}
      WHERE store_id = ${p(3)} AND use = ${p(4)} AND (rotated_at IS NULL OR rotated_at > ${p(5)})`,
    values: [rotateAt, retireAt, storeId, use, now],
  };
}

/** A rotation's statements, in order, for one transaction: the schedule of each renewed use, then the new keys. */
export function rotationStatements(
  storeId: string,
  newKeys: readonly model.SigningKeyRecord[],
  rotateAt: number,
  retireAt: Record<model.SigningKeyRecord['use'], number>,
  now: number,
  d: Dialect,
): Statement[] {
  const renewed = (['access', 'refresh'] as const).filter((use) => newKeys.some((k) => k.use === use));
  return [
    ...renewed.map((use) => rotateSigningKeysStatement(storeId, use, rotateAt, retireAt[use], now, d)),
    ...newKeys.map((key) => addSigningKeyStatement(key, d)),
  ];
}

/**
 * Key `kid` stops verifying at `now`, and signing then too unless it stopped earlier; a key
 * already retired by `now` is left alone (no row changes).
 */
export function retireSigningKeyStatement(storeId: string, kid: string, now: number, d: Dialect): Statement {
  const p = (n: number) => d.param(n);
  return {
    text: `UPDATE signing_keys SET retired_at = ${p(1)},
        rotated_at = CASE WHEN rotated_at IS NULL OR rotated_at > ${p(2)} THEN ${p(3)} ELSE rotated_at END
      WHERE store_id = ${p(4)} AND kid = ${p(5)} AND (retired_at IS NULL OR retired_at > ${p(6)})`,
    values: [now, now, now, storeId, kid, now],
  };
}

/** Replaces a key's stored private material only if it is still `from` (compare-and-swap). */
export function replaceSigningKeyMaterialStatement(
  storeId: string,
  kid: string,
  from: string,
  to: string,
  d: Dialect,
): Statement {
  const p = (n: number) => d.param(n);
  return {
    text: `UPDATE signing_keys SET private_jwk = ${p(1)} WHERE store_id = ${p(2)} AND kid = ${p(3)} AND private_jwk = ${p(4)}`,
    values: [to, storeId, kid, from],
  };
}

const USER = [
  'id',
  'store_id',
  'is_anonymous',
  'email',
  'phone',
  'country_code',
  'first_name',
  'last_name',
  'customer_id',
  'customer_group_id',
  'is_email_verified',
  'is_phone_verified',
  'created_at',
  'modified_at',
] as const;
export const USER_COLUMNS = list(USER);
/** The user columns of `u`, for reads that join users. */
export const USER_COLUMNS_OF_U = list(USER, 'u');

export function userFromRow(row: Row, d: Dialect): model.UserRecord {
  return {
    id: text(row['id']),
    storeId: text(row['store_id']),
    isAnonymous: d.readBoolean(row['is_anonymous']),
    email: textOrNull(row['email']),
    phone: textOrNull(row['phone']),
    countryCode: textOrNull(row['country_code']),
    firstName: textOrNull(row['first_name']),
    lastName: textOrNull(row['last_name']),
    customerId: textOrNull(row['customer_id']),
    customerGroupId: textOrNull(row['customer_group_id']),
    isEmailVerified: d.readBoolean(row['is_email_verified']),
    isPhoneVerified: d.readBoolean(row['is_phone_verified']),
    createdAt: time(row['created_at']),
    modifiedAt: time(row['modified_at']),
  };
}

/**
 * The user as SQLite's `sessions.subject` holds it (migration 13): a JSON array of the USER
 * columns in their order, copied from the users row by triggers.
 */
export function userFromSubject(subject: unknown, d: Dialect): model.UserRecord {
  const values = JSON.parse(text(subject)) as unknown[];
  const row: Row = {};
  for (let i = 0; i < USER.length; i++) row[USER[i] as string] = values[i];
  return userFromRow(row, d);
}

export const userValues = (u: model.UserRecord, d: Dialect): unknown[] => [
  u.id,
  u.storeId,
  d.boolean(u.isAnonymous),
  u.email,
  u.phone,
  u.countryCode,
  u.firstName,
  u.lastName,
  u.customerId,
  u.customerGroupId,
  d.boolean(u.isEmailVerified),
  d.boolean(u.isPhoneVerified),
  u.createdAt,
  u.modifiedAt,
];

const ACCOUNT = [...USER, 'password_hash', 'status', 'login_methods', 'notification_preferences'] as const;
/** The columns an account is inserted with. */
export const ACCOUNT_COLUMNS = list(ACCOUNT);
/** What an account is read with, from `users` unaliased: its columns and its profile image's ETag. */
export const ACCOUNT_SELECT = `${ACCOUNT_COLUMNS}, (SELECT p.etag FROM profile_images p WHERE p.user_id = users.id) AS profile_image_etag`;

export function accountFromRow(row: Row, d: Dialect): model.UserAccount {
  return {
    user: userFromRow(row, d),
    passwordHash: textOrNull(row['password_hash']),
    status: row['status'] === 'deactivated' ? 'deactivated' : 'active',
    loginMethods: (d.readJson(row['login_methods']) as model.UserAccount['loginMethods'] | null) ?? [],
    notificationPreferences:
      (d.readJson(row['notification_preferences']) as model.UserAccount['notificationPreferences']) ?? null,
    profileImageEtag: textOrNull(row['profile_image_etag']),
  };
}

/** An account is never anonymous, whatever its user record says. */
export const accountValues = (a: model.UserAccount, d: Dialect): unknown[] => [
  ...userValues({ ...a.user, isAnonymous: false }, d),
  a.passwordHash,
  a.status,
  JSON.stringify(a.loginMethods),
  a.notificationPreferences ? JSON.stringify(a.notificationPreferences) : null,
];

const SESSION = [
  'id',
  'store_id',
  'user_id',
  'anonymous_id',
  'generation',
  'created_at',
  'rotated_at',
  'idle_expires_at',
  'absolute_expires_at',
  'revoked_at',
  'revoked_reason',
  'jkt',
] as const;
export const SESSION_COLUMNS = list(SESSION);
export const SESSION_COLUMN_COUNT = SESSION.length;
/** The session columns of `s`, unaliased. */
export const SESSION_COLUMNS_OF_S = list(SESSION, 's');
/**
 * The session columns of `s` as `s_<column>`, for reads joined with users, whose columns share
 * names (`id`, `store_id`, `created_at`); read them with `sessionFromRow(row, 's_')`.
 */
export const SESSION_COLUMNS_AS_S = SESSION.map((f) => `s.${f} AS s_${f}`).join(', ');

export function sessionFromRow(row: Row, prefix = ''): model.SessionRecord {
  const c = (column: (typeof SESSION)[number]) => row[prefix + column];
  return {
    id: text(c('id')),
    storeId: text(c('store_id')),
    userId: text(c('user_id')),
    anonymousId: textOrNull(c('anonymous_id')),
    generation: Number(c('generation')),
    createdAt: time(c('created_at')),
    rotatedAt: time(c('rotated_at')),
    idleExpiresAt: time(c('idle_expires_at')),
    absoluteExpiresAt: time(c('absolute_expires_at')),
    revokedAt: timeOrNull(c('revoked_at')),
    revokedReason: (c('revoked_reason') ?? null) as model.SessionRecord['revokedReason'],
    jkt: textOrNull(c('jkt')),
  };
}

export const sessionValues = (s: model.SessionRecord): unknown[] => [
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
  s.jkt,
];

const OTP = [
  'id',
  'store_id',
  'action',
  'channel',
  'identifier',
  'user_id',
  'code_hash',
  'attempts',
  'expires_at',
  'consumed_at',
  'payload',
  'created_at',
  'redeemed_at',
] as const;
export const OTP_COLUMNS = list(OTP);
export const OTP_COLUMN_COUNT = OTP.length;

export function otpFromRow(row: Row, d: Dialect): model.OtpRecord {
  return {
    id: text(row['id']),
    storeId: text(row['store_id']),
    action: row['action'] as model.OtpRecord['action'],
    channel: row['channel'] as model.OtpRecord['channel'],
    identifier: text(row['identifier']),
    userId: textOrNull(row['user_id']),
    codeHash: text(row['code_hash']),
    attempts: Number(row['attempts']),
    expiresAt: time(row['expires_at']),
    consumedAt: timeOrNull(row['consumed_at']),
    payload: d.readJson(row['payload']) as Record<string, unknown>,
    createdAt: time(row['created_at']),
    redeemedAt: timeOrNull(row['redeemed_at']),
  };
}

export const otpValues = (o: model.OtpRecord): unknown[] => [
  o.id,
  o.storeId,
  o.action,
  o.channel,
  o.identifier,
  o.userId,
  o.codeHash,
  o.attempts,
  o.expiresAt,
  o.consumedAt,
  JSON.stringify(o.payload),
  o.createdAt,
  o.redeemedAt,
];

/**
 * An attempt whose guarded UPDATE matched (the OTP was alive, so the attempt counted): the row it
 * returned says whether this attempt consumed the OTP.
 */
export function countedOtpAttempt(updated: Row, d: Dialect): OtpAttempt {
  const record = otpFromRow(updated, d);
  return { outcome: record.consumedAt !== null ? 'verified' : 'wrong_code', record };
}

/** An attempt whose UPDATE matched nothing, judged on the row as it is now (undefined: gone). */
export function refusedOtpAttempt(row: Row | undefined, maxAttempts: number, d: Dialect): OtpAttempt {
  if (!row) return { outcome: 'missing' };
  const record = otpFromRow(row, d);
  if (record.consumedAt !== null) return { outcome: 'consumed', record };
  if (record.attempts >= maxAttempts) return { outcome: 'exhausted', record };
  return { outcome: 'expired', record };
}

/**
 * A redemption whose guarded UPDATE matched nothing, judged on the row as it is now: never
 * verified, past its lifetime, or already redeemed (undefined: gone).
 */
export function refusedOtpRedemption(row: Row | undefined, now: number, d: Dialect): OtpRedemption {
  if (!row) return { outcome: 'missing' };
  const record = otpFromRow(row, d);
  if (record.redeemedAt !== null) return { outcome: 'already_redeemed', record };
  if (record.consumedAt === null) return { outcome: 'unverified', record };
  return { outcome: record.expiresAt <= now ? 'expired' : 'unverified', record };
}

const PROFILE_IMAGE = [
  'user_id',
  'store_id',
  'content_type',
  'bytes',
  'etag',
  'created_at',
  'modified_at',
] as const;
export const PROFILE_IMAGE_COLUMNS = list(PROFILE_IMAGE);

export function profileImageFromRow(row: Row): model.ProfileImageRecord {
  const bytes = row['bytes'] as Uint8Array;
  return {
    userId: text(row['user_id']),
    storeId: text(row['store_id']),
    contentType: row['content_type'] as model.ProfileImageRecord['contentType'],
    bytes: new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength),
    etag: text(row['etag']),
    createdAt: time(row['created_at']),
    modifiedAt: time(row['modified_at']),
  };
}

export const profileImageValues = (p: model.ProfileImageRecord): unknown[] => [
  p.userId,
  p.storeId,
  p.contentType,
  Buffer.from(p.bytes.buffer, p.bytes.byteOffset, p.bytes.byteLength),
  p.etag,
  p.createdAt,
  p.modifiedAt,
];

/**
 * Stores a user's image: `replace` changes an existing one only; otherwise it is inserted or
 * replaced. The creation time of a replaced image is kept. Parameters in PROFILE_IMAGE order.
 */
export function profileImageStatement(replace: boolean, d: Dialect): string {
  const p = (n: number) => d.param(n);
  return replace
    ? `UPDATE profile_images SET content_type = ${p(1)}, bytes = ${p(2)}, etag = ${p(3)}, modified_at = ${p(4)} WHERE user_id = ${p(5)}`
    : `INSERT INTO profile_images (${PROFILE_IMAGE_COLUMNS}) VALUES (${params(d, PROFILE_IMAGE.length)})
        ON CONFLICT (user_id) DO UPDATE SET content_type = excluded.content_type, bytes = excluded.bytes,
          etag = excluded.etag, modified_at = excluded.modified_at`;
}

/** The parameters of profileImageStatement for `image`. */
export function profileImageParams(replace: boolean, image: model.ProfileImageRecord): unknown[] {
  const values = profileImageValues(image);
  return replace ? [image.contentType, values[3], image.etag, image.modifiedAt, image.userId] : values;
}

const SECURITY_EVENT = ['store_id', 'type', 'session_id', 'user_id', 'detail', 'created_at'] as const;
export const SECURITY_EVENT_COLUMNS = list(SECURITY_EVENT);

export const securityEventValues = (e: model.SecurityEvent): unknown[] => [
  e.storeId,
  e.type,
  e.sessionId,
  e.userId,
  JSON.stringify(e.detail),
  e.createdAt,
];

const PATCH_COLUMNS: ReadonlyArray<readonly [keyof model.UserPatch, string]> = [
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

/**
 * The UPDATE of a user's given fields and `modified_at`: built per call, since which columns change
 * depends on the patch. A unique-index violation (email or phone of another customer) is the
 * caller's to read.
 */
export function userPatchStatement(
  userId: string,
  patch: model.UserPatch,
  now: number,
  d: Dialect,
): { text: string; values: unknown[] } {
  const sets: string[] = [];
  const values: unknown[] = [];
  for (const [field, column] of PATCH_COLUMNS) {
    const value = patch[field];
    if (value === undefined) continue;
    values.push(
      typeof value === 'boolean'
        ? d.boolean(value)
        : value !== null && typeof value === 'object'
          ? JSON.stringify(value)
          : value,
    );
    sets.push(`${column} = ${d.param(values.length)}`);
  }
  values.push(now);
  sets.push(`modified_at = ${d.param(values.length)}`);
  values.push(userId);
  return { text: `UPDATE users SET ${sets.join(', ')} WHERE id = ${d.param(values.length)}`, values };
}

/**
 * The two statements of `claimIdentifier`, in this order in one transaction: `release` drops the
 * identifier, where it is only pending, from every other customer of the store (returning their
 * ids); `claim` sets it, verified, on the claimant. The claimant's store is read from its row, so
 * the caller names only the user. A unique-index violation of `claim` means another customer has
 * it verified: the caller rolls back.
 */
export function claimStatements(
  userId: string,
  id: model.Identifier,
  now: number,
  d: Dialect,
): { release: { text: string; values: unknown[] }; claim: { text: string; values: unknown[] } } {
  const byEmail = 'email' in id;
  const match = byEmail ? [id.email] : [id.countryCode, id.phone];
  const columns = byEmail ? ['email'] : ['country_code', 'phone'];
  const verified = byEmail ? 'is_email_verified' : 'is_phone_verified';
  const where = columns.map((c, i) => `${c} = ${d.param(i + 3)}`).join(' AND ');
  const n = columns.length + 3;
  const release = {
    text: `UPDATE users SET ${columns.map((c) => `${c} = NULL`).join(', ')}, modified_at = ${d.param(1)}
      WHERE store_id = (SELECT store_id FROM users WHERE id = ${d.param(2)}) AND ${where}
        AND ${verified} = ${d.param(n)} AND is_anonymous = ${d.param(n + 1)} AND id <> ${d.param(n + 2)}
      RETURNING id`,
    values: [now, userId, ...match, d.boolean(false), d.boolean(false), userId],
  };
  const claim = {
    text: `UPDATE users SET ${columns.map((c, i) => `${c} = ${d.param(i + 1)}`).join(', ')},
        ${verified} = ${d.param(columns.length + 1)}, modified_at = ${d.param(columns.length + 2)}
      WHERE id = ${d.param(columns.length + 3)} AND is_anonymous = ${d.param(columns.length + 4)}`,
    values: [...match, d.boolean(true), now, userId, d.boolean(false)],
  };
  return { release, claim };
}

/** Parameters: store id, key. */
export const GET_BACKOFF = (d: Dialect) =>
  `SELECT failures, next_attempt_at FROM otp_backoff WHERE store_id = ${d.param(1)} AND key = ${d.param(2)}`;

export function backoffFromRow(row: Row | undefined): model.BackoffState {
  return row
    ? { failures: Number(row['failures']), nextAttemptAt: time(row['next_attempt_at']) }
    : { failures: 0, nextAttemptAt: 0 };
}

/**
 * The back-off compare-and-swap: stores the new state only while the failures are still the ones
 * read (a missing row is 0 failures). Parameters: store id, key, failures, next attempt, expected.
 */
export const SET_BACKOFF = (d: Dialect) =>
  `INSERT INTO otp_backoff (store_id, key, failures, next_attempt_at) VALUES (${params(d, 4)})
    ON CONFLICT (store_id, key) DO UPDATE SET failures = excluded.failures, next_attempt_at = excluded.next_attempt_at
    WHERE otp_backoff.failures = ${d.param(5)}`;

/** Parameters: store id, key. */
export const CLEAR_BACKOFF = (d: Dialect) =>
  `DELETE FROM otp_backoff WHERE store_id = ${d.param(1)} AND key = ${d.param(2)}`;

const OUTBOX = [
  'id',
  'store_id',
  'kind',
  'payload',
  'attempts',
  'next_attempt_at',
  'expires_at',
  'created_at',
] as const;
export const OUTBOX_COLUMNS = list(OUTBOX);

export function outboxFromRow(row: Row, d: Dialect): model.OutboxMessage {
  return {
    id: text(row['id']),
    storeId: text(row['store_id']),
    kind: row['kind'] as model.OutboxMessage['kind'],
    payload: d.readJson(row['payload']) as Record<string, unknown>,
    attempts: Number(row['attempts']),
    nextAttemptAt: time(row['next_attempt_at']),
    expiresAt: time(row['expires_at']),
    createdAt: time(row['created_at']),
  };
}

export const outboxValues = (m: model.OutboxMessage): unknown[] => [
  m.id,
  m.storeId,
  m.kind,
  JSON.stringify(m.payload),
  m.attempts,
  m.nextAttemptAt,
  m.expiresAt,
  m.createdAt,
];

/** Parameters: the outbox columns. */
export const INSERT_OUTBOX = (d: Dialect) =>
  `INSERT INTO outbox (${OUTBOX_COLUMNS}) VALUES (${params(d, OUTBOX.length)})`;

/**
 * Claims up to `limit` due messages, oldest due first: counts the try and leases them until
 * `leaseUntil`, so nobody else claims them meanwhile and a claimant that dies gives them back when
 * the lease ends. Parameters: lease until, now, limit.
 */
export const CLAIM_OUTBOX = (d: Dialect) =>
  `UPDATE outbox SET attempts = attempts + 1, next_attempt_at = ${d.param(1)}
    WHERE id IN (
      SELECT id FROM outbox WHERE done_at IS NULL AND next_attempt_at <= ${d.param(2)}
       ORDER BY next_attempt_at LIMIT ${d.param(3)}${d.skipLocked})
    RETURNING ${OUTBOX_COLUMNS}`;

/** Parameters: next attempt, id. Only a message not done yet. */
export const RETRY_OUTBOX = (d: Dialect) =>
  `UPDATE outbox SET next_attempt_at = ${d.param(1)} WHERE id = ${d.param(2)} AND done_at IS NULL`;

/** Done: delivered or given up; the payload (an OTP's code) is blanked. Parameters: now, outcome, id. */
export const FINISH_OUTBOX = (d: Dialect) =>
  `UPDATE outbox SET done_at = ${d.param(1)}, outcome = ${d.param(2)}, payload = '{}'
    WHERE id = ${d.param(3)} AND done_at IS NULL`;

/**
 * Revokes a user's sessions not yet revoked beyond the newest `keep` (by creation, then id), as
 * `session_limit`: what MAX_SESSIONS_PER_USER bounds. Through the `sessions_user_live` index, so it
 * reads only that user's sessions; a session revoked meanwhile (a concurrent sign-in) keeps its
 * first revocation. Parameters: now, user id, keep.
 */
export const REVOKE_BEYOND_NEWEST = (d: Dialect) =>
  `UPDATE sessions SET revoked_at = ${d.param(1)}, revoked_reason = 'session_limit'
    WHERE revoked_at IS NULL AND id IN (
      SELECT id FROM sessions WHERE user_id = ${d.param(2)} AND revoked_at IS NULL
       ORDER BY created_at DESC, id DESC LIMIT ${d.noLimit} OFFSET ${d.param(3)})`;
