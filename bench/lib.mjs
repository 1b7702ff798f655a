// Shared pieces of `npm run bench`: start a server process, drive it with C clients, summarise.
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Pool } from 'undici';

export const ROOT = fileURLToPath(new URL('..', import.meta.url));
export const MAIN = join(ROOT, 'packages/server/dist/main.js');
export const API_KEY = 'bench-api-key-0123456789';

export async function freePort() {
  const server = createServer().listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address();
  server.close();
  await once(server, 'close');
  return port;
}

/** Starts a node script as a child process and waits until `readyPath` answers 200. */
export async function startProcess(script, env, readyPath = '/readyz') {
  const port = await freePort();
  const child = spawn(process.execPath, [script], {
    env: { PATH: process.env.PATH, HOST: '127.0.0.1', PORT: String(port), ...env },
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  const url = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + 30_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`${script} exited with ${child.exitCode}`);
    try {
      if ((await fetch(url + readyPath)).status === 200) break;
    } catch {}
    if (Date.now() > deadline) throw new Error(`${script} did not become ready`);
    await new Promise((r) => setTimeout(r, 50));
  }
  return {
    url,
    child,
    async stop() {
      if (child.exitCode === null) {
        child.kill('SIGTERM');
        await once(child, 'exit');
      }
    },
  };
}

/** The storefront-auth server on a fresh SQLite file (or the DATABASE_URL given). */
export async function startAuthServer(env = {}) {
  const dir = mkdtempSync(join(tmpdir(), 'sfa-bench-'));
  const server = await startProcess(MAIN, {
    DATABASE_URL: `sqlite:${join(dir, 'bench.db')}`,
    API_KEY,
    ANONYMOUS_RATE_LIMIT: '0',
    // Each client refreshes its own session thousands of times a minute here: no limits.
    REFRESH_RATE_LIMIT: '0',
    REFRESH_IP_RATE_LIMIT: '0',
    LOG_LEVEL: 'info',
    ...env,
  });
  return {
    ...server,
    async stop() {
      await server.stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

export async function anonymousPair(url, store = 'demo') {
  const res = await fetch(`${url}/api/v1/${store}/storefront/auth/anonymous`, {
    method: 'POST',
    headers: { 'x-api-key': API_KEY },
  });
  if (res.status !== 200) throw new Error(`anonymous: ${res.status}`);
  return (await res.json()).content;
}

/**
 * Runs C clients for `seconds`, each walking its own chain: `step(state) -> state` sends one
 * request and returns the next state. Answers throughput and latency percentiles.
 */
export async function drive({ urls, connections, seconds, warmup = 1, init, path, body, next }) {
  const targets = Array.isArray(urls) ? urls : [urls];
  const pools = targets.map(
    (u) => new Pool(u, { connections: Math.ceil(connections / targets.length), pipelining: 1 }),
  );
  const states = [];
  for (let i = 0; i < connections; i++) states.push(await init(i, targets[i % targets.length]));
  const latencies = [];
  let errors = 0;
  let measuring = false;
  let stop = false;
  const clients = states.map(async (state, i) => {
    const pool = pools[i % pools.length];
    while (!stop) {
      const t0 = process.hrtime.bigint();
      const res = await pool.request({
        path: path(state),
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(body(state)),
      });
      const json = await res.body.json();
      const ms = Number(process.hrtime.bigint() - t0) / 1e6;
      if (res.statusCode !== 200) {
        errors++;
        if (errors > 100) throw new Error(`too many errors: ${res.statusCode} ${JSON.stringify(json)}`);
        continue;
      }
      state = next(state, json);
      if (measuring) latencies.push(ms);
    }
  });
  await new Promise((r) => setTimeout(r, warmup * 1000));
  measuring = true;
  const started = performance.now();
  await new Promise((r) => setTimeout(r, seconds * 1000));
  measuring = false;
  const elapsed = (performance.now() - started) / 1000;
  stop = true;
  await Promise.all(clients);
  await Promise.all(pools.map((p) => p.close()));
  latencies.sort((a, b) => a - b);
  const pct = (p) =>
    latencies[Math.min(latencies.length - 1, Math.floor((p / 100) * latencies.length))] ?? NaN;
  return { rps: latencies.length / elapsed, p50: pct(50), p99: pct(99), errors };
}

/** A refresh-token chain: each client refreshes its own session, then uses the new token. */
export function refreshChain(store = 'demo') {
  return {
    init: async (_i, url) => ({ token: (await anonymousPair(url, store)).refresh_token }),
    path: () => `/api/v1/${store}/storefront/auth/refresh-token`,
    body: (s) => ({ refresh_token: s.token }),
    next: (_s, json) => ({ token: json.content.refresh_token }),
  };
}

/** The same request shape against the raw node:http baseline, which echoes a token back. */
export const rawChain = {
  init: async () => ({ token: 'x'.repeat(400) }),
  path: () => '/echo',
  body: (s) => ({ refresh_token: s.token }),
  next: (_s, json) => ({ token: json.content.refresh_token }),
};

export function startRawBaseline() {
  return startProcess(join(ROOT, 'bench/raw-server.mjs'), {}, '/readyz');
}

export function row(name, c, r, ratio = '1.000') {
  return `| ${name} | ${c} | ${Math.round(r.rps)} | ${r.p50.toFixed(2)} | ${r.p99.toFixed(2)} | ${ratio} |`;
}

/** Rounds of each paired row: on a shared machine one 5-second pair can be off by a tenth. */
export const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);

/**
 * Runs the baseline and the target alternately, ROUNDS times, and reports the round with the
 * median ratio (its figures, both rows) and the range of the ratios: drift of the machine during
 * the run hits both sides of a round alike.
 */
export async function paired(name, c, baseline, target) {
  const rounds = [];
  for (let i = 0; i < ROUNDS; i++) {
    const b = await baseline();
    const t = await target();
    rounds.push({ b, t, ratio: t.rps / b.rps });
  }
  rounds.sort((x, y) => x.ratio - y.ratio);
  const median = rounds[Math.floor(rounds.length / 2)];
  const range =
    rounds.length > 1 ? ` (${rounds[0].ratio.toFixed(3)}-${rounds[rounds.length - 1].ratio.toFixed(3)})` : '';
  return [row('raw node:http', c, median.b), row(name, c, median.t, `${median.ratio.toFixed(3)}${range}`)];
}

export const HEADER =
  '| target | C | req/s | p50 ms | p99 ms | ratio to raw node:http: median (range) |\n|---|---|---|---|---|---|';
