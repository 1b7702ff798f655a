import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../../src/config.js';
import { openDatabase } from '../../src/storage/open.js';
import { PostgresDatabase } from '../../src/storage/postgres/store.js';
import { SqliteDatabase } from '../../src/storage/sqlite/store.js';

describe('DATABASE_URL picks the backend', () => {
  it('sqlite: opens SQLite, postgres:// and postgresql:// open PostgreSQL with the pool settings', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'sfa-open-'));
    try {
      const sqlite = await openDatabase(loadConfig({ DATABASE_URL: `sqlite:${join(dir, 'a.db')}` }));
      expect(sqlite).toBeInstanceOf(SqliteDatabase);
      await sqlite.close();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
    for (const scheme of ['postgres', 'postgresql']) {
      const config = loadConfig({
        DATABASE_URL: `${scheme}://nobody@127.0.0.1:1/none`,
        DATABASE_POOL_SIZE: '3',
        DATABASE_STATEMENT_TIMEOUT: '1500',
      });
      const store = await openDatabase(config);
      expect(store).toBeInstanceOf(PostgresDatabase);
      const options = (store as PostgresDatabase).pool.options as {
        max: number;
        statement_timeout: number;
      };
      expect(options.max).toBe(3);
      expect(options.statement_timeout).toBe(1500);
      await store.close();
    }
  });

  it('an unreachable PostgreSQL is SERVICE_UNAVAILABLE (503, Retry-After), reported once', async () => {
    const store = new PostgresDatabase({
      url: 'postgres://nobody@127.0.0.1:1/none',
      connectTimeout: 500,
    });
    const reports: Array<{ code: string | undefined; message: string }> = [];
    store.onUnavailable = (failure) => reports.push(failure);
    try {
      await expect(store.getStore('demo')).rejects.toMatchObject({
        code: 'SERVICE_UNAVAILABLE',
        headers: { 'retry-after': '1' },
      });
      await expect(store.getUser('u')).rejects.toMatchObject({ code: 'SERVICE_UNAVAILABLE' });
      // Once per few seconds, not once per failed request.
      expect(reports).toEqual([{ code: 'ECONNREFUSED', message: expect.stringContaining('ECONNREFUSED') }]);
      // At start-up (and in the CLI) the operator needs the cause, so migrate() keeps the driver's error.
      await expect(store.migrate()).rejects.toMatchObject({ code: 'ECONNREFUSED' });
    } finally {
      await store.close();
    }
  });

  it('validates the pool, timeout and Redis settings, with defaults', () => {
    const defaults = loadConfig({});
    expect(defaults.databasePoolSize).toBe(10);
    expect(defaults.databaseStatementTimeout).toBe(5000);
    expect(defaults.redisUrl).toBeUndefined();
    expect(loadConfig({ REDIS_URL: 'rediss://cache:6380' }).redisUrl).toBe('rediss://cache:6380');
    expect(() => loadConfig({ DATABASE_POOL_SIZE: '0' })).toThrow(ConfigError);
    expect(() => loadConfig({ DATABASE_STATEMENT_TIMEOUT: '-1' })).toThrow(/DATABASE_STATEMENT_TIMEOUT/);
    expect(() => loadConfig({ REDIS_URL: 'http://cache' })).toThrow(/REDIS_URL/);
  });
});
