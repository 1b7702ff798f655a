import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import type { SqliteDatabase } from '../../src/storage/sqlite/store.js';
import { anonymous, claims, makeTestApp, type TestApp } from '../helpers/app.js';
import { call, PASSWORD, passwordLogin, registerCustomer } from '../helpers/customers.js';

let t: TestApp;
afterEach(async () => {
  await t?.close();
});

const events = () =>
  (t.db as SqliteDatabase).sqlite
    .prepare('SELECT type, user_id, session_id, detail FROM security_events ORDER BY id')
    .all() as {
    type: string;
    user_id: string | null;
    session_id: string | null;
    detail: string;
  }[];

const warnings = () => t.logs.map((l) => JSON.parse(l)).filter((l) => l.security_event);

describe('security events', () => {
  it('a password change is stored and logged, with the number of sessions it ended (the caller’s included)', async () => {
    t = await makeTestApp({ OTP_DEBUG: 'true' });
    const customer = await registerCustomer(t.app);
    // A second device.
    await passwordLogin(t.app);
    const res = await call(
      t.app,
      'POST',
      '/auth/change-password',
      {
        old_password: PASSWORD,
        new_password: 'another long password',
        confirm_password: 'another long password',
      },
      { bearer: customer.access_token },
    );
    expect(res.status).toBe(200);
    const changed = events().filter((e) => e.type === 'password_changed');
    expect(changed).toHaveLength(1);
    expect(changed[0]!.user_id).toBe(customer.user.id);
    expect(JSON.parse(changed[0]!.detail)).toEqual({ via: 'change-password', sessions_revoked: 2 });
    expect(warnings().map((w) => w.security_event.type)).toContain('password_changed');
    expect(t.logs.join('')).not.toContain('another long password');
  });

  it('revocations by an operator are stored, one event per command', async () => {
    t = await makeTestApp();
    const a = (await anonymous(t.app)).body.content;
    const b = (await anonymous(t.app)).body.content;
    const cli = fileURLToPath(new URL('../../dist/cli/main.js', import.meta.url));
    const run = (...args: string[]) =>
      spawnSync(process.execPath, [cli, ...args], {
        env: { PATH: process.env.PATH, DATABASE_URL: `sqlite:${join(t.dir, 'auth.db')}` },
        encoding: 'utf8',
      });
    expect(run('sessions', 'revoke', claims(a.refresh_token)['sid'] as string).status).toBe(0);
    const byUser = run('sessions', 'revoke', '--user', b.user.id);
    expect(byUser.status).toBe(0);
    expect(byUser.stderr).toContain('sessions_revoked');
    expect(events().map((e) => [e.type, e.user_id])).toEqual([
      ['session_revoked', a.user.id],
      ['sessions_revoked', b.user.id],
    ]);
  });
});
