import { afterEach, beforeEach } from 'vitest';
import { PostgresDatabase } from '../../src/storage/postgres/store.js';
import { makeTestApp, type TestApp } from '../helpers/app.js';
import { describeWithPostgres, freshSchema } from '../helpers/postgres.js';
import { preHijackScenarios } from './pre-hijack.js';

describeWithPostgres('identifiers are claimed only when proven (PostgreSQL)', (url) => {
  let t: TestApp;
  let drop: (() => Promise<void>) | undefined;
  beforeEach(async () => {
    const schema = await freshSchema(url, 'sfa_hijack');
    drop = schema.drop;
    t = await makeTestApp(
      { OTP_DEBUG: 'true' },
      { db: new PostgresDatabase({ url: schema.url, poolSize: 4 }) },
    );
  });
  afterEach(async () => {
    await t?.close();
    await drop?.();
  });
  preHijackScenarios(() => t);
});
