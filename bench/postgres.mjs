// The PostgreSQL rows of `npm run bench` (run.mjs imports this when BENCH_POSTGRES_URL is set):
// refresh on one instance at C = 16 and 64, and on three instances sharing the database at 64,
// each run bracketed by the raw node:http baseline of the same run.
// Every run works in a schema of its own, dropped at the end.
import pg from 'pg';
import { drive, measureGroup, rawChain, refreshChain, startAuthServer, together } from './lib.mjs';

async function sql(url, text) {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    await client.query(text);
  } finally {
    await client.end();
  }
}

export async function postgresGroups({ raw }) {
  const base = process.env.BENCH_POSTGRES_URL;
  const schema = `sfa_bench_${Date.now().toString(36)}`;
  await sql(base, `CREATE SCHEMA ${schema}`);
  const url = new URL(base);
  url.searchParams.set('options', `-c search_path=${schema}`);
  const env = (pool) => ({ DATABASE_URL: url.toString(), DATABASE_POOL_SIZE: String(pool) });
  const servers = [];
  try {
    const one = await startAuthServer(env(16));
    servers.push(one);
    // Three instances on the one database, the load spread over them (on this machine they share
    // its cores with PostgreSQL and the load client: the row shows correctness under load and the
    // cost of coordination, not horizontal scaling).
    const three = [];
    for (let i = 0; i < 3; i++) three.push(await startAuthServer(env(8)));
    servers.push(...three);
    // PostgreSQL's own CPU is not counted in the server cores of these rows.
    const single = {
      name: 'refresh, PostgreSQL',
      run: (c) => drive({ target: together([one]), connections: c, chain: refreshChain() }),
    };
    const spread = {
      name: 'refresh, PostgreSQL, 3 instances',
      run: (c) => drive({ target: together(three), connections: c, chain: refreshChain() }),
    };
    const groups = [];
    for (const [c, targets] of [
      [16, [single]],
      [64, [single, spread]],
    ]) {
      groups.push(
        await measureGroup({
          c,
          raw: () => drive({ target: raw, connections: c, chain: rawChain }),
          targets: targets.map((t) => ({ name: t.name, run: () => t.run(c) })),
        }),
      );
    }
    return groups;
  } finally {
    for (const s of servers) await s.stop();
    await sql(base, `DROP SCHEMA IF EXISTS ${schema} CASCADE`);
  }
}
