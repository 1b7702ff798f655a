import { once } from 'node:events';
import { type AddressInfo, createServer } from 'node:net';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  createStorefrontSDK,
  memoryStorage,
  type SessionEndReason,
  type TokenStorage,
} from '../src/index.js';
import { signUp } from './helpers/customer.js';
import { API_KEY, claimsOf, type Stack, serverAccepts, startStack } from './helpers/stack.js';

let stack: Stack;
beforeEach(async () => {
  stack = await startStack({ OTP_DEBUG: 'true' });
});
afterEach(() => stack.close());

/** An SDK on the server's clock whose waits between retries move that clock instead of waiting. */
function managedSdk(storage: TokenStorage, ended: SessionEndReason[]) {
  return createStorefrontSDK({
    baseUrl: stack.baseUrl,
    apiKey: API_KEY,
    tokenStorage: storage,
    now: stack.t.clock.now,
    sleep: async (ms) => stack.t.clock.advance(ms / 1000),
    onSessionEnded: (reason) => {
      ended.push(reason);
    },
  });
}

type Shopper = 'anonymous' | 'customer';

/**
 * The shopper's refresh reaches the server, which rotates, but the answer is lost; the device is
 * then offline for `spellSeconds` (the SDK's own retries fail), and when it is back the shopper
 * reloads the page (a new SDK instance over the same storage) and browses on.
 */
async function lostAnswerThenOffline(shopper: Shopper, spellSeconds: number) {
  const storage = memoryStorage();
  const ended: SessionEndReason[] = [];
  const before = managedSdk(storage, ended);
  await before.session.ensureAccessToken();
  if (shopper === 'customer') await signUp(before, 'ada@example.com');
  const held = (await storage.getTokens())!;
  stack.t.clock.advance(50);

  const lostAt = stack.t.clock.now();
  stack.fault('refresh', { kind: 'drop-after' });
  // The answer is lost at lostAt; from the next moment on, the device is offline.
  stack.offlineBetween(lostAt + 1, lostAt + spellSeconds * 1000);
  const sentBefore = stack.refreshTokensSent.length;
  await before.session.ensureAccessToken();
  // The SDK's own retries moved the clock by their backoff; the rest of the spell passes idle.
  stack.t.clock.advance((lostAt + spellSeconds * 1000 - stack.t.clock.now()) / 1000);
  const afterSpell = stack.refreshTokensSent.length;

  const after = managedSdk(storage, ended);
  const page = await after.request<{ sub: string }>('/test/echo');
  const now = (await storage.getTokens())!;
  return {
    held,
    now,
    page,
    ended,
    sentDuringSpell: stack.refreshTokensSent.slice(sentBefore, afterSpell),
    sentAfterSpell: stack.refreshTokensSent.slice(afterSpell),
  };
}

describe('a lost refresh answer followed by an offline spell', () => {
  describe.each<Shopper>(['anonymous', 'customer'])('for an %s shopper', (shopper) => {
    it('10 s: the same token is replayed inside the grace window, and the session goes on', async () => {
      const run = await lostAnswerThenOffline(shopper, 10);
      expect(run.sentDuringSpell.every((token) => token === run.held.refresh_token)).toBe(true);
      expect(run.sentAfterSpell).toEqual([run.held.refresh_token]);
      expect(run.ended).toEqual([]);
      expect(run.page.error).toBeNull();
      expect(claimsOf(run.now.refresh_token)['sid']).toBe(claimsOf(run.held.refresh_token)['sid']);
      expect(claimsOf(run.now.refresh_token)['gen']).toBe(1);
      expect(await serverAccepts(stack, run.now.refresh_token)).toBe(200);
    });

    it.each([60, 600])(
      '%i s: the unanswered token is never sent again past the grace window',
      async (spell) => {
        const run = await lostAnswerThenOffline(shopper, spell);
        expect(run.sentAfterSpell).not.toContain(run.held.refresh_token);
        expect(run.page.error).toBeNull();
        const heldSid = claimsOf(run.held.refresh_token)['sid'] as string;
        // Nothing was presented as reuse: the server never revoked the session as stolen.
        const old = await stack.t.db.getSession(heldSid);
        expect(old?.session.revokedAt).toBeNull();
        expect(claimsOf(run.now.refresh_token)['sid']).not.toBe(heldSid);
        if (shopper === 'anonymous') {
          // A new session for the same anonymous user: the cart on that id is kept, nobody is told of an end.
          expect(run.ended).toEqual([]);
          expect(claimsOf(run.now.access_token)['ulid']).toBe(claimsOf(run.held.access_token)['ulid']);
          expect(claimsOf(run.now.access_token)['is_anonymous']).toBe(true);
        } else {
          // The customer is signed out on this device, said so, and browses on as a new anonymous shopper.
          expect(run.ended).toEqual(['REFRESH_ANSWER_LOST']);
          expect(claimsOf(run.now.access_token)['is_anonymous']).toBe(true);
          expect(claimsOf(run.now.access_token)['ulid']).not.toBe(claimsOf(run.held.access_token)['ulid']);
        }
        expect(await serverAccepts(stack, run.now.refresh_token)).toBe(200);
      },
    );
  });

  it('a refresh that could not leave the device (connection refused) is not taken for a lost answer', async () => {
    const storage = memoryStorage();
    const ended: SessionEndReason[] = [];
    // A port that was just closed: the connection is refused before anything is sent.
    const probe = createServer().listen(0, '127.0.0.1');
    await once(probe, 'listening');
    const port = (probe.address() as AddressInfo).port;
    await new Promise((resolve) => probe.close(resolve));
    const refused = createStorefrontSDK({
      baseUrl: `http://127.0.0.1:${port}/api/v1/demo/storefront`,
      tokenStorage: storage,
      now: stack.t.clock.now,
      sleep: async (ms) => stack.t.clock.advance(ms / 1000),
    });
    const online = managedSdk(storage, ended);
    await online.session.ensureAccessToken();
    stack.t.clock.advance(50);
    await refused.session.ensureAccessToken();
    expect((await storage.getTokens())!.notes?.unanswered_since).toBeUndefined();
    // Far past any grace window, the token that never left is still presented, and works.
    stack.t.clock.advance(120);
    stack.reached.refresh = 0;
    await online.session.ensureAccessToken();
    expect(stack.reached.refresh).toBe(1);
    expect(ended).toEqual([]);
  });
});
