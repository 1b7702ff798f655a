// OTP enumeration timing: do forgot-password and login-by-OTP answer as fast for an unknown
// email as for a customer's, with a slow (150 ms) and with a failing OTP webhook? Real HTTP on
// 127.0.0.1 to the built app on a SQLite file, the outbox worker delivering in the background,
// the two cases interleaved. Reports medians and their ratio (expect about 1.0; within 1.1x).
// Not a test: timings vary by machine, so nothing is asserted.
//
//   npm run build && node bench/otp-timing.mjs [samples=150]   (also the last rows of npm run bench)
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';

const dist = new URL('../packages/server/dist/', import.meta.url);
const load = (path) => import(new URL(path, dist).href);

async function receiver(mode) {
  const server = createServer((req, res) => {
    req.resume();
    req.on('end', () =>
      mode === 'slow' ? setTimeout(() => res.writeHead(204).end(), 150) : res.writeHead(503).end(),
    );
  });
  await new Promise((r) => server.listen(0, '127.0.0.1', r));
  return { url: `http://127.0.0.1:${server.address().port}/otp`, close: () => server.close() };
}

async function measure(mode, samples) {
  const { buildApp } = await load('app.js');
  const { loadConfig } = await load('config.js');
  const { SqliteDatabase } = await load('storage/sqlite/store.js');
  const { ensureStore } = await load('tenants/bootstrap.js');
  const hook = await receiver(mode);
  const dir = mkdtempSync(join(tmpdir(), 'sfa-bench-otp-'));
  const config = loadConfig({
    DATABASE_URL: `sqlite:${join(dir, 'auth.db')}`,
    API_KEY: 'bench-api-key-0123456789',
    OTP_WEBHOOK_URL: hook.url,
    OTP_WEBHOOK_SECRET: 'bench-webhook-secret-0123456789',
    OTP_DEBUG: 'true',
    TRUST_PROXY: '1',
    LOG_LEVEL: 'silent',
  });
  const db = new SqliteDatabase({ path: join(dir, 'auth.db') });
  await db.migrate();
  // A clock the bench moves 11 minutes per sample, so the send limits never answer 429.
  let now = Date.now();
  const clock = { now: () => now };
  await ensureStore(db, clock, config.storeId, config.apiKey);
  const app = await buildApp({ config, db, clock });
  await app.listen({ host: '127.0.0.1', port: 0 });
  const base = `http://127.0.0.1:${app.server.address().port}/api/v1/demo/storefront`;
  let n = 0;
  const post = async (path, body, debug = false) => {
    const res = await fetch(`${base}${path}`, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        'x-forwarded-for': `10.9.${(n >> 8) & 255}.${n++ & 255}`,
        ...(debug ? { 'x-debug-mode': 'true' } : {}),
      },
      body: JSON.stringify(body),
    });
    return { status: res.status, body: await res.json() };
  };
  const sent = await post('/auth/register/email', { email: 'known@example.com', first_name: 'K' }, true);
  await post('/auth/verify-otp', { ...sent.body.content, otp_action: 'register' });

  const cases = {
    'forgot-password': (email) => ['/auth/forgot-password', { email }],
    'login/email': (email) => ['/auth/login/email', { email }],
  };
  const rows = [];
  for (const [name, request] of Object.entries(cases)) {
    const time = async (email) => {
      now += 11 * 60_000;
      const t0 = performance.now();
      const res = await post(...request(email));
      const ms = performance.now() - t0;
      if (res.status !== 200) throw new Error(`${name} answered ${res.status} ${res.body.code}`);
      return ms;
    };
    for (let i = 0; i < 10; i++) {
      await time('known@example.com');
      await time(`warm${i}@example.com`);
    }
    const known = [];
    const unknown = [];
    for (let i = 0; i < samples; i++) {
      known.push(await time('known@example.com'));
      unknown.push(await time(`nobody${i}@example.com`));
    }
    const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
    const mk = median(known);
    const mu = median(unknown);
    rows.push(`| ${name}, ${mode} webhook | ${mk.toFixed(2)} | ${mu.toFixed(2)} | ${(mu / mk).toFixed(3)} |`);
  }
  await app.close();
  await db.close();
  hook.close();
  rmSync(dir, { recursive: true, force: true });
  return rows;
}

/** The table rows: both operations, with a slow and with a failing webhook. */
export async function otpTimingRows(samples = 150) {
  const rows = [
    '| OTP request | existing: median ms | unknown: median ms | ratio unknown/existing |',
    '|---|---|---|---|',
  ];
  for (const mode of ['slow', 'failing']) rows.push(...(await measure(mode, samples)));
  return rows;
}

if (import.meta.url === pathToFileURL(process.argv[1]).href) {
  console.log((await otpTimingRows(Number(process.argv[2] ?? 150))).join('\n'));
}
