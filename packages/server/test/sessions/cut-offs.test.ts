import { describe, expect, it } from 'vitest';
import { limitValuesOf } from '../../src/config.js';
import { ensureStore } from '../../src/tenants/bootstrap.js';
import { TenantDirectory, tokenPolicyOf } from '../../src/tenants/directory.js';
import { issueTokenPair } from '../../src/tokens/issue.js';
import { anonymous, appPerTest, claims, refresh, type TestApp } from '../helpers/app.js';
import {
  anonymousPair,
  call,
  PASSWORD,
  registerCustomer,
  resetPasswordByCode,
} from '../helpers/customers.js';

const NEW = 'a brand new passphrase';

/** The pre-change token is refused for good; the new pair refreshes, before and after it is presented. */
async function expectCutOff(t: TestApp, before: string, after: string) {
  const old = await refresh(t.app, before);
  expect(old.status).toBe(400);
  expect(old.body.code).toBe('SESSION_REVOKED');
  const next = await refresh(t.app, after);
  expect(next.status, JSON.stringify(next.body)).toBe(200);
  expect(next.body.content.refresh_token).not.toBe(after);
  // Later, past the grace window, the old token still only answers its own dead session.
  t.clock.advance(3600);
  expect((await refresh(t.app, before)).body.code).toBe('SESSION_REVOKED');
  expect((await refresh(t.app, next.body.content.refresh_token)).status).toBe(200);
}

describe('change-password and reset-password end the old chain', () => {
  let t: TestApp;
  appPerTest((app) => (t = app), { OTP_DEBUG: 'true' });

  it('change-password does not cut off the pre-change refresh token (regression)', async () => {
    const me = await registerCustomer(t.app);
    const changed = await call(
      t.app,
      'POST',
      '/auth/change-password',
      { old_password: PASSWORD, new_password: NEW, confirm_password: NEW },
      { bearer: me.access_token },
    );
    expect(changed.status).toBe(200);
    // A new session, not the next generation of the old one.
    expect(claims(changed.body.content.refresh_token)['sid']).not.toBe(claims(me.refresh_token)['sid']);
    // The anonymous id the customer came with follows the new session.
    expect(claims(changed.body.content.access_token)['anonymous_id']).toBe(
      claims(me.access_token)['anonymous_id'],
    );
    await expectCutOff(t, me.refresh_token, changed.body.content.refresh_token);
    expect(
      (await call(t.app, 'GET', `/auth/user/${me.user.id}`, undefined, { bearer: me.access_token })).status,
    ).toBe(401);
  });

  it('reset-password does not cut off the pre-reset refresh token (regression)', async () => {
    const me = await registerCustomer(t.app);
    const reset = await resetPasswordByCode(t.app, { email: 'ada@example.com' }, NEW);
    expect(reset.status).toBe(200);
    await expectCutOff(t, me.refresh_token, reset.body.content.refresh_token);
  });
});

describe('anonymous continuity revives dead sessions (regression)', () => {
  describe('past the absolute lifetime', () => {
    let t: TestApp;
    appPerTest((app) => (t = app), { ACCESS_TOKEN_TTL: '60', SESSION_MAX_AGE: '600', OTP_DEBUG: 'true' });

    it('POST /auth/anonymous hands on nothing from a session past its absolute lifetime', async () => {
      const first = await anonymousPair(t.app);
      t.clock.advance(590);
      // Alive: the same shopper goes on.
      const alive = await anonymous(t.app, { authorization: `Bearer ${first.access_token}` });
      expect(alive.body.content.user.id).toBe(first.user.id);
      t.clock.advance(20);
      expect((await refresh(t.app, first.refresh_token)).body.code).toBe('REFRESH_TOKEN_EXPIRED');
      const later = await anonymous(t.app, { authorization: `Bearer ${first.access_token}` });
      expect(later.status).toBe(200);
      expect(later.body.content.user.id).not.toBe(first.user.id);
    });

    it('signing in carries no anonymous id from a session past its absolute lifetime', async () => {
      const shopper = await anonymousPair(t.app);
      t.clock.advance(601);
      const me = await registerCustomer(t.app, 'ada@example.com', { bearer: shopper.access_token });
      // anonymous_id is always a string (the official SDK's type); here a fresh lineage, not the dead shopper's.
      expect(claims(me.access_token)['anonymous_id']).not.toBe(claims(shopper.access_token)['ulid']);
    });
  });

  describe('past the idle lifetime', () => {
    let t: TestApp;
    appPerTest((app) => (t = app), { ACCESS_TOKEN_TTL: '60', REFRESH_TOKEN_TTL: '600' });

    it('POST /auth/anonymous hands on nothing from an idle-expired session', async () => {
      const first = await anonymousPair(t.app);
      // The access token expired 541 s ago (less than the idle lifetime), but its session died at 600 s.
      t.clock.advance(601);
      const later = await anonymous(t.app, { authorization: `Bearer ${first.access_token}` });
      expect(later.body.content.user.id).not.toBe(first.user.id);
    });
  });
});

describe('a validly signed token naming another store’s session rotates that session before being refused (regression)', () => {
  let t: TestApp;
  appPerTest((app) => (t = app));

  async function tenants() {
    await ensureStore(t.db, t.clock, 'other', 'other-api-key-0123456789');
    const directory = new TenantDirectory(t.db, t.clock, t.config.issuer, limitValuesOf(t.config));
    return { demo: await directory.require('demo'), other: await directory.require('other') };
  }

  it('another store’s session: SESSION_NOT_FOUND, and that session is untouched', async () => {
    const { demo } = await tenants();
    const victim = (
      await t.app.inject({
        method: 'POST',
        url: '/api/v1/other/storefront/auth/anonymous',
        headers: { 'x-api-key': 'other-api-key-0123456789' },
      })
    ).json().content;
    const found = (await t.db.getSession(String(claims(victim.refresh_token)['sid'])))!;
    // Signed with demo's own key (what a leak of it, or a bug minting for the wrong store, would give).
    const forged = issueTokenPair(demo.keyring, tokenPolicyOf(demo, 900), found.session, found.user);
    const res = await refresh(t.app, forged.refresh_token);
    expect(res.status).toBe(404);
    expect(res.body.code).toBe('SESSION_NOT_FOUND');
    expect((await t.db.getSession(found.session.id))?.session.generation).toBe(0);
    const own = await t.app.inject({
      method: 'POST',
      url: '/api/v1/other/storefront/auth/refresh-token',
      payload: { refresh_token: victim.refresh_token },
    });
    expect(own.statusCode).toBe(200);
    expect((await t.db.getSession(found.session.id))?.session.generation).toBe(1);
  });

  it('another user’s session of the same store: SESSION_NOT_FOUND, and that session is untouched', async () => {
    const { demo } = await tenants();
    const victim = await anonymousPair(t.app);
    const intruder = await anonymousPair(t.app);
    const session = (await t.db.getSession(String(claims(victim.refresh_token)['sid'])))!.session;
    const intruderUser = (await t.db.getUser(intruder.user.id))!;
    const forged = issueTokenPair(demo.keyring, tokenPolicyOf(demo, 900), session, intruderUser);
    expect((await refresh(t.app, forged.refresh_token)).body.code).toBe('SESSION_NOT_FOUND');
    expect((await t.db.getSession(session.id))?.session.generation).toBe(0);
    expect((await refresh(t.app, victim.refresh_token)).status).toBe(200);
  });
});
