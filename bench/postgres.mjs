// The PostgreSQL rows of `npm run bench` (run.mjs imports this when BENCH_POSTGRES_URL is set):
// refresh on one instance at C = 16 and 64, and on three instances sharing the database, each
// beside a raw node:http baseline measured in this same run with the same client.
// Every run works in a schema of its own, dropped at the end.
import pg from 'pg';
import { drive, paired, rawChain, refreshChain, startAuthServer, startRawBaseline } from './lib.mjs';

async function sql(url, text) {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    await client.query(text);
  } finally {
    await client.end();
  }
}

export async function rows({ seconds }) {
  const base = process.env.BENCH_POSTGRES_URL;
  const schema = `sfa_bench_${Date.now().toString(36)}`;
  await sql(base, `CREATE SCHEMA ${schema}`);
  const url = new URL(base);
  url.searchParams.set('options', `-c search_path=${schema}`);
  const env = (pool) => ({ DATABASE_URL: url.toString(), DATABASE_POOL_SIZE: String(pool) });

  const lines = [];
  const report = (pair) => {
    lines.push(...pair);
    console.error(pair.join('\n'));
  };
  const baseline = (c) => () => drive({ urls: raw.url, connections: c, seconds, ...rawChain });
  const raw = await startRawBaseline();
  const servers = [];
  try {
    const one = await startAuthServer(env(16));
    servers.push(one);
    for (const c of [16, 64]) {
      const target = () => drive({ urls: one.url, connections: c, seconds, ...refreshChain() });
      report(await paired('refresh, PostgreSQL', c, baseline(c), target));
    }
    await one.stop();
    servers.length = 0;

    // Three instances on the one database, the load spread over them (on this machine they share
    // its cores with PostgreSQL and the load generator: the row shows correctness under load
    // and the cost of coordination, not horizontal scaling).
    for (let i = 0; i < 3; i++) servers.push(await startAuthServer(env(8)));
    const urls = servers.map((s) => s.url);
    const three = () => drive({ urls, connections: 64, seconds, ...refreshChain() });
    report(await paired('refresh, PostgreSQL, 3 instances', 64, baseline(64), three));
  } finally {
    for (const s of servers) await s.stop();
    await raw.stop();
    await sql(base, `DROP SCHEMA IF EXISTS ${schema} CASCADE`);
  }
  return lines;
}
