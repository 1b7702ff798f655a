// The flood row of `npm run bench`: a legitimate client's refresh p50 during a flood of distinct
// rate-limit keys, beside the same flood on one key, as a ratio (what the number of keys costs,
// apart from the load itself), and the server's memory per live key. The flood comes from a
// declared front end (TRUSTED_FRONTENDS) forwarding a made-up shopper address, with a made-up
// refresh token: each request counts on a per-address window, then fails the signature check.
// Run alone: `npm run build && node bench/flood.mjs`.
import { readFileSync } from 'node:fs';
import { Pool } from 'undici';
import { drive, refreshChain, startAuthServer, together } from './lib.mjs';

const KEYS = Number(process.env.BENCH_FLOOD_KEYS ?? 200_000);
const FLOOD_CONNECTIONS = 16;

function rssBytes(pid) {
  const kb = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1];
  return Number(kb) * 1024;
}

/** Sends `keys` refreshes, each "for" another shopper address (or all for one); answers req/s. */
async function flood(url, keys, distinct) {
  const started = performance.now();
  const pool = new Pool(url, { connections: FLOOD_CONNECTIONS });
  let next = 0;
  const worker = async () => {
    for (let i = next++; i < keys; i = next++) {
      const res = await pool.request({
        path: '/api/v1/demo/storefront/auth/refresh-token',
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          'x-forwarded-for': distinct ? `10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}` : '10.0.0.1',
        },
        body: '{"refresh_token":"made.up.token"}',
      });
      await res.body.dump();
    }
  };
  await Promise.all(Array.from({ length: FLOOD_CONNECTIONS }, worker));
  await pool.close();
  return keys / ((performance.now() - started) / 1000);
}

export async function rows({ seconds }) {
  const env = {
    TRUSTED_FRONTENDS: '127.0.0.1',
    REFRESH_IP_RATE_LIMIT: '1200',
    RATE_LIMIT_MAX_KEYS: String(Math.max(KEYS, 1000)),
  };
  /** The legitimate client's figures during a flood (distinct keys or one), and the RSS growth. */
  const during = async (distinct) => {
    const server = await startAuthServer(env);
    try {
      const legit = () =>
        drive({ target: together([server]), connections: 1, seconds, chain: refreshChain() });
      const quiet = await legit();
      const rssBefore = rssBytes(server.child.pid);
      const flooding = flood(server.url, KEYS, distinct);
      const loud = await legit();
      const floodRps = await flooding;
      return { quiet, loud, floodRps, rss: rssBytes(server.child.pid) - rssBefore };
    } finally {
      await server.stop();
    }
  };
  const one = await during(false);
  const many = await during(true);
  const f = (x) => x.toFixed(2);
  return [
    `\nflood of ${KEYS} requests (${FLOOD_CONNECTIONS} connections) beside one legitimate refreshing client\n`,
    '| flood | legit p50 ms, quiet | legit p50 ms, flood | flood req/s | RSS growth |',
    '|---|---|---|---|---|',
    `| one key | ${f(one.quiet.p50)} | ${f(one.loud.p50)} | ${Math.round(one.floodRps)} | ${(one.rss / 2 ** 20).toFixed(1)} MiB |`,
    `| ${KEYS} distinct keys | ${f(many.quiet.p50)} | ${f(many.loud.p50)} | ${Math.round(many.floodRps)} | ${(many.rss / 2 ** 20).toFixed(1)} MiB |`,
    `\nlegit p50 under the distinct-key flood / under the one-key flood: ${f(many.loud.p50 / one.loud.p50)}; ` +
      `flood throughput, distinct / one key: ${f(many.floodRps / one.floodRps)}; ` +
      `memory per live key: ${Math.round((many.rss - one.rss) / KEYS)} B`,
  ];
}

if (import.meta.url === `file://${process.argv[1]}`) {
  console.log((await rows({ seconds: Number(process.env.BENCH_SECONDS ?? 5) })).join('\n'));
}
