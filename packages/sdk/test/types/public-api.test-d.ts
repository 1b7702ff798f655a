// Compiled by types.test.ts with tsc; vitest never runs this file. Each expectation fails the
// compile when the public surface drifts, and each @ts-expect-error fails it when misuse compiles.
import { expectTypeOf } from 'vitest';
import {
  type ApiError,
  type ApiResult,
  createStorefrontSDK,
  type ErrorCode,
  type OtpContent,
  type operations,
  type SessionEndReason,
  type SessionNotes,
  type StoredPair,
  type TokenPair,
  type TokenStorage,
  type User,
} from '../../src/index.js';

const sdk = createStorefrontSDK({ baseUrl: 'https://shop.example/api/v1/demo/storefront' });

type RefreshResult = Awaited<ReturnType<typeof sdk.auth.refreshToken>>;
expectTypeOf<RefreshResult>().toEqualTypeOf<ApiResult<{ access_token: string; refresh_token: string }>>();
expectTypeOf(sdk.auth.refreshToken).parameter(0).toEqualTypeOf<{ refresh_token: string }>();

declare const result: RefreshResult;
// The seed's narrowing: after `if (error)`, data is the pair, not null.
if (result.error) {
  expectTypeOf(result.data).toBeNull();
  expectTypeOf(result.error.message).toBeString();
  expectTypeOf(result.error).toEqualTypeOf<ApiError>();
} else {
  expectTypeOf(result.data.access_token).toBeString();
  expectTypeOf(result.data.refresh_token).toBeString();
  expectTypeOf(result.error).toBeNull();
}
expectTypeOf(result.response).toEqualTypeOf<Response>();

type Anonymous = Awaited<ReturnType<typeof sdk.auth.getAnonymousToken>>;
declare const anon: Anonymous;
if (!anon.error) {
  expectTypeOf(anon.data.user.id).toBeString();
  expectTypeOf(anon.data.user.is_anonymous).toBeBoolean();
  expectTypeOf(anon.data.user.email).toEqualTypeOf<string | null>();
}

expectTypeOf<'NETWORK_ERROR'>().toExtend<ErrorCode>();
expectTypeOf<'REFRESH_TOKEN_REUSED'>().toExtend<SessionEndReason>();
expectTypeOf<SessionEndReason>().toExtend<ErrorCode>();

expectTypeOf<TokenStorage['getTokens']>().returns.toEqualTypeOf<Promise<StoredPair | null>>();
expectTypeOf<StoredPair>().toExtend<{ access_token: string; refresh_token: string }>();
expectTypeOf<StoredPair['notes']>().toEqualTypeOf<SessionNotes | undefined>();
// The caller is given the two tokens, never the notes.
expectTypeOf(sdk.session.getTokens).returns.toEqualTypeOf<Promise<TokenPair | null>>();
expectTypeOf<'REFRESH_ANSWER_LOST'>().toExtend<SessionEndReason>();

createStorefrontSDK({
  baseUrl: 'https://x',
  onSessionEnded: (reason) => {
    expectTypeOf(reason).toEqualTypeOf<SessionEndReason>();
  },
});

// @ts-expect-error refresh_token is required
void sdk.auth.refreshToken({});
// @ts-expect-error refresh_token is a string
void sdk.auth.refreshToken({ refresh_token: 1 });
// @ts-expect-error baseUrl is required
createStorefrontSDK({});

// Customer operations: every method the official SDK has, named as it names them, and no other.
expectTypeOf<keyof typeof sdk.auth>().toEqualTypeOf<
  | 'refreshToken'
  | 'getAnonymousToken'
  | 'registerWithPassword'
  | 'registerWithEmail'
  | 'registerWithPhone'
  | 'registerWithWhatsapp'
  | 'loginWithPassword'
  | 'loginWithEmail'
  | 'loginWithPhone'
  | 'loginWithWhatsApp'
  | 'verifyOtp'
  | 'generateOtp'
  | 'forgotPassword'
  | 'resetPassword'
  | 'changePassword'
  | 'logout'
  | 'getUserDetails'
  | 'updateUserDetails'
  | 'deleteUser'
  | 'deactivateUserAccount'
  | 'checkEmailOrPhoneIsVerified'
  | 'getProfileImage'
  | 'addProfileImage'
  | 'updateProfileImage'
  | 'deleteProfileImage'
>();

// Profile images take the path and a form whose file is a Blob (or File), and answer the URL.
expectTypeOf(sdk.auth.addProfileImage).parameters.toEqualTypeOf<
  [path: { id: string }, form: { image: Blob | string }]
>();
expectTypeOf(sdk.auth.updateProfileImage).parameters.toEqualTypeOf<
  [path: { id: string }, form: { image?: Blob | string }]
>();
declare const added: Awaited<ReturnType<typeof sdk.auth.addProfileImage>>;
if (added.data) expectTypeOf(added.data.profile_image_url).toEqualTypeOf<string>();

type Body<Op extends keyof operations> = operations[Op] extends {
  requestBody: { content: { 'application/json': infer B } };
}
  ? B
  : never;
type Pair = { access_token: string; refresh_token: string };
type SignedIn = { user: User; access_token: string; refresh_token: string };
type Debug = { 'x-debug-mode'?: 'true' | 'false' | boolean } | undefined;

// Bodies are the OpenAPI document's.
expectTypeOf(sdk.auth.loginWithPassword).parameters.toEqualTypeOf<[body: Body<'login-with-password'>]>();
expectTypeOf(sdk.auth.registerWithPassword).parameters.toEqualTypeOf<
  [body: Body<'register-with-password'>, headers?: Debug]
>();
expectTypeOf(sdk.auth.verifyOtp).parameters.toEqualTypeOf<[body: Body<'verify-otp'>]>();
expectTypeOf(sdk.auth.generateOtp).parameters.toEqualTypeOf<[body: Body<'generate-otp'>, headers?: Debug]>();
expectTypeOf(sdk.auth.updateUserDetails).parameters.toEqualTypeOf<
  [path: { id: string }, body: Body<'update-user'>]
>();
expectTypeOf(sdk.auth.getUserDetails).parameters.toEqualTypeOf<[path: { id: string }]>();
expectTypeOf(sdk.auth.deleteUser).parameters.toEqualTypeOf<[path: { id: string }]>();
expectTypeOf(sdk.auth.deactivateUserAccount).parameters.toEqualTypeOf<[path: { id: string }]>();
expectTypeOf(sdk.auth.logout).parameters.toEqualTypeOf<[]>();

// data is the unwrapped content; delete/deactivate (no content) give the body.
type Data<F extends (...args: never[]) => unknown> =
  Awaited<ReturnType<F>> extends ApiResult<infer D> ? D : never;
expectTypeOf<Data<typeof sdk.auth.loginWithPassword>>().toEqualTypeOf<SignedIn>();
expectTypeOf<Data<typeof sdk.auth.verifyOtp>>().toEqualTypeOf<SignedIn>();
expectTypeOf<Data<typeof sdk.auth.resetPassword>>().toEqualTypeOf<SignedIn>();
expectTypeOf<Data<typeof sdk.auth.logout>>().toEqualTypeOf<SignedIn>();
expectTypeOf<Data<typeof sdk.auth.changePassword>>().toEqualTypeOf<Pair>();
expectTypeOf<Data<typeof sdk.auth.registerWithPassword>>().toEqualTypeOf<OtpContent>();
expectTypeOf<Data<typeof sdk.auth.loginWithWhatsApp>>().toEqualTypeOf<OtpContent>();
expectTypeOf<Data<typeof sdk.auth.getUserDetails>>().toEqualTypeOf<{ user: User }>();
expectTypeOf<Data<typeof sdk.auth.deleteUser>>().toEqualTypeOf<{ message: string; success: boolean }>();
expectTypeOf<Data<typeof sdk.auth.checkEmailOrPhoneIsVerified>>().toEqualTypeOf<{
  verified_phone: string[];
  verified_email: string[];
}>();
declare const otp: Awaited<ReturnType<typeof sdk.auth.loginWithEmail>>;
if (!otp.error) expectTypeOf(otp.data.otp).toEqualTypeOf<string | undefined>();

// @ts-expect-error password is required
void sdk.auth.loginWithPassword({ email: 'a@example.com' });
// @ts-expect-error login with a password sends no code: no debug header
void sdk.auth.loginWithPassword({ email: 'a@example.com', password: 'x' }, { 'x-debug-mode': true });
// @ts-expect-error the id is required
void sdk.auth.getUserDetails();
// @ts-expect-error otp_action is one of the document's
void sdk.auth.verifyOtp({ otp: '1', otp_token: 't', otp_action: 'whatever' });
// @ts-expect-error the debug header is true or false
void sdk.auth.registerWithEmail({ email: 'a@example.com', first_name: 'A' }, { 'x-debug-mode': 'yes' });
