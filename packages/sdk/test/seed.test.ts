import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createStorefrontSDK } from '../src/index.js';
import { API_KEY, claimsOf, type Stack, startStack } from './helpers/stack.js';

let stack: Stack;
beforeAll(async () => {
  stack = await startStack();
});
afterAll(() => stack.close());

describe('sdk.auth.refreshToken, as the seed shows it', () => {
  it('resolves {data, error} with the unwrapped content on success', async () => {
    const sdk = createStorefrontSDK({ baseUrl: stack.baseUrl, apiKey: API_KEY });
    const anon = await sdk.auth.getAnonymousToken();
    expect(anon.error).toBeNull();
    const refresh_token = anon.data!.refresh_token;

    // The seed's example, in shape:
    const { data, error } = await sdk.auth.refreshToken({
      refresh_token,
    });
    if (error) {
      expect.unreachable(`Token refresh failed: ${error.message}`);
    } else {
      expect(typeof data.access_token).toBe('string');
      expect(typeof data.refresh_token).toBe('string');
      expect(data.refresh_token).not.toBe(refresh_token);
      expect(claimsOf(data.access_token)['ulid']).toBe(anon.data!.user.id);
      expect(Object.keys(data).sort()).toEqual(['access_token', 'refresh_token']);
    }
  });

  it('resolves the server error body (never throws) on a bad token', async () => {
    const sdk = createStorefrontSDK({ baseUrl: stack.baseUrl });
    const { data, error, response } = await sdk.auth.refreshToken({
      refresh_token: 'eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9...',
    });
    expect(data).toBeNull();
    expect(error).toMatchObject({ success: false, code: 'INVALID_REFRESH_TOKEN' });
    expect(typeof error!.message).toBe('string');
    expect(response.status).toBe(400);
  });

  it('tolerates a trailing slash on baseUrl', async () => {
    const sdk = createStorefrontSDK({ baseUrl: `${stack.baseUrl}/`, apiKey: API_KEY });
    const { error } = await sdk.auth.getAnonymousToken();
    expect(error).toBeNull();
  });

  it('gives getAnonymousToken the user from the OpenAPI document', async () => {
    const sdk = createStorefrontSDK({ baseUrl: stack.baseUrl, apiKey: API_KEY });
    const { data } = await sdk.auth.getAnonymousToken();
    expect(data!.user.is_anonymous).toBe(true);
    expect(claimsOf(data!.access_token)['ulid']).toBe(data!.user.id);
  });

  it('reports a missing API key as the server error UNAUTHORIZED', async () => {
    const sdk = createStorefrontSDK({ baseUrl: stack.baseUrl });
    const { data, error, response } = await sdk.auth.getAnonymousToken();
    expect(data).toBeNull();
    expect(error!.code).toBe('UNAUTHORIZED');
    expect(response.status).toBe(401);
  });

  it('resolves NETWORK_ERROR when the connection is cut', async () => {
    const sdk = createStorefrontSDK({ baseUrl: stack.baseUrl });
    stack.fault('refresh', { kind: 'drop-before' });
    const { data, error, response } = await sdk.auth.refreshToken({ refresh_token: 'x' });
    expect(data).toBeNull();
    expect(error!.code).toBe('NETWORK_ERROR');
    expect(response.status).toBe(503);
  });

  it('resolves NETWORK_ERROR when nothing listens', async () => {
    const sdk = createStorefrontSDK({ baseUrl: 'http://127.0.0.1:9/api/v1/demo/storefront' });
    const { error } = await sdk.auth.refreshToken({ refresh_token: 'x' });
    expect(error!.code).toBe('NETWORK_ERROR');
  });

  it('resolves NETWORK_ERROR on a timeout', async () => {
    const sdk = createStorefrontSDK({ baseUrl: stack.baseUrl, timeoutMs: 200 });
    stack.fault('refresh', { kind: 'hang' });
    const { error } = await sdk.auth.refreshToken({ refresh_token: 'x' });
    expect(error!.code).toBe('NETWORK_ERROR');
  });

  it('turns a non-JSON error page into an error with a code, not a success', async () => {
    const sdk = createStorefrontSDK({ baseUrl: stack.baseUrl });
    stack.fault('refresh', { kind: 'html', status: 502 });
    const { data, error } = await sdk.auth.refreshToken({ refresh_token: 'x' });
    expect(data).toBeNull();
    expect(error).toMatchObject({ success: false, code: 'HTTP_ERROR' });
  });

  it('throws only on misuse', () => {
    expect(() => createStorefrontSDK({ baseUrl: '' })).toThrow(TypeError);
  });
});
