import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { SqliteDatabase } from '../../src/storage/sqlite/store.js';
import { appPerTest, makeTestApp, type TestApp } from '../helpers/app.js';
import { call, DEBUG, PASSWORD, registerCustomer } from '../helpers/customers.js';
import { sqliteAtVersion } from '../helpers/legacy-sqlite.js';
import { emailSquatter, preHijackScenarios, VICTIM_EMAIL } from './pre-hijack.js';

describe('identifiers are claimed only when proven (SQLite file)', () => {
  let t: TestApp;
  appPerTest((app) => (t = app), { OTP_DEBUG: 'true' });
  preHijackScenarios(() => t);

  it('records a security event on the account the pending email left', async () => {
    const { squatter } = await emailSquatter(t);
    const owner = await registerCustomer(t.app, VICTIM_EMAIL);
    const rows = (t.db as SqliteDatabase).sqlite
      .prepare("SELECT user_id, detail FROM security_events WHERE type = 'pending_identifier_dropped'")
      .all() as Array<{ user_id: string; detail: string }>;
    expect(rows).toEqual([
      { user_id: squatter.user.id, detail: JSON.stringify({ kind: 'email', claimed_by: owner.user.id }) },
    ]);
    expect(t.logs.join('')).not.toContain(VICTIM_EMAIL);
  });
});

describe('accounts written before identifiers needed proof (migration 4)', () => {
  let t: TestApp | undefined;
  let dir: string | undefined;
  afterEach(async () => {
    await t?.close();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('an unverified email held from before is pending: it blocks no registration and opens no login', async () => {
    dir = mkdtempSync(join(tmpdir(), 'sfa-legacy-'));
    const path = join(dir, 'auth.db');
    // A database as migration 3 left it, with a phone customer who typed the owner's email.
    const legacy = sqliteAtVersion(path, 3);
    legacy.exec(`INSERT INTO stores (id, name, created_at) VALUES ('demo', 'demo', 0);
      INSERT INTO users (id, store_id, is_anonymous, email, phone, country_code, is_email_verified,
        is_phone_verified, created_at, modified_at, password_hash, status, login_methods)
      VALUES ('legacy-squatter', 'demo', 0, '${VICTIM_EMAIL}', '9876500009', '+91', 0, 1, 0, 0,
        'not-a-real-hash', 'active', '["phone","password"]');`);
    legacy.close();

    t = await makeTestApp({ OTP_DEBUG: 'true' }, { dir, db: new SqliteDatabase({ path }) });
    expect(
      (await call(t.app, 'POST', '/auth/login/password', { email: VICTIM_EMAIL, password: PASSWORD })).body
        .code,
    ).toBe('INVALID_CREDENTIALS');
    const owner = await registerCustomer(t.app, VICTIM_EMAIL);
    expect(owner.user.id).not.toBe('legacy-squatter');
    expect((await t.db.getAccount('legacy-squatter'))?.user.email).toBeNull();
    const code = (await call(t.app, 'POST', '/auth/login/email', { email: VICTIM_EMAIL }, { headers: DEBUG }))
      .body.content;
    const login = await call(t.app, 'POST', '/auth/verify-otp', { ...code, otp_action: 'login' });
    expect(login.body.content.user.id).toBe(owner.user.id);
  });
});
