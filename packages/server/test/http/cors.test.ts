import { afterEach, describe, expect, it } from 'vitest';
import { BASE, makeTestApp, type TestApp } from '../helpers/app.js';

let t: TestApp;
afterEach(async () => {
  await t?.close();
});

const preflight = (origin: string) =>
  t.app.inject({
    method: 'OPTIONS',
    url: `${BASE}/auth/refresh-token`,
    headers: {
      origin,
      'access-control-request-method': 'POST',
      'access-control-request-headers': 'content-type,x-api-key',
    },
  });

describe('CORS, for storefronts calling from a browser', () => {
  it('allows any origin by default, with the headers the SDKs send', async () => {
    t = await makeTestApp();
    const res = await preflight('https://shop.example');
    expect(res.statusCode).toBe(204);
    expect(res.headers['access-control-allow-origin']).toBe('*');
    expect(String(res.headers['access-control-allow-headers'])).toMatch(/x-api-key/);
    const post = await t.app.inject({
      method: 'POST',
      url: `${BASE}/auth/refresh-token`,
      headers: { origin: 'https://shop.example' },
      payload: {},
    });
    expect(post.headers['access-control-allow-origin']).toBe('*');
    expect(String(post.headers['access-control-expose-headers'])).toMatch(/retry-after/);
    expect(String(post.headers['access-control-expose-headers'])).toMatch(/x-refresh-grace-seconds/);
  });

  it('allows only the listed origins when CORS_ORIGINS is set', async () => {
    t = await makeTestApp({ CORS_ORIGINS: 'https://shop.example,https://admin.shop.example' });
    expect((await preflight('https://shop.example')).headers['access-control-allow-origin']).toBe(
      'https://shop.example',
    );
    expect((await preflight('https://evil.example')).headers['access-control-allow-origin']).toBeUndefined();
  });
});
