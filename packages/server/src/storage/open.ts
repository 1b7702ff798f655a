import type { Config } from '../config.js';
import type { Database } from './contract.js';
import { PostgresDatabase } from './postgres/store.js';
import { SqliteDatabase, sqlitePathFromUrl } from './sqlite/store.js';

export type DatabaseConfig = Pick<
  Config,
  'databaseUrl' | 'sqliteSynchronous' | 'databasePoolSize' | 'databaseStatementTimeout'
>;

/** Opens the backend that DATABASE_URL names: `sqlite:<path>` or `postgres://...`. */
export async function openDatabase(config: DatabaseConfig): Promise<Database> {
  const path = sqlitePathFromUrl(config.databaseUrl);
  if (path) return new SqliteDatabase({ path, synchronous: config.sqliteSynchronous });
  if (/^postgres(ql)?:\/\//.test(config.databaseUrl)) {
    return new PostgresDatabase({
      url: config.databaseUrl,
      poolSize: config.databasePoolSize,
      statementTimeout: config.databaseStatementTimeout,
    });
  }
  throw new Error('DATABASE_URL: expected sqlite:<path> or postgres://...');
}
