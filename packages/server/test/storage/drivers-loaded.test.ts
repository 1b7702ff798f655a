import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';

const DIST = fileURLToPath(new URL('../../dist/', import.meta.url));

/**
 * The packages a process has loaded once its app is built for `env`: a fresh Node process on the
 * built server (`npm test` builds it first), which lists the CommonJS modules it holds (every
 * driver here is one, imported from ESM or required).
 */
async function packagesLoaded(env: Record<string, string>): Promise<string[]> {
  const script = `
    import { createRequire } from 'node:module';
    const dist = ${JSON.stringify(DIST)};
    const { loadConfig } = await import(dist + 'config.js');
    const { openDatabase } = await import(dist + 'storage/open.js');
    const { buildApp } = await import(dist + 'app.js');
    const config = loadConfig(${JSON.stringify(env)});
    const db = await openDatabase(config);
    const app = await buildApp({ config, db, operator: db.operator(), isReady: () => true, isDraining: () => false });
    await app.ready();
    const names = Object.keys(createRequire(import.meta.url).cache)
      .map((path) => /node_modules\\/((?:@[^/]+\\/)?[^/]+)\\//.exec(path)?.[1])
      .filter(Boolean);
    await app.close();
    await db.close();
    process.stdout.write(JSON.stringify([...new Set(names)]));
  `;
  const { stdout } = await promisify(execFile)(process.execPath, ['--input-type=module', '-e', script], {
    env: { PATH: process.env.PATH ?? '', LOG_LEVEL: 'silent' },
  });
  return JSON.parse(stdout) as string[];
}

// The RSS target of `npm run bench` (docs/production.md): a driver a process does not use is memory
// it pays for nothing (pg about 14 MB resident once imported, ioredis about 20 MB).
describe('a process loads only the drivers its configuration uses', () => {
  it('SQLite without REDIS_URL: neither pg nor ioredis', async () => {
    const loaded = await packagesLoaded({ DATABASE_URL: 'sqlite::memory:' });
    expect(loaded).toContain('better-sqlite3');
    expect(loaded).not.toContain('pg');
    expect(loaded).not.toContain('ioredis');
  });

  it('PostgreSQL with REDIS_URL: pg and ioredis, not better-sqlite3', async () => {
    // Nothing listens there: loading a driver needs no server, and building the app opens no connection.
    const loaded = await packagesLoaded({
      DATABASE_URL: 'postgres://nobody@127.0.0.1:1/none',
      REDIS_URL: 'redis://127.0.0.1:1',
    });
    expect(loaded).toContain('pg');
    expect(loaded).toContain('ioredis');
    expect(loaded).not.toContain('better-sqlite3');
  });
});
