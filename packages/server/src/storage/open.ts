import type { Config } from '../config.js';
import type { SessionStore } from './contract.js';
import { SqliteSessionStore, sqlitePathFromUrl } from './sqlite/store.js';

/** Opens the backend that DATABASE_URL names. */
export async function openStore(config: Pick<Config, 'databaseUrl' | 'sqliteSynchronous'>): Promise<SessionStore> {
  const path = sqlitePathFromUrl(config.databaseUrl);
  if (path) return new SqliteSessionStore({ path, synchronous: config.sqliteSynchronous });
  throw new Error('DATABASE_URL: PostgreSQL is not supported yet; use sqlite:<path>');
}
