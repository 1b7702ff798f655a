import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { SessionRecord, UserRecord } from '../../src/model.js';
import { newAnonymousUser } from '../../src/sessions/anonymous.js';
import type { RotateInput } from '../../src/storage/contract.js';
import * as rows from '../../src/storage/rows.js';
import {
  BACKSTOP_CHECKPOINT_PAGES,
  MMAP_SIZE,
  PAGE_CACHE_KIB,
} from '../../src/storage/sqlite/checkpointer.js';
import { sqliteDialect } from '../../src/storage/sqlite/dialect.js';
import { SqliteDatabase } from '../../src/storage/sqlite/store.js';
import { sqliteAtVersion } from '../helpers/legacy-sqlite.js';
import { DAY, type DatabaseFixture, describeDatabase, sessionRecord, T0 } from './conformance.js';
import { describeOperatorStore } from './operator-conformance.js';

/** A migrated database in a file of a fresh folder. */
async function sqliteFixture(): Promise<DatabaseFixture> {
  const dir = mkdtempSync(join(tmpdir(), 'sfa-conf-'));
  const path = join(dir, 'auth.db');
  const store = new SqliteDatabase({ path });
  await store.migrate();
  return {
    db: store,
    second: async () => new SqliteDatabase({ path }),
    async dispose() {
      await store.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

describeDatabase('SQLite', sqliteFixture);
describeOperatorStore('SQLite', sqliteFixture);

const rotation = (sessionId: string, generation = 0): RotateInput => ({
  sessionId,
  storeId: 'demo',
  userId: `user-${sessionId}`,
  generation,
  now: T0 + 1000,
  idleExpiresAt: T0 + 31 * DAY,
});

/**
 * A file as the migrations up to `version` left it, holding store `demo`, `user` and `sessions`
 * (written by the driver alone), then opened and migrated by the store for `use`.
 */
async function withFileAt(
  version: number,
  user: UserRecord,
  sessions: SessionRecord[],
  use: (upgraded: SqliteDatabase) => Promise<void>,
): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'sfa-legacy-'));
  const path = join(dir, 'auth.db');
  try {
    const legacy = sqliteAtVersion(path, version);
    const insert = (table: string, columns: string, values: unknown[]) =>
      legacy
        .prepare(`INSERT INTO ${table} (${columns}) VALUES (${values.map(() => '?').join(', ')})`)
        .run(...values);
    insert('stores', 'id, name, created_at', ['demo', 'demo', T0]);
    insert('users', rows.USER_COLUMNS, rows.userValues(user, sqliteDialect));
    for (const session of sessions) insert('sessions', rows.SESSION_COLUMNS, rows.sessionValues(session));
    legacy.close();
    const upgraded = new SqliteDatabase({ path });
    try {
      await upgraded.migrate();
      await use(upgraded);
    } finally {
      await upgraded.close();
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

describe('SQLite grouped rotations (group commit)', () => {
  let dir: string;
  let store: SqliteDatabase;
  beforeEach(async () => {
    dir = mkdtempSync(join(tmpdir(), 'sfa-group-'));
    store = new SqliteDatabase({ path: join(dir, 'auth.db') });
    await store.migrate();
    await store.createStore({ id: 'demo', name: 'Demo', createdAt: T0 });
    for (const id of ['a', 'b', 'poison']) {
      const user = { ...newAnonymousUser('demo', T0), id: `user-${id}` };
      await store.createUser(user);
      await store.createSession(sessionRecord('demo', user.id, { id }));
    }
  });
  afterEach(async () => {
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('applies each compare-and-swap in order, as if one after another', () => {
    const results = store.rotateSessions([rotation('a'), rotation('a'), rotation('b'), rotation('gone')]);
    expect(results.map((r) => r?.rotated ?? null)).toEqual([true, false, true, null]);
    // The second swap of `a` saw the first one's result, not the row as it was before the group.
    expect(results[1]?.session.generation).toBe(1);
    expect(results[2]?.session.generation).toBe(1);
  });

  it('is all or none: a failure anywhere in the group rolls every rotation back', async () => {
    store.sqlite.exec(`CREATE TRIGGER fail_poison BEFORE UPDATE ON sessions WHEN OLD.id = 'poison'
      BEGIN SELECT RAISE(ABORT, 'disk trouble'); END`);
    expect(() => store.rotateSessions([rotation('a'), rotation('poison'), rotation('b')])).toThrow(
      'disk trouble',
    );
    expect((await store.getSession('a'))?.session.generation).toBe(0);
    expect((await store.getSession('b'))?.session.generation).toBe(0);
    // Through rotateSession, the refreshes of one turn share that fate, and the next group is fine.
    const together = [rotation('a'), rotation('poison')].map((r) => store.rotateSession(r));
    await expect(Promise.all(together)).rejects.toThrow('disk trouble');
    await expect(together[0]).rejects.toThrow('disk trouble');
    expect((await store.rotateSession(rotation('a')))?.rotated).toBe(true);
  });
});

describe('SQLite connection settings for many live sessions', () => {
  let dir: string;
  let store: SqliteDatabase;
  beforeEach(async () => {
    dir = mkdtempSync(join(tmpdir(), 'sfa-tuning-'));
    store = new SqliteDatabase({ path: join(dir, 'auth.db') });
    await store.migrate();
    await store.createStore({ id: 'demo', name: 'Demo', createdAt: T0 });
  });
  afterEach(async () => {
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('opens with a bounded page cache, no memory map, and checkpoints only as a backstop on the serving connection', () => {
    expect(MMAP_SIZE).toBe(0);
    expect(store.sqlite.pragma('mmap_size', { simple: true })).toBe(0);
    expect(PAGE_CACHE_KIB).toBeLessThanOrEqual(8 * 1024);
    expect(store.sqlite.pragma('cache_size', { simple: true })).toBe(-PAGE_CACHE_KIB);
    expect(store.sqlite.pragma('wal_autocheckpoint', { simple: true })).toBe(BACKSTOP_CHECKPOINT_PAGES);
    expect(store.sqlite.pragma('journal_mode', { simple: true })).toBe('wal');
  });

  // Mapped pages count in the process's RSS: a map of a big database file grew the server's RSS
  // by the size of the file under random refreshes (docs/storage.md, "Bounded memory").
  it.runIf(existsSync('/proc/self/maps'))(
    'reads the database file without mapping it into the process',
    async () => {
      for (let i = 0; i < 500; i++) {
        const user = newAnonymousUser('demo', T0);
        await store.createUser(user);
        await store.createSession(sessionRecord('demo', user.id));
      }
      await store.checkpointer?.checkpoint();
      expect(store.sqlite.prepare('SELECT count(*) AS n FROM sessions').get()).toEqual({ n: 500 });
      const path = join(dir, 'auth.db');
      const mapped = readFileSync('/proc/self/maps', 'utf8')
        .split('\n')
        .filter((line) => line.endsWith(` ${path}`));
      expect(mapped).toEqual([]);
    },
  );

  it('copies the WAL written by the serving connection into the database from its worker', async () => {
    for (let i = 0; i < 50; i++) {
      const user = newAnonymousUser('demo', T0);
      await store.createUser(user);
      await store.createSession(sessionRecord('demo', user.id));
    }
    expect(store.checkpointer).toBeDefined();
    const result = await store.checkpointer?.checkpoint();
    // Every frame the serving connection wrote is in the database file: nothing left for it to do.
    expect(result?.log).toBeGreaterThan(0);
    expect(result?.checkpointed).toBe(result?.log);
  });

  // Every refresh moves idle_expires_at: an index on it cost each refresh a page of its own
  // (migration 12, docs/storage.md "A million sessions").
  it('keeps no index on a column every refresh changes', () => {
    const indexed = store.sqlite
      .prepare(
        "SELECT DISTINCT ii.name AS col FROM sqlite_master m, pragma_index_info(m.name) ii WHERE m.type = 'index' AND m.tbl_name = 'sessions'",
      )
      .all()
      .map((row) => (row as { col: string }).col);
    expect(indexed).toContain('user_id');
    for (const changed of ['idle_expires_at', 'generation', 'rotated_at'])
      expect(indexed).not.toContain(changed);
  });

  // Migration 14: what a user holds is found without reading what they held once (revoked sessions
  // stay until they expire), by a sign-in past MAX_SESSIONS_PER_USER and by a write of the user.
  it("finds a user's sessions not revoked through an index of those alone", () => {
    const plan = (sql: string, ...params: unknown[]) =>
      (store.sqlite.prepare(`EXPLAIN QUERY PLAN ${sql}`).all(...params) as Array<{ detail: string }>)
        .map((row) => row.detail)
        .join('\n');
    expect(plan(rows.REVOKE_BEYOND_NEWEST(sqliteDialect), T0, 'user-a', 3)).toContain(
      'USING INDEX sessions_user_live',
    );
    // The statement of the users_subject_update trigger, on its own.
    const { sql } = store.sqlite
      .prepare("SELECT sql FROM sqlite_master WHERE type = 'trigger' AND name = 'users_subject_update'")
      .get() as { sql: string };
    expect(sql).toContain('WHERE user_id = NEW.id AND revoked_at IS NULL');
    expect(
      plan("UPDATE sessions SET subject = '[]' WHERE user_id = ? AND revoked_at IS NULL", 'user-a'),
    ).toContain('USING INDEX sessions_user_live');
  });

  // Migration 13: a refresh reads its user from the session row, so one B-tree walk fewer twice.
  it('copies the user of every session already there when migrating, and refreshes without reading users', async () => {
    const user = { ...newAnonymousUser('demo', T0), firstName: 'Ada' };
    const session = sessionRecord('demo', user.id);
    await withFileAt(12, user, [session], async (upgraded) => {
      const result = await upgraded.rotateSession({ ...rotation(session.id), userId: user.id });
      expect(result).toMatchObject({ rotated: true, user });
      // The user comes from the copy: with its trigger gone, a write of users no longer shows.
      upgraded.sqlite.exec("DROP TRIGGER users_subject_update; UPDATE users SET first_name = 'Grace'");
      const again = await upgraded.rotateSession({ ...rotation(session.id, 1), userId: user.id });
      expect(again).toMatchObject({ rotated: true, user: { firstName: 'Ada' } });
    });
  });

  // Migration 14: a write of a user costs one row per session it still holds, not per session it
  // ever had (with MAX_SESSIONS_PER_USER, at most that many).
  it("rewrites the user's copy only on sessions not revoked, on a file migrated from 13", async () => {
    const user = { ...newAnonymousUser('demo', T0), firstName: 'Ada' };
    const live = sessionRecord('demo', user.id);
    const revoked = sessionRecord('demo', user.id, { revokedAt: T0, revokedReason: 'logout' });
    await withFileAt(13, user, [live, revoked], async (upgraded) => {
      expect(await upgraded.updateUser(user.id, { firstName: 'Grace' }, T0 + 1)).toBe('updated');
      const copy = (id: string) =>
        rows.userFromSubject(
          (upgraded.sqlite.prepare('SELECT subject FROM sessions WHERE id = ?').get(id) as rows.Row)[
            'subject'
          ],
          sqliteDialect,
        ).firstName;
      expect(copy(live.id)).toBe('Grace');
      expect(copy(revoked.id)).toBe('Ada');
      const result = await upgraded.rotateSession({ ...rotation(live.id), userId: user.id });
      expect(result).toMatchObject({ rotated: true, user: { firstName: 'Grace' } });
    });
  });

  it('purges sessions through rowid windows, never a scan of the whole table', async () => {
    const users = [];
    for (let i = 0; i < 3; i++) {
      const user = newAnonymousUser('demo', T0);
      await store.createUser(user);
      users.push(user);
    }
    const now = T0 + DAY;
    let expired = 0;
    for (let i = 0; i < 1000; i++) {
      const gone = i % 7 === 0;
      if (gone) expired++;
      await store.createSession(
        sessionRecord('demo', users[i % 3]!.id, gone ? { idleExpiresAt: now - i } : {}),
      );
    }
    const plans = [
      store.sqlite
        .prepare(
          'EXPLAIN QUERY PLAN SELECT max(rowid) AS last FROM (SELECT rowid FROM sessions WHERE rowid > ? ORDER BY rowid LIMIT ?)',
        )
        .all(0, 100),
      store.sqlite
        .prepare(
          'EXPLAIN QUERY PLAN DELETE FROM sessions WHERE rowid > ? AND rowid <= ? AND (idle_expires_at <= ? OR absolute_expires_at <= ?)',
        )
        .all(0, 100, now, now),
    ].map((rows) => rows.map((row) => (row as { detail: string }).detail).join('; '));
    for (const plan of plans) {
      expect(plan).toMatch(/SEARCH \w+ USING INTEGER PRIMARY KEY \(rowid>\?/);
      expect(plan).not.toMatch(/SCAN sessions(?! USING INTEGER PRIMARY KEY)/);
    }
    const op = store.operator();
    let after: number | undefined;
    let deleted = 0;
    let batches = 0;
    for (;;) {
      const batch = await op.purgeBatch('sessions', now, 100, DAY, after);
      expect(batch.deleted).toBeLessThanOrEqual(100);
      deleted += batch.deleted;
      batches++;
      if (batch.next === undefined) break;
      after = batch.next;
    }
    // Ten windows of 100 rows and the empty one that ends the walk.
    expect(batches).toBe(11);
    expect(deleted).toBe(expired);
    expect(store.sqlite.prepare('SELECT count(*) AS n FROM sessions').get()).toEqual({ n: 1000 - expired });
  });

  it('counts active sessions on the worker connection, which sees what the serving one committed', async () => {
    const user = newAnonymousUser('demo', T0);
    await store.createUser(user);
    for (let i = 0; i < 5; i++) await store.createSession(sessionRecord('demo', user.id));
    const reads: string[] = [];
    const checkpointer = store.checkpointer!;
    const read = checkpointer.read.bind(checkpointer);
    checkpointer.read = (sql, params) => {
      reads.push(sql);
      return read(sql, params);
    };
    expect(await store.operator().countActiveSessions(T0)).toBe(5);
    expect(reads).toHaveLength(1);
    await expect(checkpointer.read('SELECT nope FROM nowhere', [])).rejects.toThrow(/no such/);
  });

  it('has no checkpointer for an in-memory database', async () => {
    const memory = new SqliteDatabase({ path: ':memory:' });
    expect(memory.checkpointer).toBeUndefined();
    await memory.close();
  });
});
