import { PostgresDatabase } from '../../src/storage/postgres/store.js';
import { makeTestApp, type TestApp } from '../helpers/app.js';
import { freshSchema } from '../helpers/postgres.js';

/** A test app on a fresh PostgreSQL schema of its own, dropped when the app is closed. */
export async function postgresTestApp(
  url: string,
  prefix: string,
  env: Record<string, string>,
): Promise<TestApp & { schema: string }> {
  const db = await freshSchema(url, prefix);
  const t = await makeTestApp(env, { db: new PostgresDatabase({ url: db.url, poolSize: 4 }) });
  const close = t.close;
  return Object.assign(t, {
    schema: db.schema,
    async close() {
      await close();
      await db.drop();
    },
  });
}
