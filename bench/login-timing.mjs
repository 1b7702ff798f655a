// Login timing: does a password login for an unknown account take as long as one with a wrong
// password? Runs the real domain operation (argon2id, SQLite) in-process, interleaving the two
// cases, and reports medians and their ratio. Not a test: timings vary by machine, so no
// assertion is made; tests check the mechanism instead (one hash check on every path).
//
//   npm run build && node bench/login-timing.mjs [samples=200]
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const dist = new URL('../packages/server/dist/', import.meta.url);
const load = (path) => import(new URL(path, dist).href);
const { SqliteDatabase } = await load('storage/sqlite/store.js');
const { ensureStore } = await load('tenants/bootstrap.js');
const { TenantDirectory } = await load('tenants/directory.js');
const { limitValuesOf, loadConfig } = await load('config.js');
const { MemoryRateLimiter } = await load('ratelimit/memory.js');
const { argon2Hasher } = await load('accounts/passwords.js');
const { createAccount } = await load('accounts/records.js');
const { loginWithPassword } = await load('accounts/login-password.js');

const samples = Number(process.argv[2] ?? 200);
const dir = mkdtempSync(join(tmpdir(), 'sfa-bench-login-'));
const db = new SqliteDatabase({ path: join(dir, 'auth.db') });
await db.migrate();
const clock = { now: () => Date.now() };
await ensureStore(db, clock, 'bench', 'bench-api-key-0123456789');
const tenant = await new TenantDirectory(db, clock, 'storefront-auth', {
  ...limitValuesOf(loadConfig({})),
  loginPerIdentifier: 1e9,
  loginPerAddress: 0,
}).require('bench');
const ctx = {
  db,
  clock,
  policy: { accessTokenTtl: 900, refreshTokenTtl: 2592000, sessionMaxAge: 7776000, refreshReuseGrace: 30 },
  onSecurityEvent: () => {},
  hasher: argon2Hasher,
  sender: { name: 'none', send: async () => {} },
  rateLimiter: new MemoryRateLimiter(clock),
  otpDebugStoreId: null,
};
await createAccount(ctx, tenant, {
  email: 'known@example.com',
  phone: null,
  firstName: null,
  lastName: null,
  passwordHash: await argon2Hasher.hash('the real password'),
  emailVerified: true,
  phoneVerified: true,
  loginMethods: ['password'],
});
const client = { caller: { kind: 'address', address: '127.0.0.1' }, debug: false, bearer: undefined };

async function timeOne(email) {
  const start = process.hrtime.bigint();
  const error = await loginWithPassword(ctx, tenant, { email }, 'a wrong password', client).catch((e) => e);
  const ms = Number(process.hrtime.bigint() - start) / 1e6;
  if (error?.code !== 'INVALID_CREDENTIALS')
    throw new Error(`unexpected answer for ${email}: ${error?.code}`);
  return ms;
}

// Warm up (the dummy hash is computed on first use), then interleave the two cases.
for (let i = 0; i < 5; i++) {
  await timeOne(`warm${i}@example.com`);
  await timeOne('known@example.com');
}
const unknown = [];
const wrong = [];
for (let i = 0; i < samples; i++) {
  unknown.push(await timeOne(`nobody${i}@example.com`));
  wrong.push(await timeOne('known@example.com'));
}
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const p90 = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length * 0.9)];
const mu = median(unknown);
const mw = median(wrong);
console.log(`login timing, ${samples} samples each (argon2id m=19456 KiB, t=2, p=1)`);
console.log(`  unknown account : median ${mu.toFixed(2)} ms, p90 ${p90(unknown).toFixed(2)} ms`);
console.log(`  wrong password  : median ${mw.toFixed(2)} ms, p90 ${p90(wrong).toFixed(2)} ms`);
console.log(`  ratio unknown/wrong (median): ${(mu / mw).toFixed(3)}  (1.000 = indistinguishable)`);
await db.close();
rmSync(dir, { recursive: true, force: true });
