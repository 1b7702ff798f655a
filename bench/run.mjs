// npm run bench: refresh throughput and latency of storefront-auth, node-oidc-provider's refresh
// grant as a peer, and a raw node:http baseline, all in the same run with the same client. Every
// target's run is bracketed by a raw run before and after; rows of a group alternate, in reverse
// order every other round. Figures on a shared machine are noisy: read the ratios.
//
//   BENCH_SECONDS=5 BENCH_ROUNDS=3   length of each run, rounds per group
//   BENCH_C=1,10,64                  the SQLite and peer groups to run
//   BENCH_LIVE=1000000               live sessions behind the "random over 1M" row (0 skips both random rows)
//   BENCH_ONLY=<regex>               only the targets whose name matches
//   BENCH_BEFORE=<dir>/main.js       also run this build of the server as "refresh, SQLite (before)",
//                                    (and its random-session rows), to measure a change in the same
//                                    rounds as its predecessor: `cp -r packages/server/dist .bench/old`
//                                    before the change, and `cp packages/server/openapi.json .bench/`
//                                    (a build reads it from beside its folder)
//   BENCH_POSTGRES_URL=postgres://   adds the PostgreSQL rows
//   BENCH_CPU_PROF=<dir>             servers write a V8 CPU profile there when they stop
import { generateKeyPairSync, sign } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { dpopRefreshChain } from './dpop-client.mjs';
import {
  compare,
  drive,
  groupRows,
  HEADER,
  httpPost,
  measureGroup,
  PEER_CLIENT,
  ROOT,
  ROUNDS,
  randomSessionChain,
  rawChain,
  rawCoreCheck,
  refreshChain,
  refreshTokenOf,
  SECONDS,
  startAuthServer,
  startProcess,
  startRawBaseline,
} from './lib.mjs';
import { seedDatabase, templateDatabase } from './seed-sessions.mjs';

const LEVELS = (process.env.BENCH_C ?? '1,10,64').split(',').map(Number);
const LIVE = Number(process.env.BENCH_LIVE ?? 1_000_000);
const POOL = 10_000;
const ONLY = process.env.BENCH_ONLY ? new RegExp(process.env.BENCH_ONLY) : null;
const wanted = (name) => !ONLY || ONLY.test(name);

/** ES256 signing alone, for scale: the largest CPU cost inside one refresh. */
function es256Microbench() {
  const { privateKey } = generateKeyPairSync('ec', { namedCurve: 'prime256v1' });
  const data = Buffer.from('x'.repeat(600));
  const n = 4000;
  const t0 = performance.now();
  for (let i = 0; i < n; i++) sign('sha256', data, { key: privateKey, dsaEncoding: 'ieee-p1363' });
  return ((performance.now() - t0) * 1000) / n;
}

/** node-oidc-provider's refresh grant: its tokens are seeded in-process (peer-oidc-provider.mjs). */
async function peerChain(peer) {
  const { id, secret } = PEER_CLIENT;
  const basic = `Authorization: Basic ${Buffer.from(`${id}:${secret}`).toString('base64')}\r\n`;
  return {
    init: async () => {
      const res = await fetch(`${peer.url}/bench/seed?n=1`, { method: 'POST' });
      return { token: (await res.json()).tokens[0] };
    },
    request: (s) =>
      httpPost(
        '/token',
        'application/x-www-form-urlencoded',
        `grant_type=refresh_token&refresh_token=${s.token}`,
        basic,
      ),
    next: (s, status, body) => (status === 200 ? { token: refreshTokenOf(body) } : s),
  };
}

const started = new Date();
const dir = mkdtempSync(join(tmpdir(), 'sfa-bench-run-'));
const servers = [];
const start = async (promise) => {
  const s = await promise;
  servers.push(s);
  return s;
};
const groups = [];
try {
  const raw = await start(startRawBaseline());
  const hot = await start(startAuthServer());
  const beforeMain = process.env.BENCH_BEFORE ? join(ROOT, process.env.BENCH_BEFORE) : null;
  const before = beforeMain ? await start(startAuthServer({}, undefined, beforeMain)) : null;
  const peer = wanted('node-oidc-provider')
    ? await start(startProcess(join(ROOT, 'bench/peer-oidc-provider.mjs'), {}, '/readyz'))
    : null;
  const peerRequests = peer ? await peerChain(peer) : null;
  const target = (s) => ({ urls: [s.url], pids: s.pids });

  const random = [];
  if (LIVE > 0 && LEVELS.includes(10) && (wanted('random over 10k') || wanted('random over 1M'))) {
    console.error(`seeding ${POOL} and ${LIVE} live sessions ...`);
    const label = LIVE === 1_000_000 ? '1M' : `${LIVE}`;
    // With BENCH_BEFORE, the earlier build serves files of the same shape whose schema it made
    // itself (a change of indexes is then measured too), filled by the same seeding code.
    for (const [suffix, main] of beforeMain
      ? [
          ['', undefined],
          [' (before)', beforeMain],
        ]
      : [['', undefined]]) {
      const t0 = performance.now();
      const template = await templateDatabase(dir, main);
      const small = join(dir, `live-10k${suffix ? '-before' : ''}.db`);
      const large = join(dir, `live-1m${suffix ? '-before' : ''}.db`);
      const smallPool = await seedDatabase(template, small, { live: POOL, pool: POOL }, main);
      const largePool = await seedDatabase(template, large, { live: LIVE, pool: POOL }, main);
      console.error(`  seeded${suffix} in ${((performance.now() - t0) / 1000).toFixed(1)} s`);
      const s10k = await start(startAuthServer({}, small, main));
      const s1m = await start(startAuthServer({}, large, main));
      random.push(
        { name: `refresh, SQLite, random over 10k live${suffix}`, server: s10k, pool: [...smallPool] },
        { name: `refresh, SQLite, random over ${label} live${suffix}`, server: s1m, pool: [...largePool] },
      );
    }
  }

  for (const c of LEVELS) {
    const targets = [
      {
        name: 'refresh, SQLite',
        run: () => drive({ target: target(hot), connections: c, chain: refreshChain() }),
      },
    ];
    if (before)
      targets.push({
        name: 'refresh, SQLite (before)',
        run: () => drive({ target: target(before), connections: c, chain: refreshChain() }),
      });
    if (peer)
      targets.push({
        name: 'node-oidc-provider 9, refresh grant',
        run: () => drive({ target: target(peer), connections: c, chain: peerRequests }),
      });
    if (c === 10)
      targets.push({
        name: 'refresh, SQLite, DPoP-bound',
        run: () => drive({ target: target(hot), connections: c, chain: dpopRefreshChain() }),
      });
    if (c === 10)
      for (const r of random)
        targets.push({
          name: r.name,
          run: () => drive({ target: target(r.server), connections: c, chain: randomSessionChain(r.pool) }),
        });
    const chosen = targets.filter((t) => wanted(t.name));
    const rawRun = () => drive({ target: target(raw), connections: c, chain: rawChain });
    if (chosen.length > 0) groups.push(await measureGroup({ c, raw: rawRun, targets: chosen }));
  }

  if (process.env.BENCH_POSTGRES_URL && wanted('PostgreSQL')) {
    const { postgresGroups } = await import('./postgres.mjs');
    groups.push(...(await postgresGroups({ raw: target(raw) })));
  }
} finally {
  for (const s of servers.reverse()) await s.stop();
  rmSync(dir, { recursive: true, force: true });
}

const comparisons = [];
for (const g of groups) {
  const has = (n) => g.targets.includes(n);
  const peerName = 'node-oidc-provider 9, refresh grant';
  if (has('refresh, SQLite') && has(peerName))
    comparisons.push(compare(g, 'refresh, SQLite', peerName, 'SQLite against node-oidc-provider'));
  if (has('refresh, SQLite') && has('refresh, SQLite, DPoP-bound'))
    comparisons.push(
      compare(g, 'refresh, SQLite, DPoP-bound', 'refresh, SQLite', 'DPoP-bound against unbound'),
    );
  if (has('refresh, SQLite') && has('refresh, SQLite (before)'))
    comparisons.push(
      compare(g, 'refresh, SQLite', 'refresh, SQLite (before)', 'this build against BENCH_BEFORE'),
    );
  for (const suffix of ['', ' (before)']) {
    const small = `refresh, SQLite, random over 10k live${suffix}`;
    const big = g.targets.find((n) => n !== small && n.endsWith(`live${suffix}`));
    if (big && has(small))
      comparisons.push(compare(g, big, small, `${big.split('random over ')[1]} against 10k live${suffix}`));
  }
}

console.log(
  `\nrefresh-token benchmark, ${started.toISOString().slice(0, 16)} UTC, ${cpus().length} x ${cpus()[0]?.model ?? '?'}, ` +
    `Node ${process.version}; ${SECONDS} s per run, ${ROUNDS} rounds per group\n`,
);
console.log(HEADER);
for (const g of groups) console.log(groupRows(g).join('\n'));
console.log(`\n${rawCoreCheck(groups)}`);
for (const line of comparisons) console.log(line);
console.log(`ES256 signature with node:crypto: ${es256Microbench().toFixed(1)} us each`);

if (process.env.BENCH_FLOOD !== '0') {
  const { rows } = await import('./flood.mjs');
  console.log((await rows({ seconds: SECONDS })).join('\n'));
}

// Account enumeration through OTP requests: an unknown email must answer as fast as a customer's.
if (process.env.BENCH_OTP !== '0') {
  const { otpTimingRows } = await import('./otp-timing.mjs');
  console.log('\nOTP requests, existing against unknown email (expect a ratio within 1.1x)\n');
  console.log((await otpTimingRows(Number(process.env.BENCH_OTP_SAMPLES ?? 150))).join('\n'));
}
