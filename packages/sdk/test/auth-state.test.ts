import { createElement } from 'react';
import TestRenderer, { act } from 'react-test-renderer';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { registerCustomer } from '../../server/test/helpers/customers.js';
import {
  type AuthStateChange,
  createStorefrontSDK,
  inProcessLock,
  memoryStorage,
  type StorefrontSDK,
  type TokenStorage,
} from '../src/index.js';
import { useSession } from '../src/react.js';
import { API_KEY, type Stack, startStack } from './helpers/stack.js';

(globalThis as { IS_REACT_ACT_ENVIRONMENT?: boolean }).IS_REACT_ACT_ENVIRONMENT = true;

// Two SDK instances over one storage in one process stand for two tabs: BroadcastChannel is the
// same Web API in Node.js. Real server, real HTTP.
let stack: Stack;
const sdks: StorefrontSDK[] = [];
beforeEach(async () => {
  stack = await startStack({ OTP_DEBUG: 'true' });
});
afterEach(async () => {
  for (const sdk of sdks.splice(0)) sdk.dispose();
  await stack.close();
});

const PASSWORD = 'correct horse battery';

/** A managed SDK on the test server over `storage`, disposed after the test. */
function managed(storage: TokenStorage, lock = inProcessLock()): StorefrontSDK {
  const sdk = createStorefrontSDK({
    baseUrl: stack.baseUrl,
    apiKey: API_KEY,
    tokenStorage: storage,
    lock,
    now: stack.t.clock.now,
    sleep: async () => {},
  });
  sdks.push(sdk);
  return sdk;
}

function tab(storage: TokenStorage, lock = inProcessLock()) {
  const sdk = managed(storage, lock);
  const seen: AuthStateChange[] = [];
  const waiters: Array<() => void> = [];
  sdk.onAuthStateChange((change) => {
    seen.push(change);
    for (const w of waiters.splice(0)) w();
  });
  return {
    sdk,
    seen,
    events: () => seen.map((c) => `${c.event}${c.remote ? ' (remote)' : ''}`),
    /** Resolves once `n` changes have arrived (cross-instance delivery is a message: asynchronous). */
    async until(n: number) {
      while (seen.length < n) await new Promise<void>((r) => waiters.push(r));
    },
  };
}

describe('sdk.onAuthStateChange', () => {
  it('announces sign-in, refresh, sign-out and a server-ended session in this and the sibling instance', async () => {
    const storage = memoryStorage();
    const lock = inProcessLock();
    const a = tab(storage, lock);
    const b = tab(storage, lock);

    await a.sdk.session.ensureAccessToken();
    await a.until(1);
    await b.until(1);
    expect(a.events()).toEqual(['SIGNED_IN']);
    expect(b.events()).toEqual(['SIGNED_IN (remote)']);
    expect(a.seen[0]!.session).toMatchObject({ isAnonymous: true, isLoggedIn: false });
    const anonymousId = a.seen[0]!.session!.userId;

    // A customer account is made on the server; A logs in with the password.
    await registerCustomer(stack.t.app, 'ada@example.com');
    const login = await a.sdk.auth.loginWithPassword({ email: 'ada@example.com', password: PASSWORD });
    expect(login.error).toBeNull();
    await b.until(2);
    expect(a.events()).toEqual(['SIGNED_IN', 'SIGNED_IN']);
    expect(b.events()).toEqual(['SIGNED_IN (remote)', 'SIGNED_IN (remote)']);
    expect(b.seen[1]!.session).toMatchObject({ isLoggedIn: true });
    expect(b.seen[1]!.session!.userId).not.toBe(anonymousId);

    // B's access token is due: B refreshes, A hears TOKEN_REFRESHED; A then adopts it silently.
    stack.t.clock.advance(50);
    await b.sdk.session.ensureAccessToken();
    await a.until(3);
    expect(b.events().at(-1)).toBe('TOKEN_REFRESHED');
    expect(a.events().at(-1)).toBe('TOKEN_REFRESHED (remote)');
    await a.sdk.session.ensureAccessToken();
    expect(a.seen).toHaveLength(3);

    // Logout answers a fresh anonymous pair: SIGNED_OUT everywhere.
    expect((await a.sdk.auth.logout()).error).toBeNull();
    await b.until(4);
    expect(a.events().at(-1)).toBe('SIGNED_OUT');
    expect(b.events().at(-1)).toBe('SIGNED_OUT (remote)');
    expect(b.seen.at(-1)!.session).toMatchObject({ isAnonymous: true });

    // The server ends the session (revoked by the operator): the instance that finds out tells both.
    const tokens = (await storage.getTokens())!;
    const sid = JSON.parse(Buffer.from(tokens.refresh_token.split('.')[1]!, 'base64url').toString()).sid;
    await stack.t.db.revokeSession(sid, 'admin', stack.t.clock.now());
    await a.sdk.auth.refreshToken({ refresh_token: tokens.refresh_token });
    stack.t.clock.advance(50);
    await a.sdk.session.ensureAccessToken();
    await b.until(5);
    expect(a.seen[4]).toMatchObject({ event: 'SESSION_ENDED', session: null, reason: 'SESSION_REVOKED' });
    expect(b.seen[4]).toMatchObject({ event: 'SESSION_ENDED', remote: true, reason: 'SESSION_REVOKED' });
    // No event ever carries a token.
    const wire = JSON.stringify([...a.seen, ...b.seen]);
    expect(wire).not.toContain(tokens.refresh_token);
    expect(wire).not.toContain(tokens.access_token);
  });

  it('runs callbacks outside the refresh lock: a callback may call the SDK and it completes', async () => {
    const storage = memoryStorage();
    // One lock, held while a refresh runs: a callback inside it awaiting the SDK would never finish.
    const sdk = managed(storage);
    const inner: Array<string | null> = [];
    let done: () => void = () => {};
    const finished = new Promise<void>((r) => {
      done = r;
    });
    sdk.onAuthStateChange(async (change) => {
      if (change.event !== 'TOKEN_REFRESHED') return;
      // A new refresh, which takes the lock: it can only start if the lock is free.
      const forced = await sdk.auth.refreshToken({
        refresh_token: (await storage.getTokens())!.refresh_token,
      });
      inner.push(forced.error ? forced.error.code : 'ok');
      done();
    });
    await sdk.session.ensureAccessToken();
    stack.t.clock.advance(50);
    await sdk.session.ensureAccessToken();
    await finished;
    expect(inner).toEqual(['ok']);
  });

  it('request-scoped server storages share nothing: no event reaches another instance', async () => {
    const inner = memoryStorage();
    // Same key on purpose: only the kind keeps a server's per-request SDKs apart.
    const server = (): TokenStorage => ({
      getTokens: () => inner.getTokens(),
      setTokens: (t) => inner.setTokens(t),
      clearTokens: () => inner.clearTokens(),
      key: 'server:same',
      kind: 'server',
    });
    const sharedKind = (kind: 'server' | 'memory') => {
      const storage = kind === 'server' ? server() : { ...server(), kind };
      return [tab(storage), tab(kind === 'server' ? server() : { ...server(), kind })] as const;
    };
    const [a, b] = sharedKind('server');
    await a.sdk.session.ensureAccessToken();
    await a.until(1);
    // A control pair over a shared (non-server) storage shows a message does arrive in this time.
    await inner.clearTokens();
    const [c, d] = sharedKind('memory');
    await c.sdk.session.ensureAccessToken();
    await d.until(1);
    expect(a.events()).toEqual(['SIGNED_IN']);
    expect(b.events()).toEqual([]);
    expect(d.events()).toEqual(['SIGNED_IN (remote)']);
  });

  it('a manual SDK (no storage) never calls back', async () => {
    const sdk = createStorefrontSDK({ baseUrl: stack.baseUrl, apiKey: API_KEY });
    const seen: unknown[] = [];
    const off = sdk.onAuthStateChange((c) => seen.push(c));
    await sdk.auth.getAnonymousToken();
    off();
    expect(seen).toEqual([]);
  });
});

let renders = 0;
/** Shows what useSession says, as `status|event|isLoggedIn`. */
function Who({ sdk }: { sdk: StorefrontSDK }) {
  renders++;
  const { status, event, session } = useSession(sdk);
  return `${status}|${event ?? '-'}|${session?.isLoggedIn ?? '-'}`;
}

function Status({ sdk }: { sdk: StorefrontSDK }) {
  return useSession(sdk).status;
}

describe('useSession (real React, real server)', () => {
  it('renders loading, then follows this and a sibling instance through sign-in and sign-out', async () => {
    const storage = memoryStorage();
    const lock = inProcessLock();
    const page = managed(storage, lock);
    const sibling = managed(storage, lock);
    renders = 0;
    let root!: TestRenderer.ReactTestRenderer;
    await act(async () => {
      root = TestRenderer.create(createElement(Who, { sdk: page }));
    });
    const text = () => String(root.toJSON()); // the component renders bare text
    /** Lets React and the cross-instance messages run until the page shows `expected`. */
    const until = async (expected: string) => {
      while (text() !== expected) await act(() => new Promise((r) => setTimeout(r, 5)));
    };
    await until('none|-|-');

    await act(async () => {
      await page.session.ensureAccessToken();
    });
    await until('anonymous|SIGNED_IN|false');

    await registerCustomer(stack.t.app, 'react@example.com');
    // The sibling (another tab) logs in: this page follows.
    expect(
      (
        await sibling.auth.loginWithPassword({
          email: 'react@example.com',
          password: 'correct horse battery',
        })
      ).error,
    ).toBeNull();
    await until('authenticated|SIGNED_IN|true');

    expect((await sibling.auth.logout()).error).toBeNull();
    await until('anonymous|SIGNED_OUT|false');
    expect(renders).toBeGreaterThan(3);
    await act(async () => root.unmount());
  });

  it('a page rendered before any session exists reads storage once it mounts', async () => {
    const storage = memoryStorage();
    const seeded = managed(storage);
    await seeded.session.ensureAccessToken();
    const later = managed(storage);
    let root!: TestRenderer.ReactTestRenderer;
    await act(async () => {
      root = TestRenderer.create(createElement(Status, { sdk: later }));
    });
    while (String(root.toJSON()) === 'loading') await act(() => new Promise((r) => setTimeout(r, 5)));
    expect(root.toJSON()).toBe('anonymous');
    await act(async () => root.unmount());
  });
});
