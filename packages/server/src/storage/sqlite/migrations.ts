import { API_KEY_LABELS, STORE_LIMITS_TABLE } from '../rows.js';
/** Versioned schema for SQLite. Append only: a released migration is never edited. */
export const SQLITE_MIGRATIONS: ReadonlyArray<{ version: number; name: string; sql: string }> = [
  {
    version: 1,
    name: 'stores, keys, users, sessions',
    sql: `
      CREATE TABLE stores (
        id TEXT PRIMARY KEY,
        name TEXT NOT NULL,
        created_at INTEGER NOT NULL
      );
      CREATE TABLE api_keys (
        id TEXT PRIMARY KEY,
        store_id TEXT NOT NULL REFERENCES stores(id) ON DELETE CASCADE,
        key_hash TEXT NOT NULL UNIQUE,
        kind TEXT NOT NULL CHECK (kind IN ('public', 'secret')),
        created_at INTEGER NOT NULL,
        revoked_at INTEGER
      );
      CREATE TABLE signing_keys (
        kid TEXT PRIMARY KEY,
        store_id TEXT NOT NULL REFERENCES stores(id) ON DELETE CASCADE,
        use TEXT NOT NULL CHECK (use IN ('access', 'refresh')),
        alg TEXT NOT NULL,
        private_jwk TEXT NOT NULL,
        created_at INTEGER NOT NULL,
        rotated_at INTEGER,
        retired_at INTEGER
      );
      CREATE INDEX signing_keys_store ON signing_keys(store_id);
      CREATE TABLE users (
        id TEXT PRIMARY KEY,
        store_id TEXT NOT NULL REFERENCES stores(id) ON DELETE CASCADE,
        is_anonymous INTEGER NOT NULL,
        email TEXT,
        phone TEXT,
        country_code TEXT,
        first_name TEXT,
        last_name TEXT,
        customer_id TEXT,
        customer_group_id TEXT,
        is_email_verified INTEGER NOT NULL DEFAULT 0,
        is_phone_verified INTEGER NOT NULL DEFAULT 0,
        created_at INTEGER NOT NULL,
        modified_at INTEGER NOT NULL
      );
      CREATE TABLE sessions (
        id TEXT PRIMARY KEY,
        store_id TEXT NOT NULL REFERENCES stores(id) ON DELETE CASCADE,
        user_id TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
        anonymous_id TEXT,
        generation INTEGER NOT NULL,
        created_at INTEGER NOT NULL,
        rotated_at INTEGER NOT NULL,
        idle_expires_at INTEGER NOT NULL,
        absolute_expires_at INTEGER NOT NULL,
        revoked_at INTEGER,
        revoked_reason TEXT
      );
      CREATE INDEX sessions_user ON sessions(user_id);
      CREATE INDEX sessions_expiry ON sessions(absolute_expires_at);
      CREATE TABLE security_events (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        store_id TEXT NOT NULL,
        type TEXT NOT NULL,
        session_id TEXT,
        user_id TEXT,
        detail TEXT NOT NULL,
        created_at INTEGER NOT NULL
      );
    `,
  },
  {
    version: 2,
    name: 'customers: credentials, status, OTPs, store settings',
    sql: `
      ALTER TABLE stores ADD COLUMN otp_debug INTEGER NOT NULL DEFAULT 0;
      ALTER TABLE users ADD COLUMN password_hash TEXT;
      ALTER TABLE users ADD COLUMN status TEXT NOT NULL DEFAULT 'active';
      ALTER TABLE users ADD COLUMN login_methods TEXT NOT NULL DEFAULT '[]';
      ALTER TABLE users ADD COLUMN notification_preferences TEXT;
      CREATE UNIQUE INDEX users_store_email ON users(store_id, email)
        WHERE is_anonymous = 0 AND email IS NOT NULL;
      CREATE UNIQUE INDEX users_store_phone ON users(store_id, country_code, phone)
        WHERE is_anonymous = 0 AND phone IS NOT NULL;
      CREATE TABLE otps (
        id TEXT PRIMARY KEY,
        store_id TEXT NOT NULL REFERENCES stores(id) ON DELETE CASCADE,
        action TEXT NOT NULL,
        channel TEXT NOT NULL,
        identifier TEXT NOT NULL,
        user_id TEXT REFERENCES users(id) ON DELETE CASCADE,
        code_hash TEXT NOT NULL,
        attempts INTEGER NOT NULL DEFAULT 0,
        expires_at INTEGER NOT NULL,
        consumed_at INTEGER,
        payload TEXT NOT NULL,
        created_at INTEGER NOT NULL
      );
      CREATE INDEX otps_expiry ON otps(expires_at);
      CREATE INDEX otps_user ON otps(user_id);
    `,
  },
  {
    version: 3,
    name: 'indexes for purge and session listing',
    sql: `
      CREATE INDEX sessions_idle_expiry ON sessions(idle_expires_at);
      CREATE INDEX sessions_store_created ON sessions(store_id, created_at);
      CREATE INDEX users_anonymous_created ON users(created_at) WHERE is_anonymous = 1;
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
        bytes BLOB NOT NULL,
        etag TEXT NOT NULL,
        created_at INTEGER NOT NULL,
        modified_at INTEGER NOT NULL
      );
      ALTER TABLE otps ADD COLUMN redeemed_at INTEGER;
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
        WHERE is_anonymous = 0 AND email IS NOT NULL AND is_email_verified = 1;
      CREATE UNIQUE INDEX users_store_verified_phone ON users(store_id, country_code, phone)
        WHERE is_anonymous = 0 AND phone IS NOT NULL AND is_phone_verified = 1;
      CREATE INDEX users_store_email ON users(store_id, email) WHERE is_anonymous = 0 AND email IS NOT NULL;
      CREATE INDEX users_store_phone ON users(store_id, country_code, phone)
        WHERE is_anonymous = 0 AND phone IS NOT NULL;
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
        next_attempt_at INTEGER NOT NULL,
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
        payload TEXT NOT NULL,
        attempts INTEGER NOT NULL DEFAULT 0,
        next_attempt_at INTEGER NOT NULL,
        expires_at INTEGER NOT NULL,
        created_at INTEGER NOT NULL,
        done_at INTEGER,
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
      ALTER TABLE stores ADD COLUMN require_dpop INTEGER NOT NULL DEFAULT 0;
      CREATE TABLE dpop_proofs (
        jkt TEXT NOT NULL,
        jti TEXT NOT NULL,
        expires_at INTEGER NOT NULL,
        PRIMARY KEY (jkt, jti)
      ) WITHOUT ROWID;
      CREATE INDEX dpop_proofs_expiry ON dpop_proofs(expires_at);
    `,
  },
  {
    version: 12,
    name: 'no index on sessions.idle_expires_at; indexes for purging the outbox and OTP back-off',
    /*
     * Every refresh moves its session's idle_expires_at, so with this index every refresh also
     * deleted an entry on a page of its own somewhere in an index of every session and inserted one
     * at its end: one more page dirtied, written to the WAL and checkpointed per refresh, and with a
     * million sessions one more page read from outside the page cache. Measured in-process on one
     * file (docs/storage.md): a refresh's statements took about twice as long over a million live
     * sessions as over 10k with the index, and much less of a difference without. PostgreSQL never
     * had it (its migration 3). The purge finds idle-expired sessions by walking the table in rowid
     * windows instead (sqlite/operator.ts), and the active-sessions metric counts off the event loop.
     * Finished deliveries and forgotten OTP guess counters are purged too, through indexes of their
     * own (both written once per OTP or failed guess, not per refresh).
     */
    sql: `
      DROP INDEX IF EXISTS sessions_idle_expiry;
      CREATE INDEX outbox_finished ON outbox(done_at) WHERE done_at IS NOT NULL;
      CREATE INDEX otp_backoff_next ON otp_backoff(next_attempt_at);
    `,
  },
  {
    version: 13,
    name: "a copy of each session's user on its row, kept by triggers",
    /*
     * A refresh mints the access token from the session and its user. Reading the user meant two
     * more B-tree walks per refresh (the users id index, then the row), and with a million live
     * sessions the leaf page of each is outside the page cache: a read from the kernel per walk.
     * `sessions.subject` holds the user's columns (the order of rows.ts USER, as a JSON array), so
     * the refresh reads back only the row it has just updated, whose page is in the cache.
     * Triggers keep it exact in the same transaction as any write of those columns, whoever makes it
     * (this server, the CLI, an operator's SQL): on a new session, and on every update of the
     * user's columns to each of that user's sessions (through sessions_user). Deleting a user
     * deletes its sessions (the foreign key). PostgreSQL keeps the join: its reads do not grow with
     * the table in the same way (docs/storage.md). A later migration that adds a user column must
     * recreate these triggers with it; the storage conformance suite compares every refresh's user
     * with the users row.
     */
    sql: `
      ALTER TABLE sessions ADD COLUMN subject TEXT;
      UPDATE sessions SET subject =
        (SELECT json_array(u.id, u.store_id, u.is_anonymous, u.email, u.phone, u.country_code, u.first_name, u.last_name, u.customer_id, u.customer_group_id, u.is_email_verified, u.is_phone_verified, u.created_at, u.modified_at) FROM users u WHERE u.id = sessions.user_id);
      CREATE TRIGGER sessions_subject_insert AFTER INSERT ON sessions
      BEGIN
        UPDATE sessions SET subject = (SELECT json_array(u.id, u.store_id, u.is_anonymous, u.email, u.phone, u.country_code, u.first_name, u.last_name, u.customer_id, u.customer_group_id, u.is_email_verified, u.is_phone_verified, u.created_at, u.modified_at) FROM users u WHERE u.id = NEW.user_id)
          WHERE rowid = NEW.rowid;
      END;
      CREATE TRIGGER users_subject_update AFTER UPDATE OF id, store_id, is_anonymous, email, phone, country_code, first_name, last_name, customer_id, customer_group_id, is_email_verified, is_phone_verified, created_at, modified_at ON users
      BEGIN
        UPDATE sessions SET subject = json_array(NEW.id, NEW.store_id, NEW.is_anonymous, NEW.email, NEW.phone, NEW.country_code, NEW.first_name, NEW.last_name, NEW.customer_id, NEW.customer_group_id, NEW.is_email_verified, NEW.is_phone_verified, NEW.created_at, NEW.modified_at) WHERE user_id = NEW.id;
      END;
    `,
  },
  {
    version: 14,
    name: 'the sessions a user holds: an index of them, the copy of the user kept on them only',
    /*
     * Migration 13's update trigger rewrote every session of the user, revoked ones too, until the
     * purge removed them: a write of an account cost one row per session it had ever had. Revoked
     * sessions never refresh again (the swap refuses them, and the refresh answers SESSION_REVOKED
     * before it uses the user), so their copy may stay as it was; with MAX_SESSIONS_PER_USER the
     * sessions left to rewrite are at most that many. `sessions_user_live` lists only those, newest
     * last, so neither the trigger nor a sign-in's revocation of the oldest reads the revoked ones
     * (a refresh changes none of its columns).
     */
    sql: `
      CREATE INDEX sessions_user_live ON sessions(user_id, created_at) WHERE revoked_at IS NULL;
      DROP TRIGGER users_subject_update;
      CREATE TRIGGER users_subject_update AFTER UPDATE OF id, store_id, is_anonymous, email, phone, country_code, first_name, last_name, customer_id, customer_group_id, is_email_verified, is_phone_verified, created_at, modified_at ON users
      BEGIN
        UPDATE sessions SET subject = json_array(NEW.id, NEW.store_id, NEW.is_anonymous, NEW.email, NEW.phone, NEW.country_code, NEW.first_name, NEW.last_name, NEW.customer_id, NEW.customer_group_id, NEW.is_email_verified, NEW.is_phone_verified, NEW.created_at, NEW.modified_at) WHERE user_id = NEW.id AND revoked_at IS NULL;
      END;
    `,
  },
];
