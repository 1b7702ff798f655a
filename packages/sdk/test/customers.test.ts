import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { HTML, IMAGES, pngOfSize } from '../../server/test/helpers/images.js';
import {
  createStorefrontSDK,
  memoryStorage,
  type SessionEndReason,
  type TokenStorage,
} from '../src/index.js';
import { DEBUG, isCode, PASSWORD, signUp } from './helpers/customer.js';
import { API_KEY, claimsOf, type Stack, serverAccepts, startStack } from './helpers/stack.js';

// Real server, OTP debug mode on for the test store (as packages/server/test/customers/* do), so
// `x-debug-mode: true` answers the code in `data.otp`. Tokens, passwords and codes are compared,
// never printed: assertions on them go through booleans.
let stack: Stack;
beforeEach(async () => {
  stack = await startStack({ OTP_DEBUG: 'true' });
});
afterEach(() => stack.close());

const NEW_PASSWORD = 'staple battery horse';

interface Recorder {
  updated: string[];
  ended: SessionEndReason[];
}

function managedSdk(storage: TokenStorage = memoryStorage()) {
  const rec: Recorder = { updated: [], ended: [] };
  const sdk = createStorefrontSDK({
    baseUrl: stack.baseUrl,
    apiKey: API_KEY,
    tokenStorage: storage,
    now: stack.t.clock.now,
    sleep: async () => {},
    onTokensUpdated: (_tokens, info) => {
      rec.updated.push(info.source);
    },
    onSessionEnded: (reason) => {
      rec.ended.push(reason);
    },
  });
  return { sdk, rec, storage };
}

/** The requests the gateway saw to `path`, in order. */
const sentTo = (path: string) => stack.requests.filter((r) => r.path === path);
const bearerOf = (r: { headers: Record<string, unknown> } | undefined) => r?.headers['authorization'];

async function stored(storage: TokenStorage) {
  const tokens = await storage.getTokens();
  if (!tokens) throw new Error('no tokens stored');
  return { tokens, claims: claimsOf(tokens.access_token) };
}

describe('a customer through the SDK, managed', () => {
  it('anonymous -> register -> verify -> user details -> update -> change password -> logout', async () => {
    const { sdk, rec, storage } = managedSdk();
    await sdk.session.ensureAccessToken();
    const anonymous = await stored(storage);
    const anonymousId = anonymous.claims['ulid'];
    expect(anonymous.claims['is_anonymous']).toBe(true);

    // Register: the code comes back because this call asked for it.
    const started = await sdk.auth.registerWithPassword(
      { email: 'ada@example.com', password: PASSWORD, confirm_password: PASSWORD, first_name: 'Ada' },
      DEBUG,
    );
    expect(started.error).toBeNull();
    expect(started.data!.otp_action).toBe('register');
    expect(isCode(started.data!.otp)).toBe(true);
    expect(sentTo('/auth/register/password')[0]!.headers['x-debug-mode']).toBe('true');
    // Registering starts nothing yet: the anonymous session is still the SDK's.
    expect((await storage.getTokens())!.access_token === anonymous.tokens.access_token).toBe(true);

    // Verify: the customer pair is stored and carries the anonymous shopper's id.
    const verified = await sdk.auth.verifyOtp({
      otp: started.data!.otp!,
      otp_token: started.data!.otp_token,
      otp_action: 'register',
    });
    expect(verified.error).toBeNull();
    expect(bearerOf(sentTo('/auth/verify-otp')[0]) === `Bearer ${anonymous.tokens.access_token}`).toBe(true);
    const customer = await stored(storage);
    expect(customer.tokens.access_token === verified.data!.access_token).toBe(true);
    expect(customer.tokens.refresh_token === verified.data!.refresh_token).toBe(true);
    expect(customer.claims).toMatchObject({
      is_logged_in: true,
      is_anonymous: false,
      anonymous_id: anonymousId,
      email: 'ada@example.com',
    });
    expect(verified.data!.user).toMatchObject({ email: 'ada@example.com', is_logged_in: true });
    const userId = verified.data!.user.id;
    expect(customer.claims['ulid']).toBe(userId);
    expect(rec.updated.at(-1)).toBe('manual');
    expect((await sdk.session.info()).isLoggedIn).toBe(true);

    // The user, with the managed Bearer.
    const details = await sdk.auth.getUserDetails({ id: userId });
    expect(details.error).toBeNull();
    expect(details.data!.user).toMatchObject({ id: userId, email: 'ada@example.com', first_name: 'Ada' });
    expect(bearerOf(sentTo(`/auth/user/${userId}`)[0]) === `Bearer ${customer.tokens.access_token}`).toBe(
      true,
    );

    const updated = await sdk.auth.updateUserDetails({ id: userId }, { first_name: 'Augusta' });
    expect(updated.error).toBeNull();
    expect(updated.data!.user.first_name).toBe('Augusta');
    expect((await sdk.auth.getUserDetails({ id: userId })).data!.user.first_name).toBe('Augusta');

    const verifiedStatus = await sdk.auth.checkEmailOrPhoneIsVerified({ email: ['ada@example.com'] });
    expect(verifiedStatus.error).toBeNull();
    expect(verifiedStatus.data).toEqual({ verified_email: ['ada@example.com'], verified_phone: [] });

    // Another device of the same customer, to see what the password change does to other sessions.
    const other = managedSdk();
    expect(
      (await other.sdk.auth.loginWithPassword({ email: 'ada@example.com', password: PASSWORD })).error,
    ).toBeNull();

    // Change password: this SDK moves to the rotated pair and stays signed in.
    const changed = await sdk.auth.changePassword({
      old_password: PASSWORD,
      new_password: NEW_PASSWORD,
      confirm_password: NEW_PASSWORD,
    });
    expect(changed.error).toBeNull();
    const afterChange = await stored(storage);
    expect(afterChange.tokens.refresh_token === changed.data!.refresh_token).toBe(true);
    expect(afterChange.tokens.refresh_token === customer.tokens.refresh_token).toBe(false);
    expect(afterChange.claims).toMatchObject({ is_logged_in: true, ulid: userId });
    expect((await sdk.auth.getUserDetails({ id: userId })).error).toBeNull();
    // ...and the other device's session is over, which its SDK learns on its next refresh.
    stack.t.clock.advance(50);
    await other.sdk.session.ensureAccessToken();
    expect(other.rec.ended).toEqual(['SESSION_REVOKED']);
    expect(rec.ended).toEqual([]);

    // Logout: a brand-new anonymous pair is stored. (This SDK's token is due too after the 50 s.)
    await sdk.session.ensureAccessToken();
    const current = await stored(storage);
    const out = await sdk.auth.logout();
    expect(out.error).toBeNull();
    expect(bearerOf(sentTo('/auth/logout')[0]) === `Bearer ${current.tokens.access_token}`).toBe(true);
    const after = await stored(storage);
    expect(after.tokens.access_token === out.data!.access_token).toBe(true);
    expect(after.claims).toMatchObject({ is_anonymous: true, is_logged_in: false });
    expect(after.claims['ulid']).not.toBe(userId);
    expect(after.claims['ulid']).not.toBe(anonymousId);
    expect(out.data!.user.is_anonymous).toBe(true);
    expect(await serverAccepts(stack, current.tokens.refresh_token)).not.toBe(200);
    expect((await sdk.session.info()).isLoggedIn).toBe(false);
    expect(rec.ended).toEqual([]);

    // The new password signs in again, carrying the post-logout shopper.
    const again = await sdk.auth.loginWithPassword({ email: 'ada@example.com', password: NEW_PASSWORD });
    expect(again.error).toBeNull();
    expect((await stored(storage)).claims).toMatchObject({
      is_logged_in: true,
      ulid: userId,
      anonymous_id: after.claims['ulid'],
    });
  });

  it('a wrong password answers INVALID_CREDENTIALS and leaves the session as it was', async () => {
    const { sdk, rec, storage } = managedSdk();
    await signUp(sdk, 'ada@example.com');
    const before = await stored(storage);
    stack.reached.refresh = 0;

    const wrong = await sdk.auth.loginWithPassword({
      email: 'ada@example.com',
      password: 'not the password',
    });
    expect(wrong.data).toBeNull();
    expect(wrong.error).toMatchObject({ success: false, code: 'INVALID_CREDENTIALS' });
    expect(wrong.response.status).toBe(401);
    expect(sentTo('/auth/login/password')).toHaveLength(1); // not resent: the 401 is not about the token
    expect(stack.reached.refresh).toBe(0);
    const after = await stored(storage);
    expect(after.tokens.refresh_token === before.tokens.refresh_token).toBe(true);
    expect(after.claims['is_logged_in']).toBe(true);
    expect(rec.ended).toEqual([]);
    expect(await serverAccepts(stack, before.tokens.refresh_token)).toBe(200);
  });

  it('deleteUser ends the session: tokens cleared, onSessionEnded, then a new anonymous shopper', async () => {
    const { sdk, rec, storage } = managedSdk();
    const { user } = await signUp(sdk, 'ada@example.com');
    const customer = await stored(storage);

    const deleted = await sdk.auth.deleteUser({ id: user.id });
    expect(deleted.error).toBeNull();
    expect(deleted.data).toMatchObject({ success: true });
    expect(await storage.getTokens()).toBeNull();
    expect(rec.ended).toEqual(['SESSION_NOT_FOUND']);
    expect(await serverAccepts(stack, customer.tokens.refresh_token)).toBe(404);

    await sdk.session.ensureAccessToken();
    const next = await stored(storage);
    expect(next.claims).toMatchObject({ is_anonymous: true, is_logged_in: false });
    expect(next.claims['ulid']).not.toBe(user.id);
    const login = await sdk.auth.loginWithPassword({ email: 'ada@example.com', password: PASSWORD });
    expect(login.error!.code).toBe('INVALID_CREDENTIALS');
  });

  it('deactivateUserAccount ends the session the same way; the account can no longer sign in', async () => {
    const { sdk, rec, storage } = managedSdk();
    const { user } = await signUp(sdk, 'ada@example.com');

    const deactivated = await sdk.auth.deactivateUserAccount({ id: user.id });
    expect(deactivated.error).toBeNull();
    expect(deactivated.data).toMatchObject({ success: true });
    expect(await storage.getTokens()).toBeNull();
    expect(rec.ended).toEqual(['SESSION_REVOKED']);
    const login = await sdk.auth.loginWithPassword({ email: 'ada@example.com', password: PASSWORD });
    expect(login.error!.code).toBe('INVALID_CREDENTIALS');
  });

  it('a refused delete keeps the session (only a 2xx ends it)', async () => {
    const { sdk, rec, storage } = managedSdk();
    await signUp(sdk, 'ada@example.com');
    const before = await stored(storage);
    const refused = await sdk.auth.deleteUser({ id: 'someone-else' });
    expect(refused.error!.code).toBe('USER_NOT_FOUND');
    expect((await storage.getTokens())!.refresh_token === before.tokens.refresh_token).toBe(true);
    expect(rec.ended).toEqual([]);
  });

  it('customer calls refresh a due access token first, like any managed request', async () => {
    const { sdk, storage } = managedSdk();
    const { user } = await signUp(sdk, 'ada@example.com');
    const before = await stored(storage);
    stack.t.clock.advance(50); // TTL 60: due
    stack.reached.refresh = 0;
    const details = await sdk.auth.getUserDetails({ id: user.id });
    expect(details.error).toBeNull();
    expect(stack.reached.refresh).toBe(1);
    const after = await stored(storage);
    expect(after.tokens.refresh_token === before.tokens.refresh_token).toBe(false);
    expect(after.claims).toMatchObject({ is_logged_in: true, ulid: user.id });
  });

  it('a customer-only call with an anonymous session: the 401 comes back without a pointless refresh', async () => {
    const { sdk, storage } = managedSdk();
    await sdk.session.ensureAccessToken();
    const before = await stored(storage);
    stack.reached.refresh = 0;
    const res = await sdk.auth.getUserDetails({ id: String(before.claims['ulid']) });
    expect(res.error!.code).toBe('UNAUTHORIZED');
    expect(res.response.status).toBe(401);
    expect(stack.reached.refresh).toBe(0);
    expect((await storage.getTokens())!.refresh_token === before.tokens.refresh_token).toBe(true);
  });

  it('sign-in calls never bootstrap a session; with none stored they go without a Bearer', async () => {
    const { sdk, storage } = managedSdk();
    const started = await sdk.auth.registerWithEmail({ email: 'ada@example.com', first_name: 'Ada' }, DEBUG);
    expect(started.error).toBeNull();
    expect(stack.seen.anonymous).toBe(0);
    expect(bearerOf(sentTo('/auth/register/email')[0])).toBeUndefined();
    const verified = await sdk.auth.verifyOtp({
      otp: started.data!.otp!,
      otp_token: started.data!.otp_token,
      otp_action: 'register',
    });
    expect(verified.error).toBeNull();
    expect(stack.seen.anonymous).toBe(0);
    const customer = await stored(storage);
    expect(customer.claims['is_logged_in']).toBe(true);
    // No anonymous shopper was carried over: the session starts a lineage of its own (never null).
    expect(customer.claims['anonymous_id']).toEqual(expect.any(String));
    expect(customer.claims['anonymous_id']).not.toBe(customer.claims['ulid']);
  });
});

describe('codes and x-debug-mode', () => {
  it('x-debug-mode is sent only on the call that passes it, as a string', async () => {
    const { sdk } = managedSdk();
    const plain = await sdk.auth.registerWithEmail({ email: 'a@example.com', first_name: 'A' });
    const off = await sdk.auth.registerWithEmail(
      { email: 'b@example.com', first_name: 'B' },
      { 'x-debug-mode': false },
    );
    const on = await sdk.auth.registerWithEmail({ email: 'c@example.com', first_name: 'C' }, DEBUG);
    const sent = sentTo('/auth/register/email').map((r) => r.headers['x-debug-mode']);
    expect(sent).toEqual([undefined, 'false', 'true']);
    expect(plain.data!.otp).toBeUndefined();
    expect(off.data!.otp).toBeUndefined();
    expect(isCode(on.data!.otp)).toBe(true);
    for (const r of [plain, off, on]) expect(typeof r.data!.otp_token).toBe('string');
  });

  it('every code-sending method answers an otp_token, and its code works where it should', async () => {
    const { sdk, storage } = managedSdk();
    await signUp(sdk, 'ada@example.com');
    // Signed in: generate-otp for verifying the current email needs the customer's Bearer.
    const verifyEmail = await sdk.auth.generateOtp(
      { channel: 'email', email: 'ada@example.com', otp_action: 'verify-email' },
      DEBUG,
    );
    expect(verifyEmail.error).toBeNull();
    expect(verifyEmail.data!.otp_action).toBe('verify-email');
    expect(isCode(verifyEmail.data!.otp)).toBe(true);
    expect((await sdk.auth.logout()).error).toBeNull();

    const phone = { phone: '9876543210', country_code: '+91' };
    const results = {
      registerWithPhone: await sdk.auth.registerWithPhone({ ...phone, first_name: 'Bo' }, DEBUG),
      registerWithWhatsapp: await sdk.auth.registerWithWhatsapp(
        { phone: '9876543211', first_name: 'Cy' },
        DEBUG,
      ),
      loginWithEmail: await sdk.auth.loginWithEmail({ email: 'ada@example.com' }, DEBUG),
      loginWithPhone: await sdk.auth.loginWithPhone({ ...phone, register_if_not_exists: true }, DEBUG),
      loginWithWhatsApp: await sdk.auth.loginWithWhatsApp(
        { phone: '9876543212', register_if_not_exists: true },
        DEBUG,
      ),
      generateOtp: await sdk.auth.generateOtp(
        { channel: 'email', email: 'ada@example.com', otp_action: 'reset-password' },
        DEBUG,
      ),
    };
    for (const [name, r] of Object.entries(results)) {
      expect(r.error, name).toBeNull();
      expect(typeof r.data!.otp_token, name).toBe('string');
      expect(isCode(r.data!.otp), name).toBe(true);
    }

    // A login code signs in through verifyOtp and replaces the anonymous session.
    const anonymousId = (await stored(storage)).claims['ulid'];
    const login = results.loginWithEmail.data!;
    const signedIn = await sdk.auth.verifyOtp({
      otp: login.otp!,
      otp_token: login.otp_token,
      otp_action: 'login',
    });
    expect(signedIn.error).toBeNull();
    expect((await stored(storage)).claims).toMatchObject({ is_logged_in: true, anonymous_id: anonymousId });

    // forgotPassword -> resetPassword signs in with the new password, and the pair is stored.
    expect((await sdk.auth.logout()).error).toBeNull();
    const forgot = await sdk.auth.forgotPassword({ email: 'ada@example.com' }, DEBUG);
    expect(forgot.error).toBeNull();
    expect(isCode(forgot.data!.otp)).toBe(true);
    const reset = await sdk.auth.resetPassword({
      otp: forgot.data!.otp!,
      otp_token: forgot.data!.otp_token,
      new_password: NEW_PASSWORD,
      confirm_password: NEW_PASSWORD,
    });
    expect(reset.error).toBeNull();
    const afterReset = await stored(storage);
    expect(afterReset.tokens.access_token === reset.data!.access_token).toBe(true);
    expect(afterReset.claims['is_logged_in']).toBe(true);
    expect(
      (await sdk.auth.loginWithPassword({ email: 'ada@example.com', password: NEW_PASSWORD })).error,
    ).toBeNull();
  });

  it('a wrong code answers OTP_INVALID and stores nothing', async () => {
    const { sdk, storage } = managedSdk();
    await sdk.session.ensureAccessToken();
    const before = await stored(storage);
    const started = await sdk.auth.loginWithEmail(
      { email: 'ada@example.com', register_if_not_exists: true },
      DEBUG,
    );
    const wrong = started.data!.otp === '000000' ? '111111' : '000000';
    const res = await sdk.auth.verifyOtp({
      otp: wrong,
      otp_token: started.data!.otp_token,
      otp_action: 'login',
    });
    expect(res.error!.code).toBe('OTP_INVALID');
    expect((await storage.getTokens())!.access_token === before.tokens.access_token).toBe(true);
  });
});

describe('manual mode (no tokenStorage)', () => {
  it('answers typed results and stores nothing; the Bearer is the caller’s business', async () => {
    const managed = managedSdk();
    const { user } = await signUp(managed.sdk, 'ada@example.com');

    const sdk = createStorefrontSDK({ baseUrl: stack.baseUrl, apiKey: API_KEY });
    const login = await sdk.auth.loginWithPassword({ email: 'ada@example.com', password: PASSWORD });
    expect(login.error).toBeNull();
    expect(claimsOf(login.data!.access_token)['is_logged_in']).toBe(true);
    expect(login.data!.user.id).toBe(user.id);
    expect(await sdk.session.getTokens()).toBeNull();
    const noBearer = await sdk.auth.getUserDetails({ id: user.id });
    expect(noBearer.error!.code).toBe('UNAUTHORIZED');
    expect(bearerOf(sentTo(`/auth/user/${user.id}`).at(-1))).toBeUndefined();
  });

  it('resolves NETWORK_ERROR, never throws, when the connection is cut', async () => {
    const sdk = createStorefrontSDK({ baseUrl: stack.baseUrl });
    stack.fault('other', { kind: 'drop-before' });
    const res = await sdk.auth.loginWithPassword({ email: 'ada@example.com', password: PASSWORD });
    expect(res.data).toBeNull();
    expect(res.error!.code).toBe('NETWORK_ERROR');
    expect(res.response.status).toBe(503);
  });

  it('encodes the id into the path', async () => {
    const sdk = createStorefrontSDK({ baseUrl: stack.baseUrl });
    await sdk.auth.getUserDetails({ id: 'a/b?c' });
    expect(stack.requests.at(-1)!.path).toBe('/auth/user/a%2Fb%3Fc');
  });
});

describe('profile images through the SDK, managed', () => {
  it('add, get, fetch the bytes, update, delete; a file that is not an image comes back as an error', async () => {
    const { sdk } = managedSdk();
    const { user } = await signUp(sdk, 'ada@example.com');
    const id = user.id;
    expect(user.profile_image_url).toBeNull();

    const added = await sdk.auth.addProfileImage({ id }, { image: new Blob([IMAGES['image/png']]) });
    expect(added.error).toBeNull();
    const url = added.data!.profile_image_url;
    const got = await sdk.auth.getProfileImage({ id });
    expect(got.data!.profile_image_url).toBe(url);
    expect((await sdk.auth.getUserDetails({ id })).data!.user.profile_image_url).toBe(url);
    const file = await fetch(url);
    expect(file.headers.get('content-type')).toBe('image/png');
    expect(new Uint8Array(await file.arrayBuffer())).toEqual(IMAGES['image/png']);

    const updated = await sdk.auth.updateProfileImage(
      { id },
      { image: new File([IMAGES['image/gif']], 'me.gif', { type: 'image/gif' }) },
    );
    expect(updated.data!.profile_image_url).toBe(url);
    expect((await fetch(url)).headers.get('content-type')).toBe('image/gif');

    const html = await sdk.auth.updateProfileImage(
      { id },
      { image: new File([HTML], 'avatar.png', { type: 'image/png' }) },
    );
    expect(html.data).toBeNull();
    expect(html.error!.code).toBe('UNSUPPORTED_IMAGE_TYPE');
    expect(html.response.status).toBe(400);
    expect((await fetch(url)).headers.get('content-type')).toBe('image/gif');
    const tooBig = await sdk.auth.addProfileImage(
      { id },
      { image: new Blob([pngOfSize(stack.t.config.profileImageMaxBytes + 1)]) },
    );
    expect([tooBig.response.status, tooBig.error?.code]).toEqual([400, 'IMAGE_TOO_LARGE']);
    expect((await fetch(url)).headers.get('content-type')).toBe('image/gif');

    const removed = await sdk.auth.deleteProfileImage({ id });
    expect(removed.error).toBeNull();
    expect(removed.data).toMatchObject({ success: true });
    expect((await sdk.auth.getProfileImage({ id })).error!.code).toBe('PROFILE_IMAGE_NOT_FOUND');
    expect((await fetch(url)).status).toBe(404);
  });
});
