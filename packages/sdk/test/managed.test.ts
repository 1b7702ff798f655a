import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  createStorefrontSDK,
  type Lock,
  memoryStorage,
  type SessionEndReason,
  type StorefrontSDKOptions,
  type TokenPair,
  type TokenStorage,
} from '../src/index.js';
import { API_KEY, claimsOf, type Stack, serverAccepts, startStack } from './helpers/stack.js';

let stack: Stack;
beforeEach(async () => {
  stack = await startStack();
});
afterEach(() => stack.close());

interface Recorder {
  updated: Array<{ source: string }>;
  ended: SessionEndReason[];
  failed: string[];
  sleeps: number[];
}

/** An SDK on the stack's server clock, recording its callbacks; no real waiting between retries. */
function managedSdk(storage: TokenStorage, extra: Partial<StorefrontSDKOptions> = {}) {
  const rec: Recorder = { updated: [], ended: [], failed: [], sleeps: [] };
  const sdk = createStorefrontSDK({
    baseUrl: stack.baseUrl,
    apiKey: API_KEY,
    tokenStorage: storage,
    now: stack.t.clock.now,
    sleep: async (ms) => {
      rec.sleeps.push(ms);
    },
    onTokensUpdated: (_tokens, info) => {
      rec.updated.push(info);
    },
    onSessionEnded: (reason) => {
      rec.ended.push(reason);
    },
    onRefreshFailed: (error) => {
      rec.failed.push(error.code);
    },
    ...extra,
  });
  return { sdk, rec };
}

/** The two tokens of what storage holds, without the SDK's notes beside them. */
const pairOf = (t: TokenPair): TokenPair => ({
  access_token: t.access_token,
  refresh_token: t.refresh_token,
});

/** A managed session with tokens in storage, and its access token 50 s old (TTL 60: due for refresh). */
async function expiringSession(extra: Partial<StorefrontSDKOptions> = {}) {
  const storage = memoryStorage();
  const { sdk, rec } = managedSdk(storage, extra);
  const first = await sdk.session.ensureAccessToken();
  expect(first).toBeTypeOf('string');
  stack.t.clock.advance(50);
  stack.reached.refresh = 0;
  return { sdk, rec, storage, before: (await storage.getTokens())! };
}

describe('bootstrap', () => {
  it('creates one anonymous session for the first requests that need one, however many', async () => {
    const { sdk, rec } = managedSdk(memoryStorage());
    const tokens = await Promise.all(Array.from({ length: 50 }, () => sdk.session.ensureAccessToken()));
    expect(new Set(tokens).size).toBe(1);
    expect(stack.reached.anonymous).toBe(1);
    expect(rec.updated).toEqual([{ source: 'anonymous' }]);
  });
});

describe('single-flight refresh', () => {
  it('100 concurrent calls with an expiring access token make exactly one refresh', async () => {
    const { sdk, storage, before } = await expiringSession();
    const results = await Promise.all(
      Array.from({ length: 100 }, (_, i) => sdk.request('/test/echo', { json: { i } })),
    );
    expect(stack.reached.refresh).toBe(1);
    for (const r of results) expect(r.error).toBeNull();
    const after = (await storage.getTokens())!;
    expect(after.refresh_token).not.toBe(before.refresh_token);
    expect(await serverAccepts(stack, after.refresh_token)).toBe(200);
  });

  it('one instance deduplicates by itself, without any lock', async () => {
    const { sdk } = await expiringSession({ lock: false });
    await Promise.all(Array.from({ length: 100 }, () => sdk.session.ensureAccessToken()));
    expect(stack.reached.refresh).toBe(1);
  });

  it('two instances sharing one storage make one refresh; the second adopts the first one’s pair', async () => {
    const storage = memoryStorage();
    const a = managedSdk(storage);
    const b = managedSdk(storage);
    await a.sdk.session.ensureAccessToken();
    stack.t.clock.advance(50);
    stack.reached.refresh = 0;
    stack.holdRefreshes(2, 500);
    const [ta, tb] = await Promise.all([
      a.sdk.session.ensureAccessToken(),
      b.sdk.session.ensureAccessToken(),
    ]);
    expect(stack.reached.refresh).toBe(1);
    expect(ta).toBe(tb);
    expect(a.rec.ended).toEqual([]);
    expect(b.rec.ended).toEqual([]);
    expect(await serverAccepts(stack, (await storage.getTokens())!.refresh_token)).toBe(200);
  });

  it('without the lock the same two instances DO send two refreshes (so the test above can fail)', async () => {
    const storage = memoryStorage();
    const a = managedSdk(storage, { lock: false });
    const b = managedSdk(storage, { lock: false });
    await a.sdk.session.ensureAccessToken();
    stack.t.clock.advance(50);
    stack.reached.refresh = 0;
    stack.holdRefreshes(2, 2000);
    await Promise.all([a.sdk.session.ensureAccessToken(), b.sdk.session.ensureAccessToken()]);
    expect(stack.reached.refresh).toBe(2);
  });

  it('runs user callbacks after the lock is released, so a callback may call the SDK', async () => {
    let held = false;
    const inner: Lock = {
      async run(_name, fn) {
        held = true;
        try {
          return await fn();
        } finally {
          held = false;
        }
      },
    };
    const heldDuringCallback: boolean[] = [];
    const storage = memoryStorage();
    let sdkRef: ReturnType<typeof createStorefrontSDK> | undefined;
    const callbackCalls: Array<Promise<string | null>> = [];
    const { sdk } = managedSdk(storage, {
      lock: inner,
      onTokensUpdated: () => {
        heldDuringCallback.push(held);
        if (sdkRef) callbackCalls.push(sdkRef.session.ensureAccessToken());
      },
    });
    sdkRef = sdk;
    await sdk.session.ensureAccessToken();
    stack.t.clock.advance(50);
    await sdk.session.ensureAccessToken();
    expect(heldDuringCallback).toEqual([false, false]);
    // The calls made from inside the callbacks complete (no self-deadlock).
    const tokens = await Promise.all(callbackCalls);
    expect(tokens.every((t) => typeof t === 'string')).toBe(true);
  });
});

describe('clock skew', () => {
  it('does not refresh on every call when the local clock runs two hours ahead', async () => {
    const storage = memoryStorage();
    const { sdk } = managedSdk(storage, { now: () => stack.t.clock.now() + 2 * 3600_000 });
    await sdk.session.ensureAccessToken();
    for (let i = 0; i < 5; i++) await sdk.session.ensureAccessToken();
    expect(stack.reached.refresh).toBe(0);
  });

  it('a new instance on the same storage starts with the offset kept beside the pair (clock 5 min ahead)', async () => {
    const storage = memoryStorage();
    const ahead = () => stack.t.clock.now() + 5 * 60_000;
    await managedSdk(storage, { now: ahead }).sdk.session.ensureAccessToken();
    for (let view = 0; view < 5; view++)
      await managedSdk(storage, { now: ahead }).sdk.session.ensureAccessToken();
    expect(stack.reached.refresh).toBe(0);
    // Once it is due by the server's clock, the next new instance does refresh.
    stack.t.clock.advance(50);
    await managedSdk(storage, { now: ahead }).sdk.session.ensureAccessToken();
    expect(stack.reached.refresh).toBe(1);
  });

  it('still refreshes proactively on the server’s clock when the local one runs behind', async () => {
    const storage = memoryStorage();
    const { sdk } = managedSdk(storage, { now: () => stack.t.clock.now() - 3600_000 });
    await sdk.session.ensureAccessToken();
    stack.t.clock.advance(50);
    await sdk.session.ensureAccessToken();
    expect(stack.reached.refresh).toBe(1);
  });
});

describe('401 retry', () => {
  it('refreshes and resends a request with a JSON body once', async () => {
    const storage = memoryStorage();
    // This instance's clock is frozen at the start: it believes the token is fresh while the
    // resource server (on the server clock) finds it expired.
    const frozen = stack.t.clock.now();
    const { sdk } = managedSdk(storage, { now: () => frozen });
    await sdk.session.ensureAccessToken();
    stack.t.clock.advance(61);
    const r = await sdk.request<{ body: string; contentType: string }>('/test/echo', {
      method: 'PUT',
      json: { cart: ['sku-1'] },
    });
    expect(r.error).toBeNull();
    expect(r.data!.body).toBe('{"cart":["sku-1"]}');
    expect(stack.reached.refresh).toBe(1);
  });

  it('resends a body that can be read only once (a stream, FormData)', async () => {
    const storage = memoryStorage();
    const frozen = stack.t.clock.now();
    const { sdk } = managedSdk(storage, { now: () => frozen });
    await sdk.session.ensureAccessToken();
    stack.t.clock.advance(61);
    const stream = new ReadableStream<Uint8Array>({
      start(controller) {
        controller.enqueue(new TextEncoder().encode('streamed body'));
        controller.close();
      },
    });
    const r1 = await sdk.request<{ body: string }>('/test/echo', { method: 'POST', body: stream });
    expect(r1.data!.body).toBe('streamed body');

    stack.t.clock.advance(61);
    const form = new FormData();
    form.set('note', 'gift wrap');
    const r2 = await sdk.request<{ body: string; contentType: string }>('/test/echo', {
      method: 'POST',
      body: form,
    });
    expect(r2.error).toBeNull();
    expect(r2.data!.contentType).toMatch(/^multipart\/form-data; boundary=/);
    expect(r2.data!.body).toContain('gift wrap');
    expect(stack.reached.refresh).toBe(2);
  });
});

describe('401 that is not about the token', () => {
  it('does not refresh or resend on INVALID_CREDENTIALS (a wrong password)', async () => {
    const { sdk } = managedSdk(memoryStorage());
    await sdk.session.ensureAccessToken();
    stack.seen.other = 0;
    stack.fault('other', { kind: 'status', status: 401, code: 'INVALID_CREDENTIALS' });
    const r = await sdk.request('/test/echo', { json: { password: 'wrong' } });
    expect(r.error!.code).toBe('INVALID_CREDENTIALS');
    expect(stack.seen.other).toBe(1);
    expect(stack.reached.refresh).toBe(0);
  });

  it('does refresh and resend on UNAUTHORIZED', async () => {
    const { sdk } = managedSdk(memoryStorage());
    await sdk.session.ensureAccessToken();
    stack.seen.other = 0;
    stack.fault('other', { kind: 'status', status: 401, code: 'UNAUTHORIZED' });
    const r = await sdk.request('/test/echo', { json: { item: 1 } });
    expect(r.error).toBeNull();
    expect(stack.seen.other).toBe(2);
    expect(stack.reached.refresh).toBe(1);
  });
});

describe('failures that keep the session', () => {
  it('a lost refresh response (server rotated, connection cut) ends with a valid session, not a logout', async () => {
    const { sdk, rec, storage, before } = await expiringSession();
    stack.fault('refresh', { kind: 'drop-after' });
    const token = await sdk.session.ensureAccessToken();
    expect(stack.refreshTokensSent.slice(-2)).toEqual([before.refresh_token, before.refresh_token]);
    // Two requests reached the server: the one whose answer was lost, and the replay of the same
    // token, answered inside the grace window with the same successor.
    expect(stack.reached.refresh).toBe(2);
    expect(rec.ended).toEqual([]);
    const after = (await storage.getTokens())!;
    expect(after.access_token).toBe(token);
    expect(after.refresh_token).not.toBe(before.refresh_token);
    expect(claimsOf(after.access_token)['ulid']).toBe(claimsOf(before.access_token)['ulid']);
    expect(await serverAccepts(stack, after.refresh_token)).toBe(200);
  });

  it.each([
    ['a 503', { kind: 'status', status: 503, code: 'SERVICE_UNAVAILABLE' }],
    ['a 500', { kind: 'status', status: 500, code: 'INTERNAL_ERROR' }],
    ['a network failure', { kind: 'drop-before' }],
    ['an HTML 502 from a proxy', { kind: 'html', status: 502 }],
  ] as const)('retries %s with the same refresh token and keeps the session', async (_name, fault) => {
    const { sdk, rec, storage, before } = await expiringSession();
    stack.fault('refresh', fault, fault);
    await sdk.session.ensureAccessToken();
    expect(stack.seen.refresh).toBe(3);
    expect(stack.refreshTokensSent.slice(-3)).toEqual([
      before.refresh_token,
      before.refresh_token,
      before.refresh_token,
    ]);
    expect(rec.sleeps).toHaveLength(2);
    expect(rec.sleeps[1]!).toBeGreaterThan(rec.sleeps[0]!);
    expect(rec.ended).toEqual([]);
    const after = (await storage.getTokens())!;
    expect(after.refresh_token).not.toBe(before.refresh_token);
    expect(await serverAccepts(stack, after.refresh_token)).toBe(200);
  });

  it('honours Retry-After on a 429', async () => {
    const { sdk, rec } = await expiringSession();
    stack.fault('refresh', { kind: 'status', status: 429, code: 'RATE_LIMITED', retryAfter: '3' });
    await sdk.session.ensureAccessToken();
    expect(rec.sleeps).toHaveLength(1);
    expect(rec.sleeps[0]).toBeGreaterThanOrEqual(3000);
    expect(rec.ended).toEqual([]);
  });

  it('keeps the tokens when every attempt fails, and recovers with the same refresh token later', async () => {
    const { sdk, rec, storage, before } = await expiringSession();
    const down = { kind: 'status', status: 503, code: 'SERVICE_UNAVAILABLE' } as const;
    stack.fault('refresh', down, down, down, down);
    const token = await sdk.session.ensureAccessToken();
    expect(token).toBe(before.access_token);
    expect(await storage.getTokens()).toEqual(before);
    expect(rec.ended).toEqual([]);
    expect(rec.failed).toEqual(['SERVICE_UNAVAILABLE']);
    // The server is back: the next call refreshes with the same refresh token.
    await sdk.session.ensureAccessToken();
    expect((await storage.getTokens())!.refresh_token).not.toBe(before.refresh_token);
  });

  it('gives up (session kept) when Retry-After is longer than it may wait', async () => {
    const { sdk, rec, storage, before } = await expiringSession();
    stack.fault('refresh', { kind: 'status', status: 429, code: 'RATE_LIMITED', retryAfter: '120' });
    await sdk.session.ensureAccessToken();
    expect(rec.sleeps).toEqual([]);
    expect(await storage.getTokens()).toEqual(before);
    expect(rec.ended).toEqual([]);
  });
});

describe('session-ending codes', () => {
  async function endWith(setup: (tokens: TokenPair, storage: TokenStorage) => Promise<void>, env = {}) {
    await stack.close();
    stack = await startStack(env);
    const { sdk, rec, storage, before } = await expiringSession();
    await setup(before, storage);
    return { sdk, rec, storage, before };
  }

  it.each<
    [
      SessionEndReason,
      Record<string, string>,
      (s: Stack, tokens: TokenPair, storage: TokenStorage) => Promise<void>,
    ]
  >([
    [
      'REFRESH_TOKEN_REUSED',
      { REFRESH_REUSE_GRACE: '0' },
      // Someone else spent this refresh token: the SDK's copy is now a reused one.
      async (s, tokens) => void (await serverAccepts(s, tokens.refresh_token)),
    ],
    ['REFRESH_TOKEN_EXPIRED', { REFRESH_TOKEN_TTL: '100' }, async (s) => s.t.clock.advance(100)],
    [
      'INVALID_REFRESH_TOKEN',
      {},
      async (_s, tokens, storage) => storage.setTokens({ ...tokens, refresh_token: 'not.a.token' }),
    ],
    [
      'SESSION_REVOKED',
      {},
      async (s, tokens) =>
        void (await s.t.db.revokeSession(
          claimsOf(tokens.access_token)['sid'] as string,
          'logout',
          s.t.clock.now(),
        )),
    ],
    [
      'SESSION_EXPIRED',
      {},
      async (s, tokens) => {
        const { default: Database } = await import('better-sqlite3');
        const db = new Database(`${s.t.dir}/auth.db`);
        db.prepare('UPDATE sessions SET absolute_expires_at = ? WHERE id = ?').run(
          s.t.clock.now() - 1,
          claimsOf(tokens.access_token)['sid'],
        );
        db.close();
      },
    ],
    [
      'SESSION_NOT_FOUND',
      {},
      async (s, tokens) => void (await s.t.db.deleteUser(claimsOf(tokens.access_token)['ulid'] as string)),
    ],
  ])('%s clears the tokens and calls onSessionEnded with it', async (code, env, setup) => {
    const { sdk, rec, storage, before } = await endWith(
      (tokens, storage) => setup(stack, tokens, storage),
      env,
    );
    stack.reached.anonymous = 0;
    const token = await sdk.session.ensureAccessToken();
    expect(rec.ended).toEqual([code]);
    expect(rec.sleeps).toEqual([]);
    // The request that needed a session got a new anonymous one.
    expect(stack.reached.anonymous).toBe(1);
    const now = (await storage.getTokens())!;
    expect(now.access_token).toBe(token);
    expect(claimsOf(now.access_token)['sid']).not.toBe(claimsOf(before.access_token)['sid']);
  });

  it('starts a new anonymous user after an expired session: a dead session hands its id on no more', async () => {
    await stack.close();
    stack = await startStack({ REFRESH_TOKEN_TTL: '100' });
    const { sdk, rec, before } = await expiringSession();
    stack.t.clock.advance(100);
    const token = await sdk.session.ensureAccessToken();
    expect(rec.ended).toEqual(['REFRESH_TOKEN_EXPIRED']);
    expect(token).toBeTruthy();
    expect(claimsOf(token!)['ulid']).not.toBe(claimsOf(before.access_token)['ulid']);
  });
});

describe('sdk.request on auth routes', () => {
  it('moves the managed session to a pair an auth operation answers', async () => {
    const storage = memoryStorage();
    const { sdk, rec } = managedSdk(storage);
    await sdk.session.ensureAccessToken();
    const before = (await storage.getTokens())!;
    const r = await sdk.request<{ access_token: string; refresh_token: string }>('/auth/anonymous', {
      method: 'POST',
      headers: { 'x-api-key': API_KEY },
    });
    expect(r.error).toBeNull();
    const after = (await storage.getTokens())!;
    expect(after.refresh_token).toBe(r.data!.refresh_token);
    expect(after.refresh_token).not.toBe(before.refresh_token);
    expect(rec.updated.at(-1)).toEqual({ source: 'manual' });
  });
});

describe('manual refreshToken while managed', () => {
  it('never sends a refresh token the SDK has just spent', async () => {
    await stack.close();
    stack = await startStack({ REFRESH_REUSE_GRACE: '0' });
    const { sdk, rec, storage, before } = await expiringSession();
    await sdk.session.ensureAccessToken(); // the SDK rotates before.refresh_token
    const rotated = (await storage.getTokens())!;
    stack.reached.refresh = 0;
    const { data, error } = await sdk.auth.refreshToken({ refresh_token: before.refresh_token });
    expect(error).toBeNull();
    expect(data).toEqual(pairOf(rotated));
    expect(stack.reached.refresh).toBe(0);
    expect(rec.ended).toEqual([]);
    expect(await serverAccepts(stack, rotated.refresh_token)).toBe(200);
  });

  it('rotates the current refresh token through the managed flow and stores the result', async () => {
    const { sdk, rec, storage, before } = await expiringSession();
    const { data, error } = await sdk.auth.refreshToken({ refresh_token: before.refresh_token });
    expect(error).toBeNull();
    expect(pairOf((await storage.getTokens())!)).toEqual(data);
    expect(stack.reached.refresh).toBe(1);
    expect(rec.updated.at(-1)).toEqual({ source: 'refresh' });
  });
});
