import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { afterEach, describe, expect, it } from 'vitest';
import type { OtpMessage } from '../src/accounts/delivery/contract.js';
import { argon2Hasher, type PasswordHasher } from '../src/accounts/passwords.js';
import { type AppOptions, buildApp } from '../src/app.js';
import { loadConfig } from '../src/config.js';
import { SqliteSessionStore } from '../src/storage/sqlite/store.js';
import { ensureStore } from '../src/tenants/bootstrap.js';
import { API_KEY, BASE, ManualClock } from './helpers/app.js';

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0)) await cleanup();
});

/** An app built through the composition root on a fresh SQLite file, with its log lines. */
async function composed(env: Record<string, string>, options: Partial<AppOptions> = {}) {
  const dir = mkdtempSync(join(tmpdir(), 'sfa-compose-'));
  const store = new SqliteSessionStore({ path: join(dir, 'auth.db') });
  await store.migrate();
  const clock = new ManualClock();
  const config = loadConfig({ DATABASE_URL: `sqlite:${join(dir, 'auth.db')}`, API_KEY, ...env });
  await ensureStore(store, clock, config.storeId, config.apiKey);
  const logs: string[] = [];
  const logStream = new Writable({
    write(chunk, _enc, cb) {
      logs.push(String(chunk));
      cb();
    },
  });
  const app = await buildApp({ config, store, clock, logStream, ...options });
  await app.ready();
  cleanups.push(async () => {
    await app.close();
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  });
  return { app, logs };
}

describe('the composition root', () => {
  it('hands the customer routes the OTP sender and the hasher given in its options', async () => {
    const sent: OtpMessage[] = [];
    let hashed = 0;
    const hasher: PasswordHasher = {
      hash: (password) => {
        hashed++;
        return argon2Hasher.hash(password);
      },
      verify: argon2Hasher.verify,
    };
    const { app } = await composed(
      {},
      { hasher, sender: { name: 'test', send: async (m) => void sent.push(m) } },
    );
    const password = 'correct horse battery';
    const started = await app.inject({
      method: 'POST',
      url: `${BASE}/auth/register/password`,
      payload: { email: 'ada@example.com', password, confirm_password: password },
    });
    expect(started.statusCode, started.body).toBe(200);
    expect(sent.map((m) => m.to)).toEqual([{ email: 'ada@example.com' }]);
    const verified = await app.inject({
      method: 'POST',
      url: `${BASE}/auth/verify-otp`,
      payload: { otp: sent[0]!.otp, otp_token: started.json().content.otp_token, otp_action: 'register' },
    });
    expect(verified.statusCode, verified.body).toBe(200);
    expect(hashed).toBeGreaterThan(0);
  });

  it('warns that OTPs reach no one only when NODE_ENV=production leaves them to the log sender', async () => {
    const warning = 'OTPs are not delivered to anyone';
    const production = await composed({ NODE_ENV: 'production' });
    expect(production.logs.join('')).toContain(warning);
    const development = await composed({ NODE_ENV: 'development' });
    expect(development.logs.join('')).not.toContain(warning);
    const webhook = await composed({
      NODE_ENV: 'production',
      OTP_WEBHOOK_URL: 'https://hooks.example.com/otp',
      OTP_WEBHOOK_SECRET: 'x'.repeat(32),
    });
    expect(webhook.logs.join('')).not.toContain(warning);
  });
});
