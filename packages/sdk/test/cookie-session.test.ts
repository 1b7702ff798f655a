import { createElement } from 'react';
import TestRenderer, { act } from 'react-test-renderer';
import { afterEach, beforeEach, expect, it, vi } from 'vitest';
import { anonymous } from '../../server/test/helpers/app.js';
import { registerCustomer } from '../../server/test/helpers/customers.js';
import type { AuthStateChange } from '../src/index.js';
import { type CookieSession, cookieSession, useSession } from '../src/react.js';
import { type Stack, startStack } from './helpers/stack.js';

(globalThis as { IS_REACT_ACT_ENVIRONMENT?: boolean }).IS_REACT_ACT_ENVIRONMENT = true;

// Two cookie sessions over one cookie jar stand for two tabs of a site whose server holds the
// refresh token (the Next.js adapter): BroadcastChannel is the same Web API in Node.js. The
// tokens are the real server's.
let stack: Stack;
const sessions: CookieSession[] = [];
beforeEach(async () => {
  stack = await startStack({ OTP_DEBUG: 'true' });
});
afterEach(async () => {
  for (const s of sessions.splice(0)) s.dispose();
  await stack.close();
});

function tab(jar: { cookie: string }): CookieSession {
  const session = cookieSession({ document: jar });
  sessions.push(session);
  return session;
}

function Who({ session }: { session: CookieSession }) {
  const { status, event, session: who } = useSession(session);
  return `${status}|${event ?? '-'}|${who?.userId ?? '-'}`;
}

it('cookieSession: a sign-in, a sign-out and an ended session synced in one tab reach useSession in the other, with no token', async () => {
  const guest = (await anonymous(stack.t.app)).body.content;
  const jar = {
    cookie: `other=1; sfa_access_token=${encodeURIComponent(guest.access_token)}; sfa_refresh_token=${guest.refresh_token}`,
  };
  const a = tab(jar);
  const b = tab(jar);
  const heardByA: AuthStateChange[] = [];
  const heardByB: AuthStateChange[] = [];
  a.onAuthStateChange((c) => heardByA.push(c));
  b.onAuthStateChange((c) => heardByB.push(c));
  let root!: TestRenderer.ReactTestRenderer;
  await act(async () => {
    root = TestRenderer.create(createElement(Who, { session: b }));
  });
  expect(root.toJSON()).toBe(`anonymous|-|${guest.user.id}`);

  // Tab A's server action answered the customer's cookies (the refresh token stays HttpOnly).
  const customer = await registerCustomer(stack.t.app, 'cookie-session@example.com', {
    bearer: guest.access_token,
  });
  jar.cookie = `sfa_access_token=${encodeURIComponent(customer.access_token)}; other=1`;
  await act(async () => a.sync());
  expect(heardByA.map((c) => `${c.event}:${c.remote}`)).toEqual(['SIGNED_IN:false']);
  await vi.waitFor(() => expect(root.toJSON()).toBe(`authenticated|SIGNED_IN|${customer.user.id}`));
  expect(heardByB.map((c) => `${c.event}:${c.remote}`)).toEqual(['SIGNED_IN:true']);

  // A second sync of the same cookie is no change.
  a.sync();
  // Logout answered a fresh guest pair.
  const next = (await anonymous(stack.t.app)).body.content;
  jar.cookie = `sfa_access_token=${encodeURIComponent(next.access_token)}`;
  await act(async () => a.sync());
  await vi.waitFor(() => expect(root.toJSON()).toBe(`anonymous|SIGNED_OUT|${next.user.id}`));

  // The server cleared the cookies.
  jar.cookie = 'other=1';
  await act(async () => a.sync());
  await vi.waitFor(() => expect(root.toJSON()).toBe('none|SESSION_ENDED|-'));
  expect(heardByA.map((c) => c.event)).toEqual(['SIGNED_IN', 'SIGNED_OUT', 'SESSION_ENDED']);
  expect(heardByB.map((c) => `${c.event}:${c.remote}`)).toEqual([
    'SIGNED_IN:true',
    'SIGNED_OUT:true',
    'SESSION_ENDED:true',
  ]);
  // What crossed the tabs names who holds the session, never a token.
  const wire = JSON.stringify([...heardByA, ...heardByB]);
  for (const token of [guest, customer, next].flatMap((p) => [p.access_token, p.refresh_token]))
    expect(wire).not.toContain(token);
  await act(async () => root.unmount());
});
