import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { anonymous, makeTestApp, refresh } from '../helpers/app.js';

const dir = mkdtempSync(join(tmpdir(), 'sfa-restart-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('restart on the same SQLite file', () => {
  it('every pair issued before the restart still refreshes after it, and the keys are the same', async () => {
    const before = await makeTestApp({}, { dir });
    const pairs: string[] = [];
    for (let i = 0; i < 20; i++) {
      const { refresh_token } = (await anonymous(before.app)).body.content;
      // Half of them one rotation further along.
      pairs.push(
        i % 2 ? (await refresh(before.app, refresh_token)).body.content.refresh_token : refresh_token,
      );
    }
    const jwksBefore = (
      await before.app.inject({ url: '/api/v1/demo/storefront/.well-known/jwks.json' })
    ).json();
    await before.close();

    const after = await makeTestApp({}, { dir });
    try {
      after.clock.ms = before.clock.ms;
      const jwksAfter = (
        await after.app.inject({ url: '/api/v1/demo/storefront/.well-known/jwks.json' })
      ).json();
      expect(jwksAfter).toEqual(jwksBefore);
      for (const token of pairs) expect((await refresh(after.app, token)).status).toBe(200);
    } finally {
      await after.close();
    }
  });
});
