import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import type { FastifyInstance } from 'fastify';
import { afterEach, beforeEach } from 'vitest';
import { type AppOptions, buildApp } from '../../src/app.js';
import { type Config, limitValuesOf, loadConfig } from '../../src/config.js';
import type { SessionContext } from '../../src/sessions/context.js';
import type { Database } from '../../src/storage/contract.js';
import { SqliteDatabase } from '../../src/storage/sqlite/store.js';
import { ensureStore } from '../../src/tenants/bootstrap.js';
import { keyWrapFor } from '../../src/tokens/key-wrap.js';

export const API_KEY = 'test-api-key-0123456789';
export const STORE = 'demo';
export const BASE = `/api/v1/${STORE}/storefront`;

/** Environment for load tests that refresh one session, from one address, many times a second. */
export const UNLIMITED = { REFRESH_RATE_LIMIT: '0', REFRESH_IP_RATE_LIMIT: '0' };

/** A clock the test moves by hand. */
export class ManualClock {
  constructor(public ms = Date.UTC(2026, 0, 1)) {}
  now = () => this.ms;
  advance(seconds: number) {
    this.ms += seconds * 1000;
  }
}

export interface TestApp {
  app: FastifyInstance;
  db: Database;
  clock: ManualClock;
  config: Config;
  dir: string;
  /** Every log line written so far, raw. */
  logs: string[];
  close(): Promise<void>;
}

/** A real app on a real SQLite file in a fresh temporary folder, with a manual clock. */
export async function makeTestApp(
  env: Record<string, string> = {},
  opts: { db?: Database; dir?: string; replace?: Pick<AppOptions, 'hasher' | 'sender'> } = {},
): Promise<TestApp> {
  const dir = opts.dir ?? mkdtempSync(join(tmpdir(), 'sfa-test-'));
  const config = loadConfig({
    DATABASE_URL: `sqlite:${join(dir, 'auth.db')}`,
    LOG_LEVEL: 'info',
    API_KEY,
    ...env,
  });
  const db = opts.db ?? new SqliteDatabase({ path: join(dir, 'auth.db') });
  await db.migrate();
  const clock = new ManualClock();
  await ensureStore(db, clock, config.storeId, config.apiKey, keyWrapFor(config));
  const logs: string[] = [];
  const logStream = new Writable({
    write(chunk, _enc, cb) {
      logs.push(String(chunk));
      cb();
    },
  });
  const app = await buildApp({ config, db, clock, logStream, ...opts.replace });
  await app.ready();
  return {
    app,
    db,
    clock,
    config,
    dir,
    logs,
    async close() {
      await app.close();
      await db.close();
      if (!opts.dir) rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** POST /auth/anonymous with the test key; answers the parsed body. */
export async function anonymous(app: FastifyInstance, headers: Record<string, string> = {}) {
  const res = await app.inject({
    method: 'POST',
    url: `${BASE}/auth/anonymous`,
    headers: { 'x-api-key': API_KEY, ...headers },
  });
  return { status: res.statusCode, body: res.json(), headers: res.headers };
}

/** POST /auth/refresh-token with a JSON body. */
export async function refresh(
  app: FastifyInstance,
  refreshToken: unknown,
  headers: Record<string, string> = {},
) {
  const res = await app.inject({
    method: 'POST',
    url: `${BASE}/auth/refresh-token`,
    payload: { refresh_token: refreshToken },
    headers,
  });
  return { status: res.statusCode, body: res.json(), headers: res.headers };
}

/** The payload of a JWT, unverified. */
export function claims(token: string): Record<string, unknown> {
  return JSON.parse(Buffer.from(token.split('.')[1]!, 'base64url').toString());
}

/** A logged-in customer's pair, minted through the domain (customer login is another issue's route). */
export async function customerPair(t: TestApp): Promise<{ access_token: string; refresh_token: string }> {
  const { TenantDirectory } = await import('../../src/tenants/directory.js');
  const { openSession } = await import('../../src/sessions/create.js');
  const { ulid } = await import('../../src/util/ids.js');
  const tenant = await new TenantDirectory(t.db, t.clock, t.config.issuer, limitValuesOf(t.config)).require(
    t.config.storeId,
  );
  const now = t.clock.now();
  const user = {
    id: ulid(now),
    storeId: t.config.storeId,
    isAnonymous: false,
    email: 'shopper@example.com',
    phone: null,
    countryCode: null,
    firstName: 'Ada',
    lastName: null,
    customerId: `cus_${ulid(now)}`,
    customerGroupId: null,
    isEmailVerified: true,
    isPhoneVerified: false,
    createdAt: now,
    modifiedAt: now,
  };
  await t.db.createUser(user);
  return (await openSession(sessionContext(t), tenant, user, null)).tokens;
}

/** The domain's session context on the test app's database, clock and lifetimes; security events go nowhere. */
export function sessionContext(t: TestApp): SessionContext {
  return {
    db: t.db,
    clock: t.clock,
    policy: {
      accessTokenTtl: t.config.accessTokenTtl,
      refreshTokenTtl: t.config.refreshTokenTtl,
      sessionMaxAge: t.config.sessionMaxAge,
      refreshReuseGrace: t.config.refreshReuseGrace,
      maxSessionsPerUser: t.config.maxSessionsPerUser,
    },
    onSecurityEvent: () => {},
  };
}

/**
 * A fresh test app for each test of the file, closed after it: `use` receives it before the test
 * runs (`let t: TestApp; appPerTest((app) => (t = app), env);`).
 */
export function appPerTest(use: (t: TestApp) => void, env: Record<string, string> = {}): void {
  let current: TestApp | undefined;
  beforeEach(async () => {
    current = await makeTestApp(env);
    use(current);
  });
  afterEach(async () => {
    await current?.close();
  });
}

/** The SQLite database under a test app made with the default store. */
export function sqliteDb(t: TestApp) {
  return (t.db as SqliteDatabase).sqlite;
}
