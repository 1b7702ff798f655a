import { createElement } from 'react';
import TestRenderer, { act } from 'react-test-renderer';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { registerCustomer } from '../../server/test/helpers/customers.js';
import { createStorefrontSDK, inProcessLock, memoryStorage, type StorefrontSDK } from '../src/index.js';
import { useSession } from '../src/react.js';
import { API_KEY, type Stack, startStack } from './helpers/stack.js';

(globalThis as { IS_REACT_ACT_ENVIRONMENT?: boolean }).IS_REACT_ACT_ENVIRONMENT = true;

let stack: Stack;
const sdks: StorefrontSDK[] = [];
beforeEach(async () => {
  stack = await startStack({ OTP_DEBUG: 'true' });
});
afterEach(async () => {
  for (const sdk of sdks.splice(0)) sdk.dispose();
  await stack.close();
});

describe('useSession (real React, real server)', () => {
  it('renders loading, then follows this and a sibling instance through sign-in and sign-out', async () => {
    const storage = memoryStorage();
    const lock = inProcessLock();
    const make = () => {
      const sdk = createStorefrontSDK({
        baseUrl: stack.baseUrl,
        apiKey: API_KEY,
        tokenStorage: storage,
        lock,
        now: stack.t.clock.now,
      });
      sdks.push(sdk);
      return sdk;
    };
    const page = make();
    const sibling = make();
    let renders = 0;
    function Who() {
      renders++;
      const { status, event, session } = useSession(page);
      return `${status}|${event ?? '-'}|${session?.isLoggedIn ?? '-'}`;
    }
    let root!: TestRenderer.ReactTestRenderer;
    await act(async () => {
      root = TestRenderer.create(createElement(Who));
    });
    const text = () => root.toJSON() as string;
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
    const seeded = createStorefrontSDK({ baseUrl: stack.baseUrl, apiKey: API_KEY, tokenStorage: storage });
    sdks.push(seeded);
    await seeded.session.ensureAccessToken();
    const later = createStorefrontSDK({ baseUrl: stack.baseUrl, apiKey: API_KEY, tokenStorage: storage });
    sdks.push(later);
    function Who() {
      return useSession(later).status;
    }
    let root!: TestRenderer.ReactTestRenderer;
    await act(async () => {
      root = TestRenderer.create(createElement(Who));
    });
    while (root.toJSON() === 'loading') await act(() => new Promise((r) => setTimeout(r, 5)));
    expect(root.toJSON()).toBe('anonymous');
    await act(async () => root.unmount());
  });
});
