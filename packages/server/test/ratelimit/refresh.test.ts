import { afterEach, describe, expect, it } from 'vitest';
import { anonymous, claims, makeTestApp, refresh, type TestApp } from '../helpers/app.js';

let t: TestApp;
afterEach(async () => {
  await t?.close();
});

describe('refresh rate limits', () => {
  it('per session: past the limit answers RATE_LIMITED with Retry-After, and the session survives', async () => {
    t = await makeTestApp({ REFRESH_RATE_LIMIT: '3' });
    let token = (await anonymous(t.app)).body.content.refresh_token as string;
    for (let i = 0; i < 3; i++) {
      const res = await refresh(t.app, token);
      expect(res.status).toBe(200);
      token = res.body.content.refresh_token;
    }
    const limited = await refresh(t.app, token);
    expect(limited.status).toBe(429);
    expect(limited.body).toMatchObject({ success: false, code: 'RATE_LIMITED' });
    expect(Number(limited.headers['retry-after'])).toBeGreaterThan(0);
    // Another session is not affected.
    const other = (await anonymous(t.app)).body.content.refresh_token;
    expect((await refresh(t.app, other)).status).toBe(200);
    // The limited token is still the current one once the window has passed.
    t.clock.advance(61);
    expect((await refresh(t.app, token)).status).toBe(200);
  });

  it('forged tokens naming a session do not use up its allowance', async () => {
    t = await makeTestApp({ REFRESH_RATE_LIMIT: '2' });
    const pair = (await anonymous(t.app)).body.content;
    const [h, p] = pair.refresh_token.split('.');
    for (let i = 0; i < 10; i++) {
      const forged = await refresh(t.app, `${h}.${p}.${Buffer.alloc(32, i).toString('base64url')}`);
      expect(forged.body.code).toBe('INVALID_REFRESH_TOKEN');
    }
    expect(claims(pair.refresh_token)['gen']).toBe(0);
    expect((await refresh(t.app, pair.refresh_token)).status).toBe(200);
  });

  it('per address: all sessions from one client address together', async () => {
    t = await makeTestApp({ REFRESH_IP_RATE_LIMIT: '4', REFRESH_RATE_LIMIT: '0' });
    const tokens = await Promise.all(
      Array.from({ length: 5 }, async () => (await anonymous(t.app)).body.content.refresh_token as string),
    );
    const answers = [];
    for (const token of tokens) answers.push((await refresh(t.app, token)).status);
    expect(answers).toEqual([200, 200, 200, 200, 429]);
  });
});
