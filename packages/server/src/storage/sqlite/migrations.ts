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
];
