import { PostgresDatabase } from '../../src/storage/postgres/store.js';
import { makeTestApp } from '../helpers/app.js';
import { adminQuery, describeWithPostgres, freshSchema } from '../helpers/postgres.js';
import { describeBoundSessions } from './two-instances-suite.js';

describeWithPostgres('DPoP-bound sessions on PostgreSQL', (url) => {
  describeBoundSessions('PostgreSQL', async (env) => {
    const schema = await freshSchema(url, 'sfa_dpop');
    const a = await makeTestApp(env, { db: new PostgresDatabase({ url: schema.url, poolSize: 4 }) });
    const b = await makeTestApp(env, { db: new PostgresDatabase({ url: schema.url, poolSize: 4 }) });
    const count = async (table: string) =>
      Number(
        (await adminQuery<{ n: string }>(url, `SELECT count(*) AS n FROM ${schema.schema}.${table}`))[0]?.n,
      );
    return {
      a,
      b,
      replayStore: 'database',
      events: () => count('security_events'),
      storedProofs: () => count('dpop_proofs'),
      async close() {
        await a.close();
        await b.close();
        await schema.drop();
      },
    };
  });
});
