import { afterEach, describe, expect, it } from 'vitest';
import { anonymous, makeTestApp, refresh, type TestApp } from '../helpers/app.js';

let t: TestApp;
afterEach(async () => {
  await t?.close();
});

const scrape = async () => (await t.app.inject({ url: '/metrics' })).body;
const value = (text: string, series: string) => {
  const line = text.split('\n').find((l) => l.startsWith(`${series} `));
  return line ? Number(line.slice(series.length + 1)) : 0;
};

describe('/metrics', () => {
  it('counts refresh outcomes and reuse detections, and times routes', async () => {
    t = await makeTestApp();
    const pair = (await anonymous(t.app)).body.content;
    await refresh(t.app, pair.refresh_token);
    await refresh(t.app, pair.refresh_token); // replayed within grace
    const before = await scrape();
    expect(value(before, 'storefront_auth_refresh_total{outcome="rotated"}')).toBe(1);
    expect(value(before, 'storefront_auth_refresh_total{outcome="replayed"}')).toBe(1);
    expect(value(before, 'storefront_auth_reuse_detected_total{store="demo"}')).toBe(0);

    t.clock.advance(60);
    expect((await refresh(t.app, pair.refresh_token)).body.code).toBe('REFRESH_TOKEN_REUSED');
    const after = await scrape();
    expect(value(after, 'storefront_auth_reuse_detected_total{store="demo"}')).toBe(1);
    expect(value(after, 'storefront_auth_refresh_total{outcome="REFRESH_TOKEN_REUSED"}')).toBe(1);
    expect(after).toMatch(
      /storefront_auth_http_request_duration_seconds_count\{route="\/api\/v1\/:store_id\/storefront\/auth\/refresh-token",method="POST",status="200"\} 2/,
    );
  });

  it('estimates active sessions when given the operator side of the store', async () => {
    t = await makeTestApp();
    await t.app.close();
    const { buildApp } = await import('../../src/app.js');
    const app = await buildApp({
      config: t.config,
      db: t.db,
      clock: t.clock,
      operator: t.db.operator(),
    });
    t.app = app;
    for (let i = 0; i < 3; i++) await anonymous(app);
    expect(value(await scrape(), 'storefront_auth_active_sessions')).toBe(3);
  });
});
