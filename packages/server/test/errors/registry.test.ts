import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { ERROR_CODES } from '../../src/errors/codes.js';

const doc = readFileSync(new URL('../../../../docs/errors.md', import.meta.url), 'utf8');
const documented = new Map(
  [...doc.matchAll(/^\| `([A-Z_]+)` \| (\d{3}) \|/gm)].map((m) => [m[1]!, Number(m[2])] as const),
);

describe('error code registry and docs/errors.md', () => {
  it('documents every code with its status', () => {
    for (const [code, { status }] of Object.entries(ERROR_CODES)) {
      expect(documented.get(code), `${code} in docs/errors.md`).toBe(status);
    }
  });

  it('documents no code the registry lacks', () => {
    for (const code of documented.keys()) expect(Object.keys(ERROR_CODES)).toContain(code);
  });

  it('has the codes the refresh-token contract promises', () => {
    for (const code of [
      'BAD_REQUEST',
      'INVALID_REFRESH_TOKEN',
      'REFRESH_TOKEN_EXPIRED',
      'REFRESH_TOKEN_REUSED',
      'SESSION_REVOKED',
      'SESSION_EXPIRED',
      'SESSION_NOT_FOUND',
      'STORE_NOT_FOUND',
      'UNAUTHORIZED',
      'USER_ALREADY_AUTHENTICATED',
      'PAYLOAD_TOO_LARGE',
      'UNSUPPORTED_MEDIA_TYPE',
      'INTERNAL_ERROR',
    ]) {
      expect(ERROR_CODES).toHaveProperty(code);
    }
    expect(ERROR_CODES.SESSION_NOT_FOUND.status).toBe(404);
  });
});
