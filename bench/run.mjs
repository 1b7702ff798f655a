// npm run bench: refresh throughput and latency beside a raw node:http baseline, same run, same client.
// Figures on a shared machine are noisy: read the ratios, not the absolute numbers.
import { generateKeyPairSync, sign } from 'node:crypto';
import {
  drive,
  HEADER,
  paired,
  ROUNDS,
  rawChain,
  refreshChain,
  startAuthServer,
  startRawBaseline,
} from './lib.mjs';

const SECONDS = Number(process.env.BENCH_SECONDS ?? 5);
const LEVELS = (process.env.BENCH_C ?? '1,10,64').split(',').map(Number);

/** ES256 signing alone, for scale: the largest CPU cost inside one refresh. */
function es256Microbench() {
  const { privateKey } = generateKeyPairSync('ec', { namedCurve: 'prime256v1' });
  const data = Buffer.from('x'.repeat(600));
  const n = 4000;
  const t0 = performance.now();
  for (let i = 0; i < n; i++) sign('sha256', data, { key: privateKey, dsaEncoding: 'ieee-p1363' });
  return ((performance.now() - t0) * 1000) / n;
}

const lines = [HEADER];
const raw = await startRawBaseline();
const auth = await startAuthServer();
try {
  for (const c of LEVELS) {
    const pair = await paired(
      'refresh, SQLite',
      c,
      () => drive({ urls: raw.url, connections: c, seconds: SECONDS, ...rawChain }),
      () => drive({ urls: auth.url, connections: c, seconds: SECONDS, ...refreshChain() }),
    );
    lines.push(...pair);
    console.error(pair.join('\n'));
  }
} finally {
  await raw.stop();
  await auth.stop();
}

const extra = process.env.BENCH_POSTGRES_URL ? await import('./postgres.mjs') : null;
if (extra) lines.push(...(await extra.rows({ seconds: SECONDS })));

console.log(`\nrefresh-token benchmark, ${SECONDS} s per run, ${ROUNDS} rounds per pair\n`);
console.log(lines.join('\n'));
if (process.env.BENCH_FLOOD !== '0')
  lines.push(...(await (await import('./flood.mjs')).rows({ seconds: SECONDS })));

console.log(`\nES256 signature with node:crypto: ${es256Microbench().toFixed(1)} us each`);

// Account enumeration through OTP requests: an unknown email must answer as fast as a customer's.
const { otpTimingRows } = await import('./otp-timing.mjs');
console.log(`\nOTP requests, existing against unknown email (expect a ratio within 1.1x)\n`);
console.log((await otpTimingRows(Number(process.env.BENCH_OTP_SAMPLES ?? 150))).join('\n'));
