import BetterSqlite3 from 'better-sqlite3';
import { SQLITE_MIGRATIONS } from '../../src/storage/sqlite/migrations.js';

/**
 * A SQLite file at `path` as the migrations up to `version` left it, opened with the driver alone
 * (the store's own statements are those of the latest schema), for a test of what a later
 * migration does to rows written before it. Close it before opening the file with the store.
 */
export function sqliteAtVersion(path: string, version: number): BetterSqlite3.Database {
  const db = new BetterSqlite3(path);
  db.pragma('journal_mode = WAL');
  db.exec(
    'CREATE TABLE schema_migrations (version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at INTEGER NOT NULL)',
  );
  for (const m of SQLITE_MIGRATIONS.filter((m) => m.version <= version)) {
    db.exec(m.sql);
    db.prepare('INSERT INTO schema_migrations VALUES (?, ?, 0)').run(m.version, m.name);
  }
  return db;
}
