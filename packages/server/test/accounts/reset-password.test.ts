import { PostgresDatabase } from '../../src/storage/postgres/store.js';
import { makeTestApp } from '../helpers/app.js';
import { describeWithPostgres, freshSchema } from '../helpers/postgres.js';
import { describeResetFlows } from './reset-password-suite.js';

describeResetFlows('password reset, one step and two, on SQLite', (env) => makeTestApp(env));

describeWithPostgres('password reset on PostgreSQL', (url) => {
  describeResetFlows('the same flows', async (env) => {
    const db = await freshSchema(url, 'sfa_reset');
    const t = await makeTestApp(env, { db: new PostgresDatabase({ url: db.url, poolSize: 4 }) });
    const close = t.close;
    t.close = async () => {
      await close();
      await db.drop();
    };
    return t;
  });
});
