import type { Config } from '../config.js';
import type { SessionStore } from './contract.js';
import type { OperatorStore } from './operator.js';
import { PostgresOperator } from './postgres/operator.js';
import { PostgresSessionStore } from './postgres/store.js';
import { SqliteOperator } from './sqlite/operator.js';
import { SqliteSessionStore, sqlitePathFromUrl } from './sqlite/store.js';

export type StoreConfig = Pick<
  Config,
  'databaseUrl' | 'sqliteSynchronous' | 'databasePoolSize' | 'databaseStatementTimeout'
>;

/** Opens the backend that DATABASE_URL names: `sqlite:<path>` or `postgres://...`. */
export async function openStore(config: StoreConfig): Promise<SessionStore> {
  const path = sqlitePathFromUrl(config.databaseUrl);
  if (path) return new SqliteSessionStore({ path, synchronous: config.sqliteSynchronous });
  if (/^postgres(ql)?:\/\//.test(config.databaseUrl)) {
    return new PostgresSessionStore({
      url: config.databaseUrl,
      poolSize: config.databasePoolSize,
      statementTimeout: config.databaseStatementTimeout,
    });
  }
  throw new Error('DATABASE_URL: expected sqlite:<path> or postgres://...');
}

/** The operator side of an open store (CLI, scheduled purge, metrics). */
export function operatorFor(store: SessionStore): OperatorStore {
  if (store instanceof SqliteSessionStore) return new SqliteOperator(store.db);
  if (store instanceof PostgresSessionStore) return new PostgresOperator(store.pool);
  throw new Error('operator commands are not available for this storage backend');
}
