import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import {
  createStorefrontSDK,
  memoryStorage,
  type SessionEndReason,
  type StoredPair,
  type TokenStorage,
} from '../src/index.js';
import { API_KEY, claimsOf, type Stack, serverAccepts, startStack } from './helpers/stack.js';

let stack: Stack;
beforeEach(async () => {
  stack = await startStack();
});
afterEach(() => stack.close());

/**
 * One store shared by instances whose locks never meet (two processes over one Redis key): a
 * memory store behind the adapter surface, recording the generation of every pair written. With
 * `atomic`, it offers compareAndSwap; without, the SDK falls back to read, compare, write.
 */
function sharedStore(atomic: boolean) {
  const inner = memoryStorage();
  const written: Array<{ sid: unknown; gen: unknown }> = [];
  const record = (pair: StoredPair | null) => {
    if (pair)
      written.push({ sid: claimsOf(pair.refresh_token)['sid'], gen: claimsOf(pair.refresh_token)['gen'] });
  };
  const storage: TokenStorage = {
    key: 'shared-by-two-processes',
    getTokens: () => inner.getTokens(),
    async setTokens(pair) {
      record(pair);
      await inner.setTokens(pair);
    },
    clearTokens: () => inner.clearTokens(),
    ...(atomic
      ? {
          async compareAndSwap(expected, next) {
            const swapped = await inner.compareAndSwap!(expected, next);
            if (swapped) record(next);
            return swapped;
          },
        }
      : {}),
  };
  return { storage, written };
}

function instance(storage: TokenStorage, ended: SessionEndReason[]) {
  return createStorefrontSDK({
    baseUrl: stack.baseUrl,
    apiKey: API_KEY,
    tokenStorage: storage,
    now: stack.t.clock.now,
    sleep: async () => {},
    // The two instances' locks do not meet.
    lock: false,
    onSessionEnded: (reason) => {
      ended.push(reason);
    },
  });
}

/** Two instances over `storage`; A's refresh is due and has reached the server, its answer held until `release()`. */
async function lateAnswerToA(storage: TokenStorage, ended: SessionEndReason[]) {
  const a = instance(storage, ended);
  const b = instance(storage, ended);
  await a.session.ensureAccessToken();
  stack.t.clock.advance(50);
  let release!: () => void;
  stack.fault('refresh', { kind: 'hold-answer', release: new Promise<void>((r) => (release = r)) });
  const late = a.session.ensureAccessToken();
  await vi.waitFor(() => expect(stack.reached.refresh).toBe(1), { timeout: 10_000 });
  return { a, b, late, release };
}

describe('two instances whose locks do not meet, over one store', () => {
  it.each([
    ['a store with compareAndSwap', true],
    ['a store without it (read, compare, write)', false],
  ])(
    'a late refresh answer never writes an older pair over a newer one, and nobody is logged out (%s)',
    async (_name, atomic) => {
      const { storage, written } = sharedStore(atomic);
      const ended: SessionEndReason[] = [];
      // A's refresh reaches the server (generation 0 -> 1), but its answer is slow to come back.
      const { a, b, late, release } = await lateAnswerToA(storage, ended);

      // Meanwhile B refreshes (the grace window answers it generation 1), then again (generation 2).
      await b.session.ensureAccessToken();
      stack.t.clock.advance(50);
      await b.session.ensureAccessToken();
      expect(claimsOf((await storage.getTokens())!.refresh_token)['gen']).toBe(2);

      // A's answer (generation 1) arrives now.
      release();
      await late;
      const gens = written.map((w) => w.gen as number);
      expect(gens).toEqual([...gens].sort((x, y) => x - y));
      expect(claimsOf((await storage.getTokens())!.refresh_token)['gen']).toBe(2);

      // Well past the grace window of generation 1, both go on refreshing what is stored.
      stack.t.clock.advance(50);
      await a.session.ensureAccessToken();
      stack.t.clock.advance(50);
      await b.session.ensureAccessToken();
      expect(ended).toEqual([]);
      expect(written.every((w) => w.sid === written[0]!.sid)).toBe(true);
      expect(await serverAccepts(stack, (await storage.getTokens())!.refresh_token)).toBe(200);
    },
  );

  it('a late answer does not bring back a session another instance left (a login elsewhere)', async () => {
    const { storage } = sharedStore(true);
    const ended: SessionEndReason[] = [];
    const { b, late, release } = await lateAnswerToA(storage, ended);
    // B moves the store to a new session (what a sign-in or logout answer does).
    const other = await b.auth.getAnonymousToken();
    expect(other.error).toBeNull();
    release();
    expect(await late).toBe(other.data!.access_token);
    expect((await storage.getTokens())!.refresh_token).toBe(other.data!.refresh_token);
    expect(ended).toEqual([]);
  });
});
