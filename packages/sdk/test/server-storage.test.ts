import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createStorefrontSDK, serverCookieStorage, serverCookieStorageFromRequest } from '../src/index.js';
import { API_KEY, claimsOf, type Stack, serverAccepts, startStack } from './helpers/stack.js';

let stack: Stack;
beforeEach(async () => {
  stack = await startStack();
});
afterEach(() => stack.close());

/** What a browser would send back after these Set-Cookie headers. */
function cookieHeaderFrom(setCookies: string[]): string {
  const jar = new Map<string, string>();
  for (const line of setCookies) {
    const [pair, ...attributes] = line.split('; ');
    const [name, value] = pair!.split('=') as [string, string];
    if (attributes.includes('Max-Age=0')) jar.delete(name);
    else jar.set(name, value);
  }
  return [...jar].map(([n, v]) => `${n}=${v}`).join('; ');
}

describe('server-side rendering with the request-aware cookie storage', () => {
  it('bootstraps on the first request, then rotates an expiring pair and writes it back as Set-Cookie', async () => {
    // Request 1: no cookies.
    const set1: string[] = [];
    const sdk1 = createStorefrontSDK({
      baseUrl: stack.baseUrl,
      apiKey: API_KEY,
      now: stack.t.clock.now,
      tokenStorage: serverCookieStorage({ cookieHeader: undefined, setCookie: (c) => set1.push(c) }),
    });
    const first = await sdk1.request<{ sub: string }>('/test/echo');
    expect(first.error).toBeNull();
    expect(set1.map((c) => c.split('=')[0])).toEqual(['sfa_access_token', 'sfa_refresh_token']);
    expect(set1[0]).toMatch(/; Path=\/; Max-Age=\d+; SameSite=Lax; Secure$/);

    // Request 2, 50 s later, with the cookies of request 1, in a fetch-style handler.
    stack.t.clock.advance(50);
    const request = new Request('https://shop.example/', { headers: { cookie: cookieHeaderFrom(set1) } });
    const responseHeaders = new Headers();
    const sdk2 = createStorefrontSDK({
      baseUrl: stack.baseUrl,
      apiKey: API_KEY,
      now: stack.t.clock.now,
      tokenStorage: serverCookieStorageFromRequest(request, responseHeaders),
    });
    const second = await sdk2.request<{ sub: string }>('/test/echo');
    const third = await sdk2.request<{ sub: string }>('/test/echo');
    expect(second.data!.sub).toBe(first.data!.sub);
    expect(third.data!.sub).toBe(first.data!.sub);
    // One rotation for the whole render, however many calls it makes.
    expect(stack.reached.refresh).toBe(1);
    const set2 = responseHeaders.getSetCookie();
    expect(set2).toHaveLength(2);
    const jar = new Map(
      cookieHeaderFrom(set2)
        .split('; ')
        .map((p) => p.split('=') as [string, string]),
    );
    const refresh = decodeURIComponent(jar.get('sfa_refresh_token')!);
    expect(claimsOf(refresh)['sub']).toBe(first.data!.sub);
    expect(await serverAccepts(stack, refresh)).toBe(200);
  });

  it('clears both cookies when the server ends the session', async () => {
    const set: string[] = [];
    const storage = serverCookieStorage({
      cookieHeader: 'sfa_access_token=a.b.c; sfa_refresh_token=not.a.token',
      setCookie: (c) => set.push(c),
      httpOnlyRefresh: true,
    });
    const ended: string[] = [];
    const sdk = createStorefrontSDK({
      baseUrl: stack.baseUrl,
      apiKey: API_KEY,
      now: stack.t.clock.now,
      tokenStorage: storage,
      onSessionEnded: (r) => {
        ended.push(r);
      },
    });
    // The access token here is not a JWT, so the SDK cannot know it is bad until the 401.
    const r = await sdk.request('/test/echo');
    expect(ended).toEqual(['INVALID_REFRESH_TOKEN']);
    expect(r.response.status).toBe(401);
    expect(set.slice(0, 2).every((c) => c.includes('Max-Age=0'))).toBe(true);
    // The next call of the same render bootstraps a fresh session and sets it.
    const again = await sdk.request('/test/echo');
    expect(again.error).toBeNull();
    expect(set.at(-1)).toMatch(/^sfa_refresh_token=.*; HttpOnly$/);
  });
});
