import type { FastifyInstance } from 'fastify';
import { expect } from 'vitest';
import { anonymous, BASE } from './app.js';
import { expectMatchesSpec } from './openapi.js';

export const PASSWORD = 'correct horse battery';

export interface Answer {
  status: number;
  body: any;
  headers: Record<string, unknown>;
}

/** A JSON request to a store route; `bearer` becomes the Authorization header. */
export async function call(
  app: FastifyInstance,
  method: 'GET' | 'POST' | 'PUT' | 'DELETE',
  path: string,
  payload?: unknown,
  opts: { bearer?: string; headers?: Record<string, string> } = {},
): Promise<Answer> {
  const headers: Record<string, string> = { ...opts.headers };
  if (opts.bearer) headers['authorization'] = `Bearer ${opts.bearer}`;
  const res = await app.inject({
    method,
    url: `${BASE}${path}`,
    headers,
    ...(payload === undefined ? {} : { payload: payload as object }),
  });
  return { status: res.statusCode, body: res.json(), headers: res.headers };
}

/** Calls, checks the status and that the body validates against the document's schema for it. */
export async function expectCall(
  app: FastifyInstance,
  operationId: string,
  status: number,
  method: 'GET' | 'POST' | 'PUT' | 'DELETE',
  path: string,
  payload?: unknown,
  opts: { bearer?: string; headers?: Record<string, string> } = {},
): Promise<Answer> {
  const res = await call(app, method, path, payload, opts);
  expect(res.status, JSON.stringify(res.body)).toBe(status);
  expectMatchesSpec(operationId, status, res.body);
  return res;
}

export const DEBUG = { 'x-debug-mode': 'true' };

/** register/password, then verify-otp with the debug-mode code: a signed-in customer. */
export async function registerCustomer(
  app: FastifyInstance,
  email = 'ada@example.com',
  opts: { bearer?: string; password?: string } = {},
) {
  const password = opts.password ?? PASSWORD;
  const started = await expectCall(
    app,
    'register-with-password',
    200,
    'POST',
    '/auth/register/password',
    { email, password, confirm_password: password, first_name: 'Ada', last_name: 'Lovelace' },
    { headers: DEBUG, ...(opts.bearer ? { bearer: opts.bearer } : {}) },
  );
  const { otp_token, otp } = started.body.content;
  const verified = await expectCall(
    app,
    'verify-otp',
    200,
    'POST',
    '/auth/verify-otp',
    { otp, otp_token, otp_action: 'register' },
    opts.bearer ? { bearer: opts.bearer } : {},
  );
  return verified.body.content as { user: any; access_token: string; refresh_token: string };
}

/** POST /auth/login/password with the email and password registerCustomer uses by default. */
export function passwordLogin(app: FastifyInstance, email = 'ada@example.com', password = PASSWORD) {
  return call(app, 'POST', '/auth/login/password', { email, password });
}

/** A customer with two sessions: registered (the first), then logged in with the password (the second). */
export async function customerSignedInTwice(app: FastifyInstance) {
  const first = await registerCustomer(app);
  const second = (await passwordLogin(app)).body.content as {
    user: any;
    access_token: string;
    refresh_token: string;
  };
  return [first, second] as const;
}

export async function anonymousPair(app: FastifyInstance) {
  return (await anonymous(app)).body.content as { user: any; access_token: string; refresh_token: string };
}

/** forgot-password with the debug-mode code, then reset-password with it: the reset's answer. */
export async function resetPasswordByCode(
  app: FastifyInstance,
  id: { email: string } | { phone: string; country_code?: string },
  newPassword: string,
): Promise<Answer> {
  const sent = await call(app, 'POST', '/auth/forgot-password', id, { headers: DEBUG });
  return call(app, 'POST', '/auth/reset-password', {
    otp: sent.body.content.otp,
    otp_token: sent.body.content.otp_token,
    new_password: newPassword,
    confirm_password: newPassword,
  });
}
