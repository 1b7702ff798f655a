import { NextRequest, NextResponse } from 'next/server.js';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { authMiddleware, nextCookieStorage } from '../src/next.js';
import { API_KEY, claimsOf, type Stack, serverAccepts, startStack } from './helpers/stack.js';

// The middleware as Next.js runs it: real NextRequest and NextResponse from the `next` package,
// against the real auth server over HTTP. (The example app built with `next build`, in Chromium:
// browser/next-storefront.test.ts.)
let stack: Stack;
beforeEach(async () => {
  stack = await startStack();
});
afterEach(() => stack.close());

const cookiesOf = (response: Response) => response.headers.getSetCookie();
const cookieValue = (setCookies: string[], name: string) =>
  decodeURIComponent(
    setCookies
      .find((c) => c.startsWith(`${name}=`))
      ?.split(';')[0]
      ?.slice(name.length + 1) ?? '',
  );
const cookieHeader = (setCookies: string[]) => setCookies.map((c) => c.split(';')[0]).join('; ');

describe('authMiddleware (Next.js App Router)', () => {
  it('gives a new shopper a pair, the refresh token HttpOnly, and hands it to this request', async () => {
    const middleware = authMiddleware({ baseUrl: stack.baseUrl, apiKey: API_KEY, now: stack.t.clock.now });
    const response = await middleware(new NextRequest('http://shop.example/products'));
    const set = cookiesOf(response);
    const refreshCookie = set.find((c) => c.startsWith('sfa_refresh_token='))!;
    const accessCookie = set.find((c) => c.startsWith('sfa_access_token='))!;
    expect(refreshCookie).toMatch(/; HttpOnly/);
    expect(refreshCookie).toMatch(/; Secure/);
    expect(refreshCookie).toMatch(/; SameSite=Lax/);
    expect(accessCookie).not.toMatch(/HttpOnly/);
    expect(claimsOf(cookieValue(set, 'sfa_access_token'))['is_anonymous']).toBe(true);
    // The request continues to the app with the new cookies, so server components see them.
    expect(response.headers.get('x-middleware-next')).toBe('1');
    expect(response.headers.get('x-middleware-request-cookie')).toContain(
      encodeURIComponent(cookieValue(set, 'sfa_refresh_token')),
    );
    expect(stack.reached.anonymous).toBe(1);

    // A live pair passes through untouched.
    const again = await middleware(
      new NextRequest('http://shop.example/cart', { headers: { cookie: cookieHeader(set) } }),
    );
    expect(cookiesOf(again)).toEqual([]);
    expect(stack.reached.refresh).toBe(0);
  });

  it('racing requests of one shopper rotate once and all write the same cookies', async () => {
    const middleware = authMiddleware({ baseUrl: stack.baseUrl, apiKey: API_KEY, now: stack.t.clock.now });
    const first = cookiesOf(await middleware(new NextRequest('http://shop.example/')));
    stack.t.clock.advance(50); // the stack's access tokens live 60 s: due for refresh
    const responses = await Promise.all(
      ['/', '/cart', '/products', '/account', '/_next/data/x.json'].map((path) =>
        middleware(
          new NextRequest(`http://shop.example${path}`, { headers: { cookie: cookieHeader(first) } }),
        ),
      ),
    );
    expect(stack.reached.refresh).toBe(1);
    const written = responses.map((r) => cookieValue(cookiesOf(r), 'sfa_refresh_token'));
    expect(new Set(written).size).toBe(1);
    expect(written[0]).not.toBe(cookieValue(first, 'sfa_refresh_token'));
    expect(await serverAccepts(stack, written[0]!)).toBe(200);
  });

  it('httpOnlyRefresh: false leaves the refresh cookie readable (for a browser SDK that refreshes itself)', async () => {
    const middleware = authMiddleware({
      baseUrl: stack.baseUrl,
      apiKey: API_KEY,
      now: stack.t.clock.now,
      httpOnlyRefresh: false,
    });
    const set = cookiesOf(await middleware(new NextRequest('http://shop.example/')));
    expect(set.find((c) => c.startsWith('sfa_refresh_token='))).not.toMatch(/HttpOnly/);
  });
});

describe('nextCookieStorage over Next.js cookies', () => {
  it('reads the pair the store holds and writes rotations with the same attributes', async () => {
    const middleware = authMiddleware({ baseUrl: stack.baseUrl, apiKey: API_KEY, now: stack.t.clock.now });
    const set = cookiesOf(await middleware(new NextRequest('http://shop.example/')));
    const response = NextResponse.next();
    for (const c of set) {
      const [pair] = c.split(';');
      const eq = pair!.indexOf('=');
      response.cookies.set(pair!.slice(0, eq), decodeURIComponent(pair!.slice(eq + 1)));
    }
    const storage = nextCookieStorage(response.cookies);
    const held = await storage.getTokens();
    expect(held?.refresh_token).toBe(cookieValue(set, 'sfa_refresh_token'));
    await storage.setTokens({ access_token: 'a.b.c', refresh_token: 'd.e.f' });
    expect(response.cookies.get('sfa_refresh_token')).toMatchObject({ value: 'd.e.f', httpOnly: true });
    expect(response.cookies.get('sfa_access_token')).toMatchObject({ value: 'a.b.c' });
    expect(response.cookies.get('sfa_access_token')?.httpOnly).toBeFalsy();
  });
});
