import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Worker } from 'node:worker_threads';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { newAnonymousUser } from '../../src/sessions/anonymous.js';
import type { RotateInput, SessionRecord } from '../../src/storage/contract.js';
import { operatorFor } from '../../src/storage/open.js';
import { SqliteSessionStore } from '../../src/storage/sqlite/store.js';
import { SqliteThreadStore } from '../../src/storage/sqlite/thread.js';
import { describeSessionStore } from './conformance.js';

// The server's SQLite store (main.ts opens it with `thread: true`): the same contract, run on the
// database thread, with concurrent rotations grouped into one transaction.
describeSessionStore('SQLite on its database thread', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'sfa-thread-'));
  const path = join(dir, 'auth.db');
  const store = new SqliteThreadStore({ path });
  await store.migrate();
  return {
    store,
    second: async () => new SqliteThreadStore({ path }),
    async dispose() {
      await store.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
});

const T0 = Date.UTC(2026, 0, 1);
const DAY = 86_400_000;

function sessionOf(userId: string, id: string): SessionRecord {
  return {
    id,
    storeId: 'demo',
    userId,
    anonymousId: null,
    generation: 0,
    createdAt: T0,
    rotatedAt: T0,
    idleExpiresAt: T0 + 30 * DAY,
    absoluteExpiresAt: T0 + 90 * DAY,
    revokedAt: null,
    revokedReason: null,
  };
}

async function seed(store: SqliteSessionStore | SqliteThreadStore, ids: string[]): Promise<void> {
  await store.migrate();
  await store.createStore({ id: 'demo', name: 'Demo', createdAt: T0 });
  for (const id of ids) {
    const user = newAnonymousUser('demo', T0);
    await store.createUser(user);
    await store.createSession(sessionOf(user.id, id));
  }
}

const rotation = (sessionId: string, generation = 0): RotateInput => ({
  sessionId,
  generation,
  now: T0 + 1000,
  idleExpiresAt: T0 + 31 * DAY,
});

describe('grouped rotations (the database thread`s group commit)', () => {
  let dir: string;
  let store: SqliteSessionStore;
  beforeEach(async () => {
    dir = mkdtempSync(join(tmpdir(), 'sfa-group-'));
    store = new SqliteSessionStore({ path: join(dir, 'auth.db') });
    await seed(store, ['a', 'b', 'poison']);
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
    store.db.exec(`CREATE TRIGGER fail_poison BEFORE UPDATE ON sessions WHEN OLD.id = 'poison'
      BEGIN SELECT RAISE(ABORT, 'disk trouble'); END`);
    expect(() => store.rotateSessions([rotation('a'), rotation('poison'), rotation('b')])).toThrow(
      'disk trouble',
    );
    expect((await store.getSession('a'))?.session.generation).toBe(0);
    expect((await store.getSession('b'))?.session.generation).toBe(0);
  });
});

describe('SqliteThreadStore', () => {
  let dir: string;
  let store: SqliteThreadStore;
  beforeEach(async () => {
    dir = mkdtempSync(join(tmpdir(), 'sfa-thread-'));
    store = new SqliteThreadStore({ path: join(dir, 'auth.db') });
    await seed(
      store,
      Array.from({ length: 30 }, (_, i) => `s${i}`),
    );
  });
  afterEach(async () => {
    await store.close().catch(() => {});
    rmSync(dir, { recursive: true, force: true });
  });

  it('answers concurrent rotations of many sessions, each once', async () => {
    const ids = Array.from({ length: 30 }, (_, i) => `s${i}`);
    const first = await Promise.all(ids.map((id) => store.rotateSession(rotation(id))));
    expect(first.every((r) => r?.rotated && r.session.generation === 1)).toBe(true);
    const again = await Promise.all(ids.map((id) => store.rotateSession(rotation(id))));
    expect(again.some((r) => r?.rotated)).toBe(false);
  });

  it('rejects with the driver`s error code, and the failure changes nothing', async () => {
    const user = await store.getUser((await store.getSession('s0'))?.user.id ?? '');
    if (!user) throw new Error('seeded user missing');
    await expect(store.createUser(user)).rejects.toMatchObject({
      code: 'SQLITE_CONSTRAINT_PRIMARYKEY',
      message: expect.stringContaining('UNIQUE'),
    });
    expect(await store.getUser(user.id)).toEqual(user);
  });

  it('runs the operator side on the same thread', async () => {
    const operator = operatorFor(store);
    expect(await operator.countActiveSessions(T0 + 1000)).toBe(30);
    expect((await operator.listStores()).map((s) => s.id)).toEqual(['demo']);
  });

  it('when the thread dies, calls in flight and later calls fail, and the owner is told once', async () => {
    const failures: Error[] = [];
    store.onFailure = (error) => failures.push(error);
    const worker = Reflect.get(store, 'worker') as Worker;
    const terminated = worker.terminate();
    const inFlight = store.getSession('s1');
    await terminated;
    await expect(inFlight).rejects.toThrow('the SQLite thread exited');
    await expect(store.getSession('s1')).rejects.toThrow('the SQLite thread exited');
    expect(failures).toHaveLength(1);
  });

  it('refuses calls once closed', async () => {
    await store.close();
    await expect(store.getSession('s1')).rejects.toThrow('closed');
  });
});
