import pg from 'pg';
import { randomId } from '../../src/util/ids.js';
import { describeWithServer } from './describe-with-server.js';

/**
 * Where the PostgreSQL tests run: TEST_POSTGRES_URL (e.g. postgres://postgres@127.0.0.1:5432/test).
 * Unset on a developer's machine: those suites are skipped, and say so. Unset in CI (CI=true):
 * they fail, because a green run must never mean "the PostgreSQL tests did not run".
 */
export const POSTGRES_URL = process.env['TEST_POSTGRES_URL'] || undefined;

/** `describe` for suites that need PostgreSQL: runs, skips with the reason in its title, or fails in CI. */
export function describeWithPostgres(title: string, body: (url: string) => void): void {
  describeWithServer('PostgreSQL', 'TEST_POSTGRES_URL', title, body);
}

/** A connection string that works in `schema` (created here, empty) on the test server. */
export async function freshSchema(
  url: string,
  prefix = 'sfa_t',
): Promise<{ schema: string; url: string; drop(): Promise<void> }> {
  const schema = `${prefix}_${randomId(6)
    .toLowerCase()
    .replace(/[^a-z0-9]/g, '_')}`;
  const admin = new pg.Client({ connectionString: url });
  await admin.connect();
  try {
    await admin.query(`CREATE SCHEMA ${schema}`);
  } finally {
    await admin.end();
  }
  const u = new URL(url);
  u.searchParams.set('options', `-c search_path=${schema}`);
  return {
    schema,
    url: u.toString(),
    async drop() {
      const c = new pg.Client({ connectionString: url });
      await c.connect();
      try {
        await c.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
      } finally {
        await c.end();
      }
    },
  };
}

/** One SQL statement on the test server, outside any store (for setup and inspection). */
export async function adminQuery<R extends pg.QueryResultRow = Record<string, unknown>>(
  url: string,
  text: string,
  values: unknown[] = [],
): Promise<R[]> {
  const c = new pg.Client({ connectionString: url });
  await c.connect();
  try {
    return (await c.query<R>(text, values)).rows;
  } finally {
    await c.end();
  }
}
