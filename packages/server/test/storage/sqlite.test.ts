import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SqliteSessionStore } from '../../src/storage/sqlite/store.js';
import { describeSessionStore } from './conformance.js';

describeSessionStore('SQLite', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'sfa-conf-'));
  const path = join(dir, 'auth.db');
  const store = new SqliteSessionStore({ path });
  await store.migrate();
  return {
    store,
    second: async () => new SqliteSessionStore({ path }),
    async dispose() {
      await store.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
});
