// Live sessions for the random-session rows of `npm run bench`, written straight into SQLite files
// before their server starts (through HTTP a million sessions would take longer than the run).
//
// The server first starts once on an empty file to create the store, its keys and its API key as
// it always does. Then each file is a copy of that one, filled through the server's own code: the
// store's SqliteDatabase, its keyring from the stored keys, `newAnonymousUser` and
// `openSession` (the function POST /auth/anonymous calls), so the pool's refresh tokens are the ones
// the server would have answered. The other sessions (the "live" load that is never refreshed)
// are anonymous users and sessions of the same shape, inserted through the same store methods
// without minting tokens nobody will use; they are spread evenly between the pool's rows, so the
// pool is scattered over the table and its indexes as real traffic leaves it.
import { copyFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { startAuthServer } from './lib.mjs';

/** The modules seeding uses, from the build `main` belongs to (this checkout's by default). */
async function buildModules(main) {
  const dist = main ? pathToFileURL(main) : new URL('../packages/server/dist/main.js', import.meta.url);
  const load = (path) => import(new URL(path, dist).href);
  return {
    ...(await load('storage/sqlite/store.js')),
    ...(await load('tenants/directory.js')),
    ...(await load('config.js')),
    ...(await load('sessions/anonymous.js')),
    ...(await load('sessions/create.js')),
    ...(await load('util/ids.js')),
  };
}

// The server's defaults (config.ts): the sessions are as long-lived as real ones.
const POLICY = {
  accessTokenTtl: 900,
  refreshTokenTtl: 2592000,
  sessionMaxAge: 7776000,
  refreshReuseGrace: 30,
};

/**
 * A SQLite file with the store `demo` created by the server itself: by the build `main` when given,
 * so that the file has that build's schema (its migrations, its indexes).
 */
export async function templateDatabase(dir, main = undefined) {
  const path = join(dir, main ? 'template-before.db' : 'template.db');
  const server = await startAuthServer({}, path, ...(main ? [main] : []));
  await server.stop();
  return path;
}

/**
 * Copies `template` to `path` and fills it with `live` sessions, of which `pool` (spread evenly)
 * get refresh tokens, with the code of the build `main` (whose schema the template has). Answers
 * the pool's refresh tokens.
 */
export async function seedDatabase(template, path, { live, pool }, main = undefined) {
  const {
    SqliteDatabase,
    TenantDirectory,
    limitValuesOf,
    loadConfig,
    newAnonymousUser,
    openSession,
    randomId,
  } = await buildModules(main);
  copyFileSync(template, path);
  const store = new SqliteDatabase({ path });
  store.sqlite.pragma('synchronous = OFF');
  const now = Date.now();
  const ctx = { db: store, clock: { now: () => now }, policy: POLICY, onSecurityEvent: () => {} };
  const tenant = await new TenantDirectory(
    store,
    ctx.clock,
    'storefront-auth',
    limitValuesOf(loadConfig({})),
  ).require('demo');
  const every = Math.max(1, Math.floor(live / pool));
  const tokens = [];
  const batch = 20_000;
  for (let from = 0; from < live; from += batch) {
    store.sqlite.exec('BEGIN');
    for (let i = from; i < Math.min(live, from + batch); i++) {
      const user = newAnonymousUser(tenant.record.id, now);
      await store.createUser(user);
      if (i % every === 0 && tokens.length < pool) {
        tokens.push((await openSession(ctx, tenant, user, null)).tokens.refresh_token);
      } else {
        await store.createSession({
          id: randomId(16),
          storeId: tenant.record.id,
          userId: user.id,
          anonymousId: null,
          generation: 0,
          createdAt: now,
          rotatedAt: now,
          idleExpiresAt: now + POLICY.refreshTokenTtl * 1000,
          absoluteExpiresAt: now + POLICY.sessionMaxAge * 1000,
          revokedAt: null,
          revokedReason: null,
        });
      }
    }
    store.sqlite.exec('COMMIT');
  }
  store.sqlite.pragma('wal_checkpoint(TRUNCATE)');
  await store.close();
  return tokens;
}
