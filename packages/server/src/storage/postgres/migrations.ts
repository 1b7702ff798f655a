import { API_KEY_LABELS, STORE_LIMITS_TABLE } from '../rows.js';
/**
 * Versioned schema for PostgreSQL, in step with `../sqlite/migrations.ts`: the same versions with
 * the same meaning. Append only: a released migration is never edited.
 *
 * Times are BIGINT milliseconds since the epoch, as in the contract, so both backends answer the
 * same numbers.
 */
export const POSTGRES_MIGRATIONS: ReadonlyArray<{ version: number; name: string; sql: string }> = [
  {
    version: 1,
    name: 'stores, keys, users, sessions',
    sql: `
      CREATE TABLE stores (
        id TEXT PRIMARY KEY,
        name TEXT NOT NULL,
        created_at BIGINT NOT NULL
      );
      CREATE TABLE api_keys (
        id TEXT PRIMARY KEY,
        store_id TEXT NOT NULL REFERENCES stores(id) ON DELETE CASCADE,
        key_hash TEXT NOT NULL UNIQUE,
        kind TEXT NOT NULL CHECK (kind IN ('public', 'secret')),
        created_at BIGINT NOT NULL,
        revoked_at BIGINT
      );
      CREATE TABLE signing_keys (
        kid TEXT PRIMARY KEY,
        store_id TEXT NOT NULL REFERENCES stores(id) ON DELETE CASCADE,
        use TEXT NOT NULL CHECK (use IN ('access', 'refresh')),
        alg TEXT NOT NULL,
        private_jwk TEXT NOT NULL,
        created_at BIGINT NOT NULL,
        rotated_at BIGINT,
        retired_at BIGINT
      );
      CREATE INDEX signing_keys_store ON signing_keys(store_id);
      CREATE TABLE users (
        id TEXT PRIMARY KEY,
        store_id TEXT NOT NULL REFERENCES stores(id) ON DELETE CASCADE,
        is_anonymous BOOLEAN NOT NULL,
        email TEXT,
        phone TEXT,
        country_code TEXT,
        first_name TEXT,
        last_name TEXT,
        customer_id TEXT,
        customer_group_id TEXT,
        is_email_verified BOOLEAN NOT NULL DEFAULT false,
        is_phone_verified BOOLEAN NOT NULL DEFAULT false,
        created_at BIGINT NOT NULL,
        modified_at BIGINT NOT NULL
      );
      CREATE TABLE sessions (
        id TEXT PRIMARY KEY,
        store_id TEXT NOT NULL REFERENCES stores(id) ON DELETE CASCADE,
        user_id TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
        anonymous_id TEXT,
        generation INTEGER NOT NULL,
        created_at BIGINT NOT NULL,
        rotated_at BIGINT NOT NULL,
        idle_expires_at BIGINT NOT NULL,
        absolute_expires_at BIGINT NOT NULL,
        revoked_at BIGINT,
        revoked_reason TEXT
      );
      CREATE INDEX sessions_user ON sessions(user_id);
      CREATE INDEX sessions_expiry ON sessions(absolute_expires_at);
      CREATE TABLE security_events (
        id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
        store_id TEXT NOT NULL,
        type TEXT NOT NULL,
        session_id TEXT,
        user_id TEXT,
        detail JSONB NOT NULL,
        created_at BIGINT NOT NULL
      );
    `,
  },
  {
    version: 2,
    name: 'customers: credentials, status, OTPs, store settings',
    sql: `
      ALTER TABLE stores ADD COLUMN otp_debug BOOLEAN NOT NULL DEFAULT false;
      ALTER TABLE users ADD COLUMN password_hash TEXT;
      ALTER TABLE users ADD COLUMN status TEXT NOT NULL DEFAULT 'active';
      ALTER TABLE users ADD COLUMN login_methods JSONB NOT NULL DEFAULT '[]';
      ALTER TABLE users ADD COLUMN notification_preferences JSONB;
      CREATE UNIQUE INDEX users_store_email ON users(store_id, email)
        WHERE NOT is_anonymous AND email IS NOT NULL;
      CREATE UNIQUE INDEX users_store_phone ON users(store_id, country_code, phone)
        WHERE NOT is_anonymous AND phone IS NOT NULL;
      CREATE TABLE otps (
        id TEXT PRIMARY KEY,
        store_id TEXT NOT NULL REFERENCES stores(id) ON DELETE CASCADE,
        action TEXT NOT NULL,
        channel TEXT NOT NULL,
        identifier TEXT NOT NULL,
        user_id TEXT REFERENCES users(id) ON DELETE CASCADE,
        code_hash TEXT NOT NULL,
        attempts INTEGER NOT NULL DEFAULT 0,
        expires_at BIGINT NOT NULL,
        consumed_at BIGINT,
        payload JSONB NOT NULL,
        created_at BIGINT NOT NULL
      );
      CREATE INDEX otps_expiry ON otps(expires_at);
      CREATE INDEX otps_user ON otps(user_id);
    `,
  },
  {
    version: 3,
    name: 'indexes for purge and session listing',
    /*
     * Unlike SQLite, no index on sessions.idle_expires_at: every refresh changes that column, and
     * an index on it denies PostgreSQL its HOT updates (measured here: about a quarter more
     * database CPU per refresh). The purge finds idle-expired sessions by scanning instead,
     * hourly, in batches. Free space on each page (fillfactor) keeps refresh updates HOT.
     */
    sql: `
      ALTER TABLE sessions SET (fillfactor = 85);
      CREATE INDEX sessions_store_created ON sessions(store_id, created_at);
      CREATE INDEX users_anonymous_created ON users(created_at) WHERE is_anonymous;
      CREATE INDEX security_events_created ON security_events(created_at);
    `,
  },
  {
    version: 4,
    name: 'profile images; reset codes verified ahead of the new password',
    sql: `
      CREATE TABLE profile_images (
        user_id TEXT PRIMARY KEY REFERENCES users(id) ON DELETE CASCADE,
        store_id TEXT NOT NULL REFERENCES stores(id) ON DELETE CASCADE,
        content_type TEXT NOT NULL,
        bytes BYTEA NOT NULL,
        etag TEXT NOT NULL,
        created_at BIGINT NOT NULL,
        modified_at BIGINT NOT NULL
      );
      ALTER TABLE otps ADD COLUMN redeemed_at BIGINT;
    `,
  },
  {
    version: 5,
    name: 'per-store limits',
    sql: STORE_LIMITS_TABLE,
  },
  {
    version: 6,
    name: 'store audience of access tokens',
    sql: 'ALTER TABLE stores ADD COLUMN audience TEXT;',
  },
  {
    version: 7,
    name: 'identifiers are unique only once proven',
    /*
     * An unverified email or phone is pending: it blocks nobody, so only verified ones are unique.
     * Accounts that held unverified identifiers before this migration keep them, now as pending.
     */
    sql: `
      DROP INDEX users_store_email;
      DROP INDEX users_store_phone;
      CREATE UNIQUE INDEX users_store_verified_email ON users(store_id, email)
        WHERE NOT is_anonymous AND email IS NOT NULL AND is_email_verified;
      CREATE UNIQUE INDEX users_store_verified_phone ON users(store_id, country_code, phone)
        WHERE NOT is_anonymous AND phone IS NOT NULL AND is_phone_verified;
      CREATE INDEX users_store_email ON users(store_id, email) WHERE NOT is_anonymous AND email IS NOT NULL;
      CREATE INDEX users_store_phone ON users(store_id, country_code, phone)
        WHERE NOT is_anonymous AND phone IS NOT NULL;
    `,
  },
  {
    version: 8,
    name: 'back-off of OTP verifications',
    sql: `
      CREATE TABLE otp_backoff (
        store_id TEXT NOT NULL REFERENCES stores(id) ON DELETE CASCADE,
        key TEXT NOT NULL,
        failures INTEGER NOT NULL,
        next_attempt_at BIGINT NOT NULL,
        PRIMARY KEY (store_id, key)
      );
    `,
  },
  {
    version: 9,
    name: 'outbox of deliveries',
    sql: `
      CREATE TABLE outbox (
        id TEXT PRIMARY KEY,
        store_id TEXT NOT NULL REFERENCES stores(id) ON DELETE CASCADE,
        kind TEXT NOT NULL,
        payload JSONB NOT NULL,
        attempts INTEGER NOT NULL DEFAULT 0,
        next_attempt_at BIGINT NOT NULL,
        expires_at BIGINT NOT NULL,
        created_at BIGINT NOT NULL,
        done_at BIGINT,
        outcome TEXT
      );
      CREATE INDEX outbox_due ON outbox(next_attempt_at) WHERE done_at IS NULL;
    `,
  },
  {
    version: 10,
    name: 'API key labels and prefixes',
    sql: API_KEY_LABELS,
  },
  {
    version: 11,
    name: 'DPoP-bound sessions (RFC 9449)',
    /*
     * `sessions.jkt`: the RFC 7638 thumbprint of the key a session is bound to (null: unbound).
     * `dpop_proofs`: the (thumbprint, jti) of every proof accepted, until its iat window ends, so a
     * proof is accepted once across every instance on this database.
     */
    sql: `
      ALTER TABLE sessions ADD COLUMN jkt TEXT;
      ALTER TABLE stores ADD COLUMN require_dpop BOOLEAN NOT NULL DEFAULT false;
      CREATE TABLE dpop_proofs (
        jkt TEXT NOT NULL,
        jti TEXT NOT NULL,
        expires_at BIGINT NOT NULL,
        PRIMARY KEY (jkt, jti)
      );
      CREATE INDEX dpop_proofs_expiry ON dpop_proofs(expires_at);
    `,
  },
  {
    version: 12,
    name: 'indexes for purging the outbox and OTP back-off',
    // Finished deliveries and forgotten OTP guess counters are purged (storage/operator.ts).
    sql: `
      CREATE INDEX outbox_finished ON outbox(done_at) WHERE done_at IS NOT NULL;
      CREATE INDEX otp_backoff_next ON otp_backoff(next_attempt_at);
    `,
  },
  {
    version: 13,
    name: 'an index of the sessions a user holds',
    /*
     * Only sessions not revoked, by creation: a sign-in past MAX_SESSIONS_PER_USER finds the
     * user's oldest without reading the revoked ones (rows.ts REVOKE_BEYOND_NEWEST). A refresh
     * changes none of its columns.
     */
    sql: `
      CREATE INDEX sessions_user_live ON sessions(user_id, created_at) WHERE revoked_at IS NULL;
    `,
  },
];
