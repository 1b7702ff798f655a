import { resolve } from 'node:path';
import type { Config } from '../config.js';
import type { Database } from './contract.js';

export type DatabaseConfig = Pick<
  Config,
  'databaseUrl' | 'sqliteSynchronous' | 'databasePoolSize' | 'databaseStatementTimeout'
>;

/** Parses `sqlite:<path>`; answers null for other URLs. */
export function sqlitePathFromUrl(url: string): string | null {
  if (!url.startsWith('sqlite:')) return null;
  const rest = url.slice('sqlite:'.length).replace(/^\/\/(?=\/)/, '');
  return rest === ':memory:' ? rest : resolve(rest);
}

/**
 * Opens the backend that DATABASE_URL names: `sqlite:<path>` or `postgres://...`. Only that
 * backend's driver is loaded: a process on SQLite never maps `pg` (about 14 MB of resident memory
 * when imported), and one on PostgreSQL never loads better-sqlite3's native module.
 */
export async function openDatabase(config: DatabaseConfig): Promise<Database> {
  const path = sqlitePathFromUrl(config.databaseUrl);
  if (path) {
    const { SqliteDatabase } = await import('./sqlite/store.js');
    return new SqliteDatabase({ path, synchronous: config.sqliteSynchronous });
  }
  if (/^postgres(ql)?:\/\//.test(config.databaseUrl)) {
    const { PostgresDatabase } = await import('./postgres/store.js');
    return new PostgresDatabase({
      url: config.databaseUrl,
      poolSize: config.databasePoolSize,
      statementTimeout: config.databaseStatementTimeout,
    });
  }
  throw new Error('DATABASE_URL: expected sqlite:<path> or postgres://...');
}
