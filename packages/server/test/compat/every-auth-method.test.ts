/**
 * Every method of the official SDK's `auth` namespace (`@commercengine/storefront-sdk` 0.15.0),
 * in manual and in managed mode, against our real server over HTTP on 127.0.0.1. Each success is
 * checked against the type the SDK declares for it (declared-types.ts reads them from its
 * index.d.mts): a missing route, a status the SDK treats as failure, or a null where the SDK
 * promises a string fails here. The list of methods comes from the SDK, so one it adds later
 * fails the "every method" check until this journey calls it.
 *
 * Time: the SDK judges expiry by `Date.now()`; only `Date` is faked, set to the server's
 * ManualClock, as in commerce-engine-sdk.test.ts.
 */
import {
  type ApiResult,
  MemoryTokenStorage,
  SessionStorefrontSDK,
  type UpdateUserBody,
  type User,
} from '@commercengine/storefront-sdk';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { API_KEY, BASE, claims, makeTestApp, STORE, type TestApp } from '../helpers/app.js';
import { PASSWORD } from '../helpers/customers.js';
import { HTML, IMAGES, pngOfSize } from '../helpers/images.js';
import { conformance, declaredAuthMethods, userInfoConformance } from './declared-types.js';

type Mode = 'manual' | 'managed';
type Auth = SessionStorefrontSDK['auth'];
/** A method of `sdk.auth` that calls the API (the client also carries helpers and fields). */
type ApiMethod = (...args: never) => Promise<ApiResult<unknown>>;
type Method = { [K in keyof Auth]: Auth[K] extends ApiMethod ? K : never }[keyof Auth] & string;
/** `Auth[M]` as the API method it is: for a generic `M` TypeScript does not narrow it itself. */
type Fn<M extends Method> = Extract<Auth[M], ApiMethod>;

/**
 * The body `updateUserDetails` declares: the whole writable User, not a partial one (our server
 * accepts either). A storefront typed against the SDK reads the user and sends it back changed.
 * `business` is sent as null: our server answers null for it and ignores it on update.
 */
function userBody(user: User, changes: Partial<UpdateUserBody>): UpdateUserBody {
  const { first_name, last_name, email, phone, country_code, login_methods } = user;
  return {
    first_name,
    last_name,
    email,
    phone,
    country_code,
    login_methods,
    notification_preferences: user.notification_preferences,
    business: null,
    ...changes,
  };
}

let t: TestApp;
let baseUrl: string;

beforeEach(async () => {
  t = await makeTestApp({ OTP_DEBUG: 'true' });
  baseUrl = `${await t.app.listen({ port: 0, host: '127.0.0.1' })}${BASE}`;
  vi.useFakeTimers({ toFake: ['Date'] });
  vi.setSystemTime(t.clock.ms);
  // The SDK narrates its session management on the console; keep test output quiet.
  vi.spyOn(console, 'info').mockImplementation(() => {});
});

afterEach(async () => {
  vi.restoreAllMocks();
  vi.useRealTimers();
  await t.close();
});

const DEBUG = { 'x-debug-mode': true } as const;
/** What debug mode adds to an OtpContent (the SDK's type has no field for it). */
const codeOf = (data: unknown) => data as { otp_token: string; otp: string };

/**
 * One storefront's journey through all of `sdk.auth`. `calls` records every method that
 * succeeded with an answer of its declared type; `check` fails the test with the departures.
 */
function journey(mode: Mode) {
  const storage = new MemoryTokenStorage();
  const sdk = new SessionStorefrontSDK({
    storeId: STORE,
    baseUrl,
    apiKey: API_KEY,
    ...(mode === 'managed' ? { tokenStorage: storage } : {}),
  });
  const calls = new Set<string>();

  async function call<M extends Method>(method: M, ...args: Parameters<Fn<M>>) {
    const fn = sdk.auth[method] as (...a: unknown[]) => ReturnType<Fn<M>>;
    const result = (await fn.apply(sdk.auth, args)) as Awaited<ReturnType<Fn<M>>>;
    const r = result as { data: unknown; error: { code?: string } | null; response: Response };
    expect(r.error?.code ?? null, `${mode} ${method}: ${r.response.status}`).toBeNull();
    expect(r.response.status, `${mode} ${method}`).toBe(200);
    expect(conformance(method, r.data), `${mode} ${method}: the SDK's declared type`).toEqual([]);
    calls.add(method);
    return result.data as NonNullable<Awaited<ReturnType<Fn<M>>>['data']>;
  }

  /** Manual mode holds no session: the storefront hands the SDK the pair it was given. */
  async function signedIn(pair: { access_token: string; refresh_token: string }) {
    if (mode === 'manual') await sdk.setTokens(pair.access_token);
    expect(claims((await storedOr(pair)).access_token)['is_logged_in']).toBe(true);
    expect(userInfoConformance(await sdk.getUserInfo())).toEqual([]);
  }

  /** The pair the SDK now holds (managed), or the one just answered (manual). */
  async function storedOr(pair: { access_token: string; refresh_token: string }) {
    if (mode === 'manual') return pair;
    const access_token = await storage.getAccessToken();
    const refresh_token = await storage.getRefreshToken();
    expect(access_token === pair.access_token && refresh_token === pair.refresh_token).toBe(true);
    return { access_token: access_token!, refresh_token: refresh_token! };
  }

  /** registerWithPassword with the debug code, then verifyOtp: a signed-in customer. */
  async function register(email: string) {
    const started = codeOf(
      await call('registerWithPassword', { email, password: PASSWORD, confirm_password: PASSWORD }, DEBUG),
    );
    const account = await call('verifyOtp', {
      otp: started.otp,
      otp_token: started.otp_token,
      otp_action: 'register',
    });
    await signedIn(account);
    return account;
  }

  return { sdk, calls, call, signedIn, storedOr, register };
}

describe.each(['manual', 'managed'] as const)(
  'every method of the official SDK auth namespace, %s mode',
  (mode) => {
    it('answers each with 200 and the type the SDK declares; the two-step reset and profile images included', async () => {
      const { sdk, calls, call, signedIn, storedOr, register } = journey(mode);
      const EMAIL = 'ada@example.com';

      // An anonymous shopper first: its user carries no customer id, so the User type's string is empty.
      const anonymous = await call('getAnonymousToken');
      expect(claims(anonymous.access_token)['anonymous_id']).toBe(anonymous.user.id);

      // Registrations: with a password (verified at once), then the code-only channels.
      const registered = await register(EMAIL);
      const adaId = registered.user.id;
      expect(registered.user.customer_id).not.toBe('');
      await call('registerWithEmail', { email: 'bea@example.com', first_name: 'Bea' }, DEBUG);
      const phone = codeOf(
        await call(
          'registerWithPhone',
          { phone: '9000000001', country_code: '+91', first_name: 'Cy' },
          DEBUG,
        ),
      );
      await call(
        'registerWithWhatsapp',
        { phone: '9000000002', country_code: '+91', first_name: 'Di' },
        DEBUG,
      );

      // The phone account exists once verified; then every login channel sends a code.
      const cy = await call('verifyOtp', {
        otp: phone.otp,
        otp_token: phone.otp_token,
        otp_action: 'register',
      });
      expect(cy.user.phone).toBe('9000000001');
      await call('loginWithEmail', { email: EMAIL }, DEBUG);
      await call('loginWithPhone', { phone: '9000000001', country_code: '+91' }, DEBUG);
      await call('loginWithWhatsApp', { phone: '9000000001', country_code: '+91' }, DEBUG);
      const login = await call('loginWithPassword', { email: EMAIL, password: PASSWORD });
      await signedIn(login);
      // A sign-in that carried no anonymous shopper still has a lineage id (the SDK types it a string).
      expect(claims(login.access_token)['anonymous_id']).toEqual(expect.any(String));

      // The customer's own account.
      expect((await call('getUserDetails', { id: adaId })).user.email).toBe(EMAIL);
      expect(
        (await call('updateUserDetails', { id: adaId }, userBody(registered.user, { first_name: 'Augusta' })))
          .user.first_name,
      ).toBe('Augusta');
      const verified = await call('checkEmailOrPhoneIsVerified', { email: [EMAIL, 'nobody@example.com'] });
      expect(verified.verified_email).toEqual([EMAIL]);

      // Profile images, through the SDK's own multipart upload.
      const added = await call(
        'addProfileImage',
        { id: adaId },
        { image: new Blob([IMAGES['image/png']]) as unknown as string },
      );
      const url = added.profile_image_url;
      expect((await call('getProfileImage', { id: adaId })).profile_image_url).toBe(url);
      const file = await fetch(url);
      expect([file.status, file.headers.get('content-type')]).toEqual([200, 'image/png']);
      expect(new Uint8Array(await file.arrayBuffer())).toEqual(IMAGES['image/png']);
      const updated = await call(
        'updateProfileImage',
        { id: adaId },
        { image: new Blob([IMAGES['image/webp']]) as unknown as string },
      );
      expect(updated.profile_image_url).toBe(url);
      expect((await call('getUserDetails', { id: adaId })).user.profile_image_url).toBe(url);
      expect((await fetch(url)).headers.get('content-type')).toBe('image/webp');
      await call('deleteProfileImage', { id: adaId });
      expect((await fetch(url)).status).toBe(404);

      // Passwords: change (the SDK keeps the rotated pair), then forget and reset in two steps,
      // as the SDK's own example does it (verify the code, then reset with the otp_token alone).
      const NEW = 'a different passphrase';
      const changed = await call('changePassword', {
        old_password: PASSWORD,
        new_password: NEW,
        confirm_password: NEW,
      });
      await signedIn({ ...changed });
      const NEWER = 'yet another passphrase';
      const forgot = codeOf(await call('forgotPassword', { email: EMAIL }, DEBUG));
      const resetSession = await call('verifyOtp', {
        otp: forgot.otp,
        otp_token: forgot.otp_token,
        otp_action: 'reset-password',
      });
      await signedIn(resetSession);
      const reset = await call('resetPassword', {
        otp_token: forgot.otp_token,
        new_password: NEWER,
        confirm_password: NEWER,
      } as Parameters<Auth['resetPassword']>[0]);
      await signedIn(reset);
      expect(reset.user.id).toBe(adaId);
      const generated = await call(
        'generateOtp',
        { channel: 'email', email: EMAIL, otp_action: 'reset-password' },
        DEBUG,
      );
      expect(generated.otp_action).toBe('reset-password');

      // The refresh the storefront may call itself, then logout: a fresh anonymous user.
      const current = await storedOr(reset);
      const refreshed = await call('refreshToken', { refresh_token: current.refresh_token });
      if (mode === 'manual') await sdk.setTokens(refreshed.access_token);
      const out = await call('logout');
      expect(out.user.is_anonymous).toBe(true);
      expect(out.user.customer_id).toBe('');
      if (mode === 'manual') await sdk.setTokens(out.access_token);

      // Two accounts that end: one deactivated, one deleted.
      for (const [email, method] of [
        ['eve@example.com', 'deactivateUserAccount'],
        ['fay@example.com', 'deleteUser'],
      ] as const) {
        const account = await register(email);
        await call(method, { id: account.user.id });
        expect((await t.db.getAccount(account.user.id))?.status ?? 'deleted').toBe(
          method === 'deleteUser' ? 'deleted' : 'deactivated',
        );
      }

      expect([...calls].sort()).toEqual(declaredAuthMethods());
    });
  },
);

describe('profile images through the official SDK: refusals come back as its errors, nothing stored', () => {
  it("a file whose name says PNG but whose bytes are HTML, an oversized file, another user's id", async () => {
    const { sdk, register } = journey('managed');
    const ada = await register('ada@example.com');
    const bob = await register('bob@example.com');
    const asPng = (bytes: Uint8Array<ArrayBuffer>) =>
      new File([bytes], 'avatar.png', { type: 'image/png' }) as unknown as string;
    const refusals = [
      [bob.user.id, asPng(HTML), 'UNSUPPORTED_IMAGE_TYPE'],
      [bob.user.id, asPng(pngOfSize(t.config.profileImageMaxBytes + 1)), 'IMAGE_TOO_LARGE'],
      [ada.user.id, asPng(IMAGES['image/png']), 'USER_NOT_FOUND'],
    ] as const;
    for (const [id, image, code] of refusals) {
      const res = await sdk.auth.addProfileImage({ id }, { image });
      expect(res.data, code).toBeNull();
      expect(res.error, code).toMatchObject({ success: false, code });
      expect(res.response.status, code).toBe(400);
    }
    expect(await t.db.getProfileImage(ada.user.id)).toBeNull();
    expect(await t.db.getProfileImage(bob.user.id)).toBeNull();
  });
});

describe('refusals within the statuses the SDK declares (the code is what a storefront branches on)', () => {
  it('USER_EXISTS is 400 at register, generate-otp and update-user; USER_NOT_FOUND is 400 at login/whatsapp and update-user', async () => {
    const { sdk, register } = journey('managed');
    await register('bob@example.com');
    const ada = await register('ada@example.com');
    const refusals = [
      await sdk.auth.registerWithEmail({ email: 'ada@example.com', first_name: 'Ada' }),
      await sdk.auth.generateOtp({ channel: 'email', email: 'bob@example.com', otp_action: 'update-email' }),
      await sdk.auth.updateUserDetails({ id: ada.user.id }, userBody(ada.user, { email: 'bob@example.com' })),
      await sdk.auth.loginWithWhatsApp({ phone: '9000000009', country_code: '+91' }),
      await sdk.auth.updateUserDetails({ id: 'someone-else' }, userBody(ada.user, { first_name: 'X' })),
    ];
    expect(refusals.map((r) => [r.response.status, r.error?.code])).toEqual([
      [400, 'USER_EXISTS'],
      [400, 'USER_EXISTS'],
      [400, 'USER_EXISTS'],
      [400, 'USER_NOT_FOUND'],
      [400, 'USER_NOT_FOUND'],
    ]);
  });
});

// Regressions the check exists for (issue: types the SDK declares non-null came back null).
describe("the check against the SDK's declared types", () => {
  it('names a null where a string is promised, a missing field and a wrong type', () => {
    const user = { id: 'u', customer_id: null, is_anonymous: 'yes' };
    expect(conformance('getUserDetails', { user })).toEqual(
      expect.arrayContaining([
        'data.user.customer_id: expected string, got null',
        'data.user.is_anonymous: expected boolean, got string',
        'data.user.login_methods: missing (declared required)',
      ]),
    );
    expect(conformance('getProfileImage', { profile_image_url: null })).toEqual([
      'data.profile_image_url: expected string, got null',
    ]);
    expect(userInfoConformance({ anonymousId: null })).toContain(
      'userInfo.anonymousId: expected string, got null',
    );
  });
});
