import { makeTestApp, sqliteDb, type TestApp } from '../helpers/app.js';
import { adminQuery, describeWithPostgres } from '../helpers/postgres.js';
import { postgresTestApp } from './postgres-app.js';
import { describeProfileImages, ORPHANED_IMAGES } from './profile-image-suite.js';

describeProfileImages(
  'profile images on SQLite',
  (env) => makeTestApp(env),
  async (t) => Number((sqliteDb(t).prepare(ORPHANED_IMAGES).get() as { n: number }).n),
);

describeWithPostgres('profile images on PostgreSQL', (url) => {
  describeProfileImages(
    'the same suite',
    (env) => postgresTestApp(url, 'sfa_img', env),
    async (t: TestApp) => {
      const { schema } = t as TestApp & { schema: string };
      const sql = ORPHANED_IMAGES.replaceAll('FROM ', `FROM ${schema}.`);
      const [row] = await adminQuery<{ n: string }>(url, sql);
      return Number(row?.n);
    },
  );
});
