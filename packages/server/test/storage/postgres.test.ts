import { PostgresSessionStore } from '../../src/storage/postgres/store.js';
import { describeWithPostgres, freshSchema } from '../helpers/postgres.js';
import { describeSessionStore } from './conformance.js';

describeWithPostgres('PostgreSQL storage conformance', (url) => {
  describeSessionStore('PostgreSQL', async () => {
    const db = await freshSchema(url, 'sfa_conf');
    const store = new PostgresSessionStore({ url: db.url, poolSize: 8 });
    await store.migrate();
    return {
      store,
      second: async () => new PostgresSessionStore({ url: db.url, poolSize: 8 }),
      async dispose() {
        await store.close();
        await db.drop();
      },
    };
  });
});
