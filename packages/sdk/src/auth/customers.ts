import type { SessionEndReason } from '../http/errors.js';
import type { ApiResult } from '../http/result.js';
import type { operations } from '../types.js';

/**
 * Which Bearer a customer operation sends in managed mode.
 * - `session`: the managed access token, bootstrapping or refreshing first like any managed request,
 *   with one refresh and resend on a 401 about the token.
 * - `current`: the stored access token when there is one (refreshed first if due), never a
 *   bootstrap: a sign-in presents the anonymous token so the server carries the shopper's id
 *   (`anonymous_id`, and the cart with it) into the customer session.
 */
export type BearerPolicy = 'session' | 'current';

export interface OperationSpec {
  /** The operationId in the server's OpenAPI document; the method's types come from it. */
  readonly op: keyof operations;
  /** Method and path below baseUrl; `{id}` is filled from the first argument. */
  readonly route: `${'GET' | 'POST' | 'PUT' | 'DELETE'} /auth/${string}`;
  readonly bearer: BearerPolicy;
  /** Takes a JSON body. */
  readonly body?: true;
  /** Takes a multipart body: an object of files (Blob) and strings, sent as FormData. */
  readonly form?: true;
  /** Sends a code: takes the per-call `x-debug-mode` header. */
  readonly sendsCode?: true;
  /** Only a customer may call it: an anonymous token's 401 is about who, not the token; no refresh. */
  readonly customer?: true;
  /** On 2xx the session is over (the account is gone or deactivated): clear tokens, with this reason. */
  readonly ends?: SessionEndReason;
}

type Route = OperationSpec['route'];
/** Sends a code; takes the per-call debug header; presents the current token. */
const code = <const Op extends keyof operations, const R extends Route>(op: Op, route: R) =>
  ({ op, route, bearer: 'current', body: true, sendsCode: true }) as const;
/** Signs in (or spends a code) with the current token, so the anonymous shopper is carried over. */
const signIn = <const Op extends keyof operations, const R extends Route>(op: Op, route: R) =>
  ({ op, route, bearer: 'current', body: true }) as const;
/** Needs the customer's session (the managed Bearer); `extra` adds a body or a session end. */
const customer = <
  const Op extends keyof operations,
  const R extends Route,
  const X extends Pick<OperationSpec, 'body' | 'form' | 'ends'>,
>(
  op: Op,
  route: R,
  extra: X,
) => ({ op, route, bearer: 'session', customer: true, ...extra }) as const;

/**
 * Every customer operation of the Commerce Engine contract, named as its SDK names them. One
 * generic function in client.ts runs them all. The pair in a 2xx answer (login/password,
 * verify-otp, reset-password, change-password, logout) becomes the managed session, as for any
 * `/auth/*` answer.
 */
export const CUSTOMER_OPERATIONS = {
  /** Sends a code; verifyOtp with `otp_action: "register"` creates the account and signs in. */
  registerWithPassword: code('register-with-password', 'POST /auth/register/password'),
  /** Sends a code to the email; then verifyOtp with `otp_action: "register"`. */
  registerWithEmail: code('register-with-email', 'POST /auth/register/email'),
  /** Sends a code by SMS; then verifyOtp with `otp_action: "register"`. */
  registerWithPhone: code('register-with-phone', 'POST /auth/register/phone'),
  /** Sends a code by WhatsApp; then verifyOtp with `otp_action: "register"`. */
  registerWithWhatsapp: code('register-with-whatsapp', 'POST /auth/register/whatsapp'),
  /** Signs in. Managed: the customer pair becomes the session. */
  loginWithPassword: signIn('login-with-password', 'POST /auth/login/password'),
  /** Sends a code; then verifyOtp with `otp_action: "login"` signs in. */
  loginWithEmail: code('login-with-email', 'POST /auth/login/email'),
  /** Sends a code by SMS; then verifyOtp with `otp_action: "login"`. */
  loginWithPhone: code('login-with-phone', 'POST /auth/login/phone'),
  /** Sends a code by WhatsApp; then verifyOtp with `otp_action: "login"`. */
  loginWithWhatsApp: code('login-with-whatsapp', 'POST /auth/login/whatsapp'),
  /** Spends a code. Managed: the pair it answers becomes the session. */
  verifyOtp: signIn('verify-otp', 'POST /auth/verify-otp'),
  /** Sends a code (the verify-/update- actions need the customer's session). */
  generateOtp: code('generate-otp', 'POST /auth/generate-otp'),
  /** Sends a code for resetPassword. */
  forgotPassword: code('forgot-password', 'POST /auth/forgot-password'),
  /** Spends a forgotPassword code with the new password. Managed: the customer pair becomes the session. */
  resetPassword: signIn('reset-password', 'POST /auth/reset-password'),
  /** With the customer's Bearer. Managed: the rotated pair becomes the session. */
  changePassword: customer('change-password', 'POST /auth/change-password', { body: true }),
  /** With the Bearer (anonymous or customer). Managed: the new anonymous pair it answers becomes the session. */
  logout: { op: 'logout', route: 'POST /auth/logout', bearer: 'session' },
  /** The caller's own user. */
  getUserDetails: customer('get-user-detail', 'GET /auth/user/{id}', {}),
  /** Any subset of the writable fields of the caller's own user. */
  updateUserDetails: customer('update-user', 'PUT /auth/user/{id}', { body: true }),
  /** Managed: the session is over; tokens cleared, `onSessionEnded('SESSION_NOT_FOUND')`. */
  deleteUser: customer('delete-user', 'DELETE /auth/user/{id}', { ends: 'SESSION_NOT_FOUND' }),
  /** Managed: the session is over; tokens cleared, `onSessionEnded('SESSION_REVOKED')`. */
  deactivateUserAccount: customer('deactivate-user', 'PUT /auth/user/{id}/deactivate', {
    ends: 'SESSION_REVOKED',
  }),
  /** Which of the caller's own email and phone are verified. */
  checkEmailOrPhoneIsVerified: customer('check-verification-status', 'POST /auth/verified-email-phone', {
    body: true,
  }),
  /** The URL of the caller's own profile image (PROFILE_IMAGE_NOT_FOUND without one). */
  getProfileImage: customer('get-profile-image', 'GET /auth/user/{id}/profile-image', {}),
  /** Sets the profile image from `{image}` (a Blob or File), replacing any; answers its URL. */
  addProfileImage: customer('add-profile-image', 'POST /auth/user/{id}/profile-image', { form: true }),
  /** Replaces the profile image; PROFILE_IMAGE_NOT_FOUND when there is none. */
  updateProfileImage: customer('update-profile-image', 'PUT /auth/user/{id}/profile-image', { form: true }),
  /** Deletes the profile image. */
  deleteProfileImage: customer('remove-profile-image', 'DELETE /auth/user/{id}/profile-image', {}),
} as const satisfies Record<string, OperationSpec>;

type Operations = typeof CUSTOMER_OPERATIONS;
type Json<R> = R extends { content: { 'application/json': infer B } } ? B : never;

/** Request body of an operation, from the OpenAPI document. */
export type OperationBody<Op extends keyof operations> = operations[Op] extends {
  requestBody: { content: { 'application/json': infer B } };
}
  ? B
  : never;

/**
 * Multipart body of an operation: its fields as the OpenAPI document names them, a file (`format:
 * binary`, typed `string` by the generator) given as a Blob or File.
 */
export type OperationForm<Op extends keyof operations> = operations[Op] extends {
  requestBody?: { content: { 'multipart/form-data': infer B } };
}
  ? { [K in keyof B]: Blob | (B[K] & string) }
  : never;

/** `data` of an operation: the envelope's `content`, unwrapped; the whole body when it has none. */
export type OperationData<Op extends keyof operations> = operations[Op]['responses'] extends {
  200: infer R;
}
  ? Json<R> extends { content: infer C }
    ? C
    : Json<R>
  : never;

/** Path parameters (`{id}`) of an operation. */
export type OperationPath<Op extends keyof operations> = operations[Op]['parameters'] extends {
  path: infer P extends object;
}
  ? P
  : never;

/**
 * The per-call headers of an operation that sends a code: `{'x-debug-mode': true}` asks for the
 * code in `data.otp` (development stores only). Booleans are sent as `"true"`/`"false"`.
 */
export type DebugHeaders<Op extends keyof operations> = {
  [K in keyof NonNullable<operations[Op]['parameters']['header']>]?:
    | NonNullable<operations[Op]['parameters']['header']>[K]
    | boolean;
};

type Args<S extends OperationSpec> = [
  ...([OperationPath<S['op']>] extends [never] ? [] : [path: OperationPath<S['op']>]),
  ...(S['body'] extends true ? [body: OperationBody<S['op']>] : []),
  ...(S['form'] extends true ? [form: OperationForm<S['op']>] : []),
  ...(S['sendsCode'] extends true ? [headers?: DebugHeaders<S['op']>] : []),
];

/** A customer method: `(path params?, body?, headers?)` as the operation takes them. */
export type CustomerMethod<S extends OperationSpec> = (
  ...args: Args<S>
) => Promise<ApiResult<OperationData<S['op']>>>;

/** `sdk.auth`'s customer methods, one per entry of the table, typed from the OpenAPI document. */
export type CustomerAuth = { [M in keyof Operations]: CustomerMethod<Operations[M]> };

/** What the generic call needs from the arguments of a method. */
export interface CallArgs {
  method: string;
  path: string;
  body: unknown;
  headers: Record<string, string>;
}

/** Reads a method's positional arguments as its spec declares them. */
export function readArgs(spec: OperationSpec, args: readonly unknown[]): CallArgs {
  let i = 0;
  const [method = 'GET', template = ''] = spec.route.split(' ');
  let path = template;
  if (path.includes('{')) {
    const params = (args[i++] ?? {}) as Record<string, unknown>;
    path = path.replace(/\{(\w+)\}/g, (_, name: string) => encodeURIComponent(String(params[name] ?? '')));
  }
  const body = spec.body || spec.form ? args[i++] : undefined;
  const headers: Record<string, string> = {};
  if (spec.sendsCode) {
    const given = args[i++] as Record<string, unknown> | undefined;
    // Only what the caller passed: no debug header unless asked for, on this call.
    for (const [name, value] of Object.entries(given ?? {})) {
      if (value !== undefined && value !== null) headers[name.toLowerCase()] = String(value);
    }
  }
  return { method, path, body, headers };
}
