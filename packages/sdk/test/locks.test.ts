import { describe, expect, it } from 'vitest';
import { inProcessLock, storageLock } from '../src/index.js';

/** A Storage over a Map: the localStorage lease logic without a browser (the browser test runs it for real). */
class MapStorage implements Storage {
  private map = new Map<string, string>();
  get length() {
    return this.map.size;
  }
  clear() {
    this.map.clear();
  }
  getItem(key: string) {
    return this.map.get(key) ?? null;
  }
  key(index: number) {
    return [...this.map.keys()][index] ?? null;
  }
  removeItem(key: string) {
    this.map.delete(key);
  }
  setItem(key: string, value: string) {
    this.map.set(key, value);
  }
}

/** A clock that moves only when the lock sleeps. */
function fakeTime() {
  let t = 1_000_000;
  return {
    now: () => t,
    sleep: async (ms: number) => {
      t += ms;
    },
  };
}

describe('storage lock', () => {
  it('takes over a lease left by a crashed tab once it has expired', async () => {
    const storage = new MapStorage();
    const time = fakeTime();
    storage.setItem('L:lease', JSON.stringify({ owner: 'crashed-tab', expiresAt: time.now() - 1 }));
    const lock = storageLock({ storage, ...time });
    let ranWith: string | null = null;
    await lock.run('L', async () => {
      ranWith = JSON.parse(storage.getItem('L:lease')!).owner;
    });
    expect(ranWith).not.toBe('crashed-tab');
    expect(storage.getItem('L:lease')).toBeNull();
  });

  it('waits for a live lease, and runs anyway at the acquire timeout instead of blocking forever', async () => {
    const storage = new MapStorage();
    const time = fakeTime();
    storage.setItem('L:lease', JSON.stringify({ owner: 'hung-tab', expiresAt: time.now() + 60_000 }));
    const lock = storageLock({ storage, ...time, acquireTimeoutMs: 5_000 });
    const start = time.now();
    let ran = false;
    await lock.run('L', async () => {
      ran = true;
    });
    expect(ran).toBe(true);
    expect(time.now() - start).toBeGreaterThanOrEqual(5_000);
    // It never held the lease, so it must not delete the other holder's.
    expect(JSON.parse(storage.getItem('L:lease')!).owner).toBe('hung-tab');
  });

  it('serialises two holders on one storage', async () => {
    const storage = new MapStorage();
    const a = storageLock({ storage, settleMs: 1 });
    const b = storageLock({ storage, settleMs: 1 });
    const order: string[] = [];
    let inside = 0;
    let maxInside = 0;
    const work = (name: string) => async () => {
      inside++;
      maxInside = Math.max(maxInside, inside);
      order.push(name);
      await new Promise((r) => setTimeout(r, 5));
      inside--;
    };
    await Promise.all([a.run('L', work('a')), b.run('L', work('b'))]);
    expect(maxInside).toBe(1);
    expect(order.sort()).toEqual(['a', 'b']);
  });
});

describe('in-process lock', () => {
  it('runs callers one at a time', async () => {
    const lock = inProcessLock();
    let inside = 0;
    let maxInside = 0;
    await Promise.all(
      Array.from({ length: 10 }, () =>
        lock.run('P', async () => {
          inside++;
          maxInside = Math.max(maxInside, inside);
          await Promise.resolve();
          inside--;
        }),
      ),
    );
    expect(maxInside).toBe(1);
  });

  it('does not let a holder that never finishes block the next one past the acquire timeout', async () => {
    const lock = inProcessLock({ acquireTimeoutMs: 20 });
    void lock.run('H', () => new Promise<void>(() => {}));
    let ran = false;
    await lock.run('H', async () => {
      ran = true;
    });
    expect(ran).toBe(true);
  });
});
