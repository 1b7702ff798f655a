// In-process cost of a refresh's SQLite work (the grouped compare-and-swap and the read of the
// session with its user) over 10k and over 1M live sessions, beside variants of the storage:
//
//   node bench/sqlite-rotation.mjs            (after npm run build; about two minutes)
//
// What `npm run bench`'s "random over 1M live" rows cannot show: how much of a refresh's time is
// SQLite's, and of that how much is system time (pages read from the kernel's file cache once they
// fall out of SQLite's page cache). Rotations go in groups of 10, random sessions of the file.
// Variants: as the server opens the file; a 16 MiB page cache; a 1 GiB memory map; `users` and
// `sessions` rebuilt WITHOUT ROWID (one B-tree walk per id instead of an index and the table).
import { copyFileSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { seedDatabase, templateDatabase } from './seed-sessions.mjs';

const { SqliteDatabase } = await import('../packages/server/dist/storage/sqlite/store.js');
const ROTATIONS = Number(process.env.ROTATIONS ?? 30_000);
const dir = mkdtempSync(join(tmpdir(), 'sfa-rotation-'));

/** A copy of `src` whose users and sessions tables are clustered on their id. */
function withoutRowid(src, dst) {
  copyFileSync(src, dst);
  const db = new Database(dst);
  db.pragma('foreign_keys = OFF');
  // The triggers that keep each session's copy of its user (migration 13) name both tables: they
  // go while the tables are rebuilt and come back as they were.
  const triggers = db.prepare("SELECT name, sql FROM sqlite_master WHERE type = 'trigger'").all();
  for (const { name } of triggers) db.exec(`DROP TRIGGER ${name}`);
  for (const table of ['users', 'sessions']) {
    const { sql } = db.prepare("SELECT sql FROM sqlite_master WHERE type = 'table' AND name = ?").get(table);
    const indexes = db
      .prepare("SELECT sql FROM sqlite_master WHERE type = 'index' AND tbl_name = ? AND sql IS NOT NULL")
      .all(table);
    db.transaction(() => {
      db.exec(
        `${sql.replace(`CREATE TABLE ${table}`, `CREATE TABLE ${table}_new`).replace(/\)\s*$/, ') WITHOUT ROWID')}`,
      );
      // In the order the rows were written, not by id: the B-tree splits as real inserts split it.
      db.exec(`INSERT INTO ${table}_new SELECT * FROM ${table} ORDER BY rowid`);
      db.exec(`DROP TABLE ${table}`);
      db.exec(`ALTER TABLE ${table}_new RENAME TO ${table}`);
      for (const { sql: index } of indexes) db.exec(index);
    })();
  }
  // A clustered table has no rowid: the insert trigger finds its row by id instead.
  for (const { sql } of triggers) db.exec(sql.replaceAll('rowid = NEW.rowid', 'id = NEW.id'));
  db.pragma('wal_checkpoint(TRUNCATE)');
  db.close();
}

async function measure(file, variant) {
  const work = join(dir, 'work.db');
  for (const suffix of ['', '-wal', '-shm']) rmSync(work + suffix, { force: true });
  copyFileSync(file, work);
  const db = new SqliteDatabase({ path: work });
  if (variant.cacheKib) db.sqlite.pragma(`cache_size = -${variant.cacheKib}`);
  if (variant.mmap) db.sqlite.pragma(`mmap_size = ${variant.mmap}`);
  const rows = db.sqlite
    .prepare('SELECT id, user_id, store_id, generation FROM sessions ORDER BY random() LIMIT 10000')
    .all();
  const generation = new Map(rows.map((r) => [r.id, r.generation]));
  const now = Date.now();
  const group = () => {
    const inputs = [];
    for (let k = 0; k < 10; k++) {
      const r = rows[(Math.random() * rows.length) | 0];
      inputs.push({
        sessionId: r.id,
        generation: generation.get(r.id),
        storeId: r.store_id,
        userId: r.user_id,
        now,
        idleExpiresAt: now + 30 * 86_400_000,
        jkt: null,
      });
    }
    for (const out of db.rotateSessions(inputs))
      if (out?.rotated) generation.set(out.session.id, out.session.generation);
  };
  for (let i = 0; i < 500; i++) group();
  const cpu = process.cpuUsage();
  const t0 = performance.now();
  for (let i = 0; i < ROTATIONS / 10; i++) group();
  const us = ((performance.now() - t0) * 1000) / ROTATIONS;
  const used = process.cpuUsage(cpu);
  await db.close();
  return { us, sys: used.system / ROTATIONS };
}

try {
  console.error('seeding 10k and 1M live sessions ...');
  const template = await templateDatabase(dir);
  const files = { '10k': join(dir, '10k.db'), '1M': join(dir, '1m.db') };
  await seedDatabase(template, files['10k'], { live: 10_000, pool: 10 });
  await seedDatabase(template, files['1M'], { live: 1_000_000, pool: 10 });
  const clustered = { '10k': join(dir, '10k-wr.db'), '1M': join(dir, '1m-wr.db') };
  for (const size of ['10k', '1M']) withoutRowid(files[size], clustered[size]);
  const variants = [
    { label: 'as the server opens it', files },
    { label: 'page cache 16 MiB', files, cacheKib: 16 * 1024 },
    { label: 'memory map 1 GiB', files, mmap: 1 << 30 },
    { label: 'users, sessions WITHOUT ROWID', files: clustered },
  ];
  console.log(
    `SQLite work of one refresh, in-process, groups of 10, ${ROTATIONS} rotations per run, 2 rounds`,
  );
  console.log('| variant | round | 10k: us (system) | 1M: us (system) | 1M / 10k |');
  console.log('|---|---|---|---|---|');
  for (let round = 1; round <= 2; round++)
    for (const v of variants) {
      const small = await measure(v.files['10k'], v);
      const large = await measure(v.files['1M'], v);
      console.log(
        `| ${v.label} | ${round} | ${small.us.toFixed(1)} (${small.sys.toFixed(1)}) | ${large.us.toFixed(1)} (${large.sys.toFixed(1)}) | ${(large.us / small.us).toFixed(2)} |`,
      );
    }
} finally {
  rmSync(dir, { recursive: true, force: true });
}
