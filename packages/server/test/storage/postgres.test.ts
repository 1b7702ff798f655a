import { expect, it } from 'vitest';
import { PostgresDatabase } from '../../src/storage/postgres/store.js';
import { adminQuery, describeWithPostgres, freshSchema } from '../helpers/postgres.js';
import { type DatabaseFixture, describeDatabase } from './conformance.js';
import { describeOperatorStore } from './operator-conformance.js';

describeWithPostgres('PostgreSQL storage conformance', (url) => {
  const fixture = async (): Promise<DatabaseFixture> => {
    const db = await freshSchema(url, 'sfa_conf');
    const store = new PostgresDatabase({ url: db.url, poolSize: 8 });
    await store.migrate();
    return {
      db: store,
      second: async () => new PostgresDatabase({ url: db.url, poolSize: 8 }),
      async dispose() {
        await store.close();
        await db.drop();
      },
    };
  };
  describeDatabase('PostgreSQL', fixture);
  describeOperatorStore('PostgreSQL', fixture);

  it('a migration waits for another instance`s to finish, however long, not for the statement timeout', async () => {
    const db = await freshSchema(url, 'sfa_lock');
    const pg = await import('pg');
    const holder = new pg.default.Client({ connectionString: url });
    await holder.connect();
    const store = new PostgresDatabase({ url: db.url, statementTimeout: 200 });
    try {
      // Another instance migrating: it holds the migration lock.
      await holder.query('SELECT pg_advisory_lock(8315440609723246450)');
      const migrating = store.migrate();
      migrating.catch(() => {}); // awaited below; this only keeps an early failure from being 'unhandled'
      await new Promise((r) => setTimeout(r, 700));
      const [waiting] = await adminQuery(db.url, "SELECT to_regclass('schema_migrations') AS t");
      expect(waiting).toEqual({ t: null });
      await holder.query('SELECT pg_advisory_unlock(8315440609723246450)');
      await migrating;
      const versions = await adminQuery<{ version: number }>(db.url, 'SELECT version FROM schema_migrations');
      expect(versions.length).toBeGreaterThanOrEqual(3);
    } finally {
      await holder.end();
      await store.close();
      await db.drop();
    }
  });
});
