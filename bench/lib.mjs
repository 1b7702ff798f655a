// Shared pieces of `npm run bench`: start server processes, drive them with C keep-alive
// connections from a load client cheap enough not to be the bottleneck, and summarise rounds in
// which every target is bracketed by the raw node:http baseline.
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { connect, createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const ROOT = fileURLToPath(new URL('..', import.meta.url));
export const MAIN = join(ROOT, 'packages/server/dist/main.js');
export const API_KEY = 'bench-api-key-0123456789';
/** The peer's one confidential client (client_secret_basic). */
export const PEER_CLIENT = { id: 'bench-client', secret: 'bench-client-secret-0123456789abcdef' };

/** Rounds per group of rows: on a shared machine one 5-second run can be off by a tenth. */
export const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);
export const SECONDS = Number(process.env.BENCH_SECONDS ?? 5);
/** Connections are opened once per run; more than this is refused rather than flooding the host. */
const MAX_CONNECTIONS = 256;

export async function freePort() {
  const server = createServer().listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address();
  server.close();
  await once(server, 'close');
  return port;
}

// Linux reports process CPU in clock ticks of 1/100 s (USER_HZ) in /proc/<pid>/stat.
const TICKS_PER_SECOND = 100;

/** CPU seconds used so far and peak resident memory (bytes) of a process, from /proc. */
function cpuSeconds(statPath) {
  const stat = readFileSync(statPath, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[11]) + Number(fields[12])) / TICKS_PER_SECOND;
}

/**
 * CPU seconds used so far by a process and by its main thread (the one that serves requests; a
 * SQLite server also has its checkpoint worker), its peak resident memory and its anonymous
 * (heap, not file-backed) resident memory, in bytes, from /proc.
 */
export function processStats(pid) {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = (name) => Number(new RegExp(`${name}:\\s+(\\d+)`).exec(status)?.[1] ?? Number.NaN) * 1024;
  return {
    cpu: cpuSeconds(`/proc/${pid}/stat`),
    mainCpu: cpuSeconds(`/proc/${pid}/task/${pid}/stat`),
    peakRss: kb('VmHWM'),
    anonRss: kb('RssAnon'),
  };
}

/** Starts a node script as a child process and waits until `readyPath` answers 200. */
export async function startProcess(script, env, readyPath = '/readyz', args = []) {
  const port = await freePort();
  const child = spawn(process.execPath, [...args, script], {
    env: { PATH: process.env.PATH, HOST: '127.0.0.1', PORT: String(port), ...env },
    stdio: ['ignore', 'ignore', process.env.BENCH_VERBOSE ? 'inherit' : 'ignore'],
  });
  const url = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + 60_000;
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
    port,
    child,
    pids: [child.pid],
    async stop() {
      if (child.exitCode === null) {
        child.kill('SIGTERM');
        await once(child, 'exit');
      }
    },
  };
}

/** The storefront-auth server on `dbPath` (a fresh SQLite file when not given), or `env.DATABASE_URL`. */
export async function startAuthServer(env = {}, dbPath = undefined, main = MAIN) {
  const dir = dbPath ? undefined : mkdtempSync(join(tmpdir(), 'sfa-bench-'));
  const server = await startProcess(
    main,
    {
      DATABASE_URL: `sqlite:${dbPath ?? join(dir, 'bench.db')}`,
      API_KEY,
      ANONYMOUS_RATE_LIMIT: '0',
      // Each client refreshes its own session thousands of times a minute here: no limits.
      REFRESH_RATE_LIMIT: '0',
      REFRESH_IP_RATE_LIMIT: '0',
      PURGE_INTERVAL: '0',
      LOG_LEVEL: 'info',
      ...env,
    },
    '/readyz',
    process.env.BENCH_CPU_PROF ? ['--cpu-prof', `--cpu-prof-dir=${process.env.BENCH_CPU_PROF}`] : [],
  );
  return {
    ...server,
    async stop() {
      await server.stop();
      if (dir) rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** Several processes measured as one target (their CPU and memory added up). */
export function together(servers) {
  return { urls: servers.map((s) => s.url), pids: servers.flatMap((s) => s.pids) };
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
 * One keep-alive HTTP/1.1 connection on a raw socket: requests are prebuilt strings and only the
 * status line and Content-Length are parsed, so the client spends a few microseconds per request
 * where undici spent tens (its cost had capped the raw baseline it was meant to measure).
 */
function connection(url) {
  const { hostname, port } = new URL(url);
  const socket = connect(Number(port), hostname);
  socket.setNoDelay(true);
  let buffer = null;
  let waiting = null;
  const fail = (error) => {
    const w = waiting;
    waiting = null;
    w?.reject(error);
  };
  socket.on('error', fail);
  socket.on('close', () => fail(new Error('connection closed by the server')));
  socket.on('data', (chunk) => {
    buffer = buffer ? Buffer.concat([buffer, chunk]) : chunk;
    const headEnd = buffer.indexOf('\r\n\r\n');
    if (headEnd < 0) return;
    const head = buffer.toString('latin1', 0, headEnd);
    const length = /\r\ncontent-length:\s*(\d+)/i.exec(head);
    if (!length) return fail(new Error(`response without Content-Length: ${head.slice(0, 80)}`));
    const end = headEnd + 4 + Number(length[1]);
    if (buffer.length < end) return;
    const body = buffer.toString('utf8', headEnd + 4, end);
    buffer = buffer.length > end ? buffer.subarray(end) : null;
    const w = waiting;
    waiting = null;
    w?.resolve({ status: Number(head.slice(9, 12)), body });
  });
  return {
    ready: once(socket, 'connect'),
    send(request) {
      return new Promise((resolve, reject) => {
        waiting = { resolve, reject };
        socket.write(request);
      });
    },
    close: () => socket.destroy(),
  };
}

export function httpPost(path, contentType, body, extraHeaders = '') {
  return (
    `POST ${path} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: ${contentType}\r\n` +
    `${extraHeaders}Content-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`
  );
}

/** The refresh token of a JSON answer, found without parsing the whole body. */
export function refreshTokenOf(body) {
  const start = body.indexOf('"refresh_token":"');
  if (start < 0) return JSON.parse(body).content?.refresh_token;
  const from = start + '"refresh_token":"'.length;
  return body.slice(from, body.indexOf('"', from));
}

/**
 * Runs C connections for `seconds` after a warm-up. A chain says what each connection sends:
 * `init(i, url)` its first state, `request(state)` the request, `next(state, status, body)` the
 * state after an answer. Answers throughput, latency percentiles, errors, and the CPU cores the
 * target's processes and this client used while measuring.
 */
export async function drive({ target, connections, seconds = SECONDS, warmup = 1, chain }) {
  if (connections > MAX_CONNECTIONS) throw new Error(`at most ${MAX_CONNECTIONS} connections`);
  const urls = target.urls;
  const conns = [];
  const states = [];
  for (let i = 0; i < connections; i++) {
    const url = urls[i % urls.length];
    const c = connection(url);
    await c.ready;
    conns.push(c);
    states.push(await chain.init(i, url));
  }
  let latencies = [];
  let errors = 0;
  let lastError = '';
  let measuring = false;
  let stop = false;
  const loops = conns.map(async (c, i) => {
    let state = states[i];
    while (!stop) {
      const t0 = performance.now();
      const { status, body } = await c.send(chain.request(state));
      const ms = performance.now() - t0;
      state = chain.next(state, status, body);
      if (status !== 200) {
        errors++;
        lastError = `${status} ${body.slice(0, 200)}`;
        if (errors > 100) throw new Error(`too many errors: ${lastError}`);
      } else if (measuring) latencies.push(ms);
    }
  });
  const failed = Promise.all(loops).then(
    () => null,
    (error) => error,
  );
  const sleep = (s) => new Promise((r) => setTimeout(r, s * 1000));
  await Promise.race([sleep(warmup), failed]);
  latencies = [];
  measuring = true;
  const before = target.pids.map(processStats);
  const clientBefore = process.cpuUsage();
  const started = performance.now();
  await Promise.race([sleep(seconds), failed]);
  measuring = false;
  const elapsed = (performance.now() - started) / 1000;
  const after = target.pids.map(processStats);
  const client = process.cpuUsage(clientBefore);
  stop = true;
  const error = await failed;
  for (const c of conns) c.close();
  if (error) throw error;
  latencies.sort((a, b) => a - b);
  const pct = (p) =>
    latencies[Math.min(latencies.length - 1, Math.floor((p / 100) * latencies.length))] ?? NaN;
  return {
    rps: latencies.length / elapsed,
    p50: pct(50),
    p99: pct(99),
    errors,
    lastError,
    serverCores: after.reduce((sum, a, i) => sum + a.cpu - before[i].cpu, 0) / elapsed,
    mainThreadCores: after.reduce((sum, a, i) => sum + a.mainCpu - before[i].mainCpu, 0) / elapsed,
    // Server CPU per answered request: less sensitive than throughput to other load on the machine.
    get cpuPerRequest() {
      return (this.serverCores / this.rps) * 1e6;
    },
    get mainCpuPerRequest() {
      return (this.mainThreadCores / this.rps) * 1e6;
    },
    clientCores: (client.user + client.system) / 1e6 / elapsed,
    peakRss: Math.max(...after.map((a) => a.peakRss)),
    anonRss: Math.max(...after.map((a) => a.anonRss)),
  };
}

/** A refresh-token chain: each connection refreshes its own session, then uses the new token. */
export function refreshChain(store = 'demo') {
  const path = `/api/v1/${store}/storefront/auth/refresh-token`;
  return {
    init: async (_i, url) => ({ token: (await anonymousPair(url, store)).refresh_token }),
    request: (s) => httpPost(path, 'application/json', `{"refresh_token":"${s.token}"}`),
    next: (s, status, body) => (status === 200 ? { token: refreshTokenOf(body) } : s),
  };
}

/**
 * Random sessions: every request refreshes a session drawn at random from `pool` (an array of
 * current refresh tokens, updated in place), never one another connection has in flight.
 */
export function randomSessionChain(pool, store = 'demo') {
  const path = `/api/v1/${store}/storefront/auth/refresh-token`;
  const busy = new Uint8Array(pool.length);
  return {
    init: async () => ({ index: -1 }),
    request: (s) => {
      let index;
      do index = Math.floor(Math.random() * pool.length);
      while (busy[index]);
      busy[index] = 1;
      s.index = index;
      return httpPost(path, 'application/json', `{"refresh_token":"${pool[index]}"}`);
    },
    next: (s, status, body) => {
      if (status === 200) pool[s.index] = refreshTokenOf(body);
      busy[s.index] = 0;
      return s;
    },
  };
}

/** The same request shape against the raw node:http baseline, which echoes a token back. */
export const rawChain = {
  init: async () => ({ token: 'x'.repeat(400) }),
  request: (s) => httpPost('/echo', 'application/json', `{"refresh_token":"${s.token}"}`),
  next: (s, status, body) => (status === 200 ? { token: refreshTokenOf(body) } : s),
};

export async function startRawBaseline() {
  return startProcess(join(ROOT, 'bench/raw-server.mjs'), {}, '/readyz');
}

/** Rows of one group measured in rounds: raw, A, raw, B, raw, ... (the order reversed every other round). */
export async function measureGroup({ c, raw, targets, log = console.error }) {
  const rounds = [];
  for (let r = 0; r < ROUNDS; r++) {
    const order = r % 2 === 0 ? targets : [...targets].reverse();
    const raws = [await raw()];
    const results = {};
    for (const t of order) {
      results[t.name] = await t.run();
      raws.push(await raw());
      const [b0, b1] = raws.slice(-2);
      results[t.name].raw = (b0.rps + b1.rps) / 2;
      results[t.name].ratio = results[t.name].rps / results[t.name].raw;
      log(
        `  C=${c} round ${r + 1}: ${t.name} ${Math.round(results[t.name].rps)}/s, raw ${Math.round(b0.rps)} and ${Math.round(b1.rps)}/s`,
      );
    }
    rounds.push({ raws, results });
  }
  return { c, rounds, targets: targets.map((t) => t.name) };
}

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const range = (xs) => (xs.length > 1 ? ` (${Math.min(...xs).toFixed(3)}-${Math.max(...xs).toFixed(3)})` : '');
const mb = (bytes) => `${Math.round(bytes / 2 ** 20)}`;

export const HEADER =
  '| target | C | req/s | p50 ms | p99 ms | CPU cores (server, client) | server CPU us/req (main thread) | peak RSS MB (anon at end) | ratio to raw, same round: median (range) |\n|---|---|---|---|---|---|---|---|---|';

/** The table rows of a group: the raw baseline (its runs pooled), then each target at its median round. */
export function groupRows(group) {
  const raws = group.rounds.flatMap((r) => r.raws);
  const byRps = [...raws].sort((a, b) => a.rps - b.rps);
  const mid = byRps[Math.floor(byRps.length / 2)];
  const cores = raws.map((r) => r.serverCores);
  const lines = [
    `| raw node:http (${raws.length} runs; server cores ${Math.min(...cores).toFixed(2)}-${Math.max(...cores).toFixed(2)}) | ${group.c} | ${Math.round(mid.rps)} | ${mid.p50.toFixed(2)} | ${mid.p99.toFixed(2)} | ${median(cores).toFixed(2)}, ${mid.clientCores.toFixed(2)} | ${mid.cpuPerRequest.toFixed(0)} (${mid.mainCpuPerRequest.toFixed(0)}) | ${mb(mid.peakRss)} (${mb(mid.anonRss)}) | 1 |`,
  ];
  for (const name of group.targets) {
    const runs = group.rounds.map((r) => r.results[name]).sort((a, b) => a.ratio - b.ratio);
    const m = runs[Math.floor(runs.length / 2)];
    lines.push(
      `| ${name} | ${group.c} | ${Math.round(m.rps)} | ${m.p50.toFixed(2)} | ${m.p99.toFixed(2)} | ${m.serverCores.toFixed(2)}, ${m.clientCores.toFixed(2)} | ${m.cpuPerRequest.toFixed(0)} (${m.mainCpuPerRequest.toFixed(0)}) | ${mb(Math.max(...runs.map((x) => x.peakRss)))} (${mb(runs[runs.length - 1].anonRss)}) | ${m.ratio.toFixed(3)}${range(runs.map((x) => x.ratio))} |`,
    );
  }
  return lines;
}

/** The raw server's CPU during its runs: about one core means it, not the client, was the limit. */
export function rawCoreCheck(groups) {
  const cores = groups.flatMap((g) => g.rounds.flatMap((r) => r.raws.map((x) => x.serverCores)));
  const m = median(cores);
  const verdict =
    m >= 0.85
      ? 'about one core: the server, not the load client, was the limit'
      : 'BELOW one core: the load client or the machine limited the baseline, ratios are inflated';
  return `raw node:http server CPU during its ${cores.length} runs: median ${m.toFixed(2)} cores (${Math.min(...cores).toFixed(2)}-${Math.max(...cores).toFixed(2)}), ${verdict}`;
}

/** `a` against `b` in the same rounds of one group: throughput and p99 ratios, median (range). */
export function compare(group, a, b, label) {
  const rps = group.rounds.map((r) => r.results[a].rps / r.results[b].rps);
  const p99 = group.rounds.map((r) => r.results[a].p99 / r.results[b].p99);
  const cpu = group.rounds.map((r) => r.results[a].cpuPerRequest / r.results[b].cpuPerRequest);
  const main = group.rounds.map((r) => r.results[a].mainCpuPerRequest / r.results[b].mainCpuPerRequest);
  return `${label}, C=${group.c}: throughput ${median(rps).toFixed(2)}x${range(rps)}, p99 ${median(p99).toFixed(2)}x${range(p99)}, server CPU per request ${median(cpu).toFixed(2)}x${range(cpu)} (main thread ${median(main).toFixed(2)}x${range(main)})`;
}
