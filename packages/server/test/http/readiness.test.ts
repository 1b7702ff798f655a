import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { buildApp } from '../../src/app.js';
import { loadConfig } from '../../src/config.js';
import { SqliteDatabase } from '../../src/storage/sqlite/store.js';

describe('/readyz', () => {
  it('answers 503 with Retry-After until ready, while /healthz answers 200; other routes wait too', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'sfa-ready-'));
    const store = new SqliteDatabase({ path: join(dir, 'a.db') });
    let ready = false;
    const app = await buildApp({
      config: loadConfig({ DATABASE_URL: `sqlite:${join(dir, 'a.db')}`, LOG_LEVEL: 'silent' }),
      db: store,
      isReady: () => ready,
    });
    try {
      expect((await app.inject({ url: '/healthz' })).statusCode).toBe(200);
      const notYet = await app.inject({ url: '/readyz' });
      expect(notYet.statusCode).toBe(503);
      expect(notYet.headers['retry-after']).toBe('1');
      expect(notYet.json()).toMatchObject({ success: false, code: 'SERVICE_UNAVAILABLE' });
      const early = await app.inject({
        method: 'POST',
        url: '/api/v1/demo/storefront/auth/refresh-token',
        payload: { refresh_token: 'x' },
      });
      expect(early.statusCode).toBe(503);
      ready = true;
      expect((await app.inject({ url: '/readyz' })).statusCode).toBe(200);
    } finally {
      await app.close();
      await store.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
