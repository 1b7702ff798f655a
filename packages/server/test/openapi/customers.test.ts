import { describe, expect, it } from 'vitest';
import { findOperation, routeSchema } from '../../src/openapi/document.js';

/** Section 2 of the Commerce Engine auth contract: operationId, method, path, declared statuses. */
const CONTRACT = [
  ['get-anonymous-token', 'post', '/auth/anonymous', ['400', '401']],
  ['login-with-password', 'post', '/auth/login/password', ['400', '401', '404']],
  ['login-with-email', 'post', '/auth/login/email', ['400', '401', '404']],
  ['login-with-phone', 'post', '/auth/login/phone', ['400', '401', '404']],
  ['login-with-whatsapp', 'post', '/auth/login/whatsapp', ['400', '401']],
  ['verify-otp', 'post', '/auth/verify-otp', ['400', '401', '404']],
  ['register-with-email', 'post', '/auth/register/email', ['400', '401']],
  ['register-with-phone', 'post', '/auth/register/phone', ['400', '401']],
  ['register-with-whatsapp', 'post', '/auth/register/whatsapp', ['400', '401']],
  ['register-with-password', 'post', '/auth/register/password', ['400', '401']],
  ['logout', 'post', '/auth/logout', ['400', '401', '404']],
  ['change-password', 'post', '/auth/change-password', ['400', '401']],
  ['forgot-password', 'post', '/auth/forgot-password', ['400', '401', '404']],
  ['reset-password', 'post', '/auth/reset-password', ['400']],
  ['generate-otp', 'post', '/auth/generate-otp', ['400', '401']],
  ['get-user-detail', 'get', '/auth/user/{id}', ['400', '401', '404']],
  ['update-user', 'put', '/auth/user/{id}', ['400', '401']],
  ['delete-user', 'delete', '/auth/user/{id}', ['400', '401', '404']],
  ['deactivate-user', 'put', '/auth/user/{id}/deactivate', ['400', '401', '404']],
  ['check-verification-status', 'post', '/auth/verified-email-phone', ['400', '401', '404']],
  ['get-profile-image', 'get', '/auth/user/{id}/profile-image', ['400', '401', '404']],
  ['update-profile-image', 'put', '/auth/user/{id}/profile-image', ['400', '401', '404']],
  ['add-profile-image', 'post', '/auth/user/{id}/profile-image', ['400', '401']],
  ['remove-profile-image', 'delete', '/auth/user/{id}/profile-image', ['400', '401', '404']],
] as const;

/**
 * Statuses we answer beyond the contract's, each for a measured reason: 429 with Retry-After is
 * what clients (both SDKs) back off on, and 503 is an outage or a failed OTP delivery, retried.
 */
const BEYOND_CONTRACT = ['429', '503'];

describe('openapi.json: the customer operations of the contract', () => {
  it.each(CONTRACT)(
    '%s is %s %s and declares the contract statuses',
    (operationId, method, path, statuses) => {
      const found = findOperation(operationId);
      expect([found.method, found.path]).toEqual([method, path]);
      expect(found.operation.responses).toHaveProperty('200');
      for (const status of statuses) expect(found.operation.responses).toHaveProperty(status);
      const errors = Object.keys(found.operation.responses).filter((s) => s !== '200');
      expect(errors.filter((s) => !BEYOND_CONTRACT.includes(s)).sort()).toEqual([...statuses].sort());
      routeSchema(operationId);
    },
  );

  it('answers the contract content shapes', () => {
    const content = (id: string) =>
      (routeSchema(id).response['200'] as { properties: { content?: { required?: string[] } } }).properties
        .content;
    for (const id of ['login-with-password', 'verify-otp', 'reset-password', 'logout']) {
      expect(content(id)?.required).toEqual(['user', 'access_token', 'refresh_token']);
    }
    expect(content('change-password')?.required).toEqual(['access_token', 'refresh_token']);
    for (const id of ['delete-user', 'deactivate-user']) expect(content(id)).toBeUndefined();
    expect(content('check-verification-status')?.required).toEqual(['verified_phone', 'verified_email']);
  });
});
