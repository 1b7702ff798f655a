// Where a server's main thread spent its busy time, from a V8 CPU profile:
//
//   BENCH_CPU_PROF=/tmp/prof BENCH_ONLY='^refresh, SQLite$' BENCH_C=10 npm run bench
//   node bench/profile-summary.mjs /tmp/prof/CPU.*.cpuprofile
//
// (each server writes one profile per thread when it stops; the largest is the main thread's).
// Every sample is put in one bucket by its whole stack: the specific buckets first (a sample
// anywhere under the ES256 signature is the signature's), then, for what is left, the innermost
// HTTP or Fastify frame. Idle time is left out of the percentages.
import { readFileSync } from 'node:fs';

const BUCKETS = [
  [
    'request log line (pino)',
    (f) => /node_modules\/(pino|sonic-boom|thread-stream)\/|dist\/http\/logging/.test(f.url),
  ],
  ['ES256 signature', (f) => f.functionName === 'signOneShot'],
  ['HMAC (refresh token sign, verify)', (f) => /crypto\/hash/.test(f.url) || f.functionName === 'createHmac'],
  ['SQLite (better-sqlite3, the store)', (f) => /better-sqlite3|dist\/storage\//.test(f.url)],
  ['token JSON, base64url (issue, verify)', (f) => /dist\/tokens\//.test(f.url)],
  ['metrics (prom-client)', (f) => /prom-client|dist\/http\/metrics/.test(f.url)],
  [
    'refresh route, rotation logic',
    (f) => /dist\/(routes|sessions|stores|ratelimit|http\/tenant)/.test(f.url),
  ],
];
const innermost = [
  [
    'Fastify (routing, hooks, body parsing, validation, serialization)',
    (f) =>
      /node_modules\/(fastify|@fastify|find-my-way|ajv|secure-json-parse|fast-json-stringify|avvio|fast-uri|light-my-request|fast-querystring)/.test(
        f.url,
      ),
  ],
  [
    'HTTP and sockets (node:http, net, streams)',
    (f) =>
      /node:(_http|http|net|internal\/stream|internal\/streams|stream)|^node:events/.test(f.url) ||
      ['writev', 'writeUtf8String', 'writeBuffer', 'writeLatin1String'].includes(f.functionName),
  ],
];

export function summarize(profile) {
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const parent = new Map();
  for (const n of profile.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
  const time = new Map();
  for (let i = 0; i < profile.samples.length; i++)
    time.set(profile.samples[i], (time.get(profile.samples[i]) ?? 0) + (profile.timeDeltas[i] ?? 0));
  const totals = new Map();
  let busy = 0;
  for (const [id, us] of time) {
    const leaf = byId.get(id).callFrame;
    if (leaf.functionName === '(idle)') continue;
    busy += us;
    const stack = [];
    for (let at = id; at !== undefined; at = parent.get(at)) stack.push(byId.get(at).callFrame);
    let bucket = leaf.functionName === '(garbage collector)' ? 'garbage collection' : undefined;
    bucket ??= BUCKETS.find(([, match]) => stack.some(match))?.[0];
    for (const frame of stack) {
      if (bucket) break;
      bucket = innermost.find(([, match]) => match(frame))?.[0];
    }
    bucket ??= 'other (V8, libuv, start-up)';
    totals.set(bucket, (totals.get(bucket) ?? 0) + us);
  }
  return {
    busyMs: busy / 1000,
    buckets: [...totals].sort((a, b) => b[1] - a[1]).map(([k, us]) => [k, us / busy]),
  };
}

if (import.meta.url === `file://${process.argv[1]}`) {
  for (const file of process.argv.slice(2)) {
    const { busyMs, buckets } = summarize(JSON.parse(readFileSync(file, 'utf8')));
    console.log(`${file}: ${busyMs.toFixed(0)} ms busy`);
    for (const [name, share] of buckets) console.log(`  ${(share * 100).toFixed(1).padStart(5)}%  ${name}`);
  }
}
