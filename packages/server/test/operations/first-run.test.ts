import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { CLI_ENTRY, killAllServers, postToStore, startServer } from '../helpers/process.js';

const dir = mkdtempSync(join(tmpdir(), 'sfa-first-'));
afterAll(async () => {
  await killAllServers();
  rmSync(dir, { recursive: true, force: true });
});

const anonymousWith = async (url: string, apiKey: string) =>
  (await postToStore(url, apiKey, '/auth/anonymous')).status;

describe('the first run, as the README tells it', () => {
  it('the key the first start prints opens sessions; API_KEY replaces the key an earlier API_KEY made valid', async () => {
    const DATABASE_URL = `sqlite:${join(dir, 'auth.db')}`;
    const first = await startServer({ DATABASE_URL });
    const printed = /Its API key \(shown once, stored only as a hash\):\n\n {2}(pk_\S+)\n/.exec(
      first.output(),
    )?.[1];
    expect(printed).toBeDefined();
    expect(await anonymousWith(first.url, printed!)).toBe(200);
    await first.stop();

    const [a, b] = ['first-chosen-key-0123456789', 'second-chosen-key-0123456789'];
    const withA = await startServer({ DATABASE_URL, API_KEY: a });
    expect(withA.output()).not.toContain('shown once'); // nothing new to print
    expect(await anonymousWith(withA.url, a)).toBe(200);
    await withA.stop();
    // Restarted with another API_KEY: it is valid, the previous API_KEY's key is not, and the key
    // printed on the first start (not made by API_KEY) still is.
    const withB = await startServer({ DATABASE_URL, API_KEY: b });
    expect(await anonymousWith(withB.url, b)).toBe(200);
    expect(await anonymousWith(withB.url, a)).toBe(401);
    expect(await anonymousWith(withB.url, printed!)).toBe(200);
    // Restarting with the same one changes nothing.
    await withB.stop();
    const again = await startServer({ DATABASE_URL, API_KEY: b });
    expect(await anonymousWith(again.url, b)).toBe(200);
    await again.stop();

    const list = spawnSync(process.execPath, [CLI_ENTRY, 'api-key', 'list', 'demo', '--json'], {
      env: { PATH: process.env['PATH'] ?? '', DATABASE_URL },
      encoding: 'utf8',
    });
    const keys = JSON.parse(list.stdout) as { label: string; prefix: string; revoked_at: string | null }[];
    expect(keys.map((k) => [k.label, k.prefix, k.revoked_at === null])).toEqual([
      ['first start', printed!.slice(0, 10), true],
      ['API_KEY', a.slice(0, 10), false],
      ['API_KEY', b.slice(0, 10), true],
    ]);
  });
});
