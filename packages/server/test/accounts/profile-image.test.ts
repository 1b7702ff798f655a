import { PostgresDatabase } from '../../src/storage/postgres/store.js';
import { makeTestApp, sqliteDb } from '../helpers/app.js';
import { adminQuery, describeWithPostgres, freshSchema } from '../helpers/postgres.js';
import { describeProfileImages, ORPHANED_IMAGES } from './profile-image-suite.js';

describeProfileImages(
  'profile images on SQLite',
  (env) => makeTestApp(env),
  async (t) => Number((sqliteDb(t).prepare(ORPHANED_IMAGES).get() as { n: number }).n),
);

describeWithPostgres('profile images on PostgreSQL', (url) => {
  const schemas = new Map<unknown, { schema: string; drop(): Promise<void> }>();
  describeProfileImages(
    'the same suite',
    async (env) => {
      const db = await freshSchema(url, 'sfa_img');
      const t = await makeTestApp(env, { db: new PostgresDatabase({ url: db.url, poolSize: 4 }) });
      schemas.set(t, db);
      const close = t.close;
      t.close = async () => {
        await close();
        await db.drop();
      };
      return t;
    },
    async (t) => {
      const { schema } = schemas.get(t)!;
      const [row] = await adminQuery<{ n: string }>(
        url,
        ORPHANED_IMAGES.replaceAll('FROM ', `FROM ${schema}.`),
      );
      return Number(row?.n);
    },
  );
});
