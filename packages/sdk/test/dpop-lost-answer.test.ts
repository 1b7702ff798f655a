import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createProof, describeKey, generateDpopKeyPair } from '../src/dpop/proof.js';
import {
  createStorefrontSDK,
  type DpopKeyStore,
  memoryKeyStore,
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

/** A bound SDK on the server's clock; instances over one key store share the key, as a process keeping it would. */
function boundSdk(storage: TokenStorage, keyStore: DpopKeyStore, ended: SessionEndReason[]) {
  return createStorefrontSDK({
    baseUrl: stack.baseUrl,
    apiKey: API_KEY,
    tokenStorage: storage,
    now: stack.t.clock.now,
    sleep: async (ms) => stack.t.clock.advance(ms / 1000),
    dpop: { keyStore },
    onSessionEnded: (reason) => {
      ended.push(reason);
    },
  });
}

/** A refresh as a thief holding only the copied token would send it: no proof, or a proof of their own key. */
async function thiefRefresh(refreshToken: string, withOwnKey: boolean) {
  const url = `${stack.baseUrl}/auth/refresh-token`;
  const headers: Record<string, string> = { 'content-type': 'application/json' };
  if (withOwnKey) {
    const key = await describeKey(await generateDpopKeyPair());
    headers['dpop'] = await createProof(key, { htm: 'POST', htu: url, iat: stack.t.clock.now() / 1000 });
  }
  const res = await fetch(url, {
    method: 'POST',
    headers,
    body: JSON.stringify({ refresh_token: refreshToken }),
  });
  const body = (await res.json()) as { code?: string };
  return { status: res.status, code: body.code };
}

type Shopper = 'anonymous' | 'customer';

describe('a bound session: lost refresh answer, then offline', () => {
  describe.each<Shopper>(['anonymous', 'customer'])('for an %s shopper', (shopper) => {
    it.each([60, 600])(
      '%i s offline: the shopper keeps the session; the copied token without the key is refused',
      async (spell) => {
        const storage = memoryStorage();
        const keyStore = memoryKeyStore();
        const ended: SessionEndReason[] = [];
        const before = boundSdk(storage, keyStore, ended);
        await before.session.ensureAccessToken();
        const customer = shopper === 'customer' ? await signUp(before, `ada-${spell}@example.com`) : null;
        const held = (await storage.getTokens())!;
        const jkt = (await describeKey((await keyStore.load())!)).jkt;
        expect(claimsOf(held.access_token)['cnf']).toEqual({ jkt });
        const sid = claimsOf(held.refresh_token)['sid'] as string;
        stack.t.clock.advance(50);

        const lostAt = stack.t.clock.now();
        stack.fault('refresh', { kind: 'drop-after' });
        stack.offlineBetween(lostAt + 1, lostAt + spell * 1000);
        await before.session.ensureAccessToken();
        stack.t.clock.advance((lostAt + spell * 1000 - stack.t.clock.now()) / 1000);

        // Back online, the page is reloaded: a new instance over the same storage and key.
        const after = boundSdk(storage, keyStore, ended);
        const token = await after.session.ensureAccessToken();
        expect(token).not.toBeNull();
        const now = (await storage.getTokens())!;
        expect(ended).toEqual([]);
        expect(claimsOf(now.refresh_token)['sid']).toBe(sid);
        expect(claimsOf(now.access_token)['cnf']).toEqual({ jkt });
        if (customer) {
          const me = await after.auth.getUserDetails({ id: customer.user.id });
          expect(me.error).toBeNull();
        }

        // A thief with the copied tokens but not the key: refused, and nothing ends.
        for (const copied of [held.refresh_token, now.refresh_token]) {
          expect(await thiefRefresh(copied, false)).toEqual({ status: 401, code: 'DPOP_PROOF_INVALID' });
          expect(await thiefRefresh(copied, true)).toEqual({ status: 401, code: 'DPOP_PROOF_INVALID' });
        }
        expect((await stack.t.db.getSession(sid))?.session.revokedAt).toBeNull();
        // The shopper's current token is still the session's live one; the replaced one is not.
        const current = (await storage.getTokens())!;
        expect(await serverAccepts(stack, current.refresh_token)).toBe(200);
        expect(await serverAccepts(stack, held.refresh_token)).toBe(401);

        // The shopper's session still works afterwards: the next refresh rotates as before.
        stack.t.clock.advance(61);
        const later = await after.session.ensureAccessToken();
        expect(later).not.toBe(token);
        expect(claimsOf((await storage.getTokens())!.refresh_token)['sid']).toBe(sid);
        expect(ended).toEqual([]);
        if (customer) expect((await after.auth.getUserDetails({ id: customer.user.id })).error).toBeNull();
      },
    );
  });
});
