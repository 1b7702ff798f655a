import type { FastifyRequest } from 'fastify';
import { AppError } from '../errors/codes.js';
import type { Tenant } from '../stores/directory.js';
import { decodeCompact } from '../tokens/jwt.js';
import type { Services } from './services.js';

/** Every store route lives under this prefix. */
export const STORE_PREFIX = '/api/v1/:store_id/storefront';

const STORE_ID = /^[a-z0-9][a-z0-9_-]{0,62}$/;

/** The store named in the path, or STORE_NOT_FOUND (without a database read for a malformed id). */
export function tenantOf(services: Services, request: FastifyRequest): Promise<Tenant> {
  const storeId = (request.params as { store_id?: string }).store_id ?? '';
  if (!STORE_ID.test(storeId)) return Promise.reject(new AppError('STORE_NOT_FOUND'));
  const credential = presentedKey(request);
  if (credential) return services.directory.requireForKey(storeId, credential.kid, credential.use);
  return services.directory.require(storeId);
}

/**
 * The kid of the token the request presents (the body's refresh token, else the Bearer token),
 * read without verifying anything: it only decides whether the store's keys are worth re-reading
 * (a key another instance added). Verification happens later, against the keyring.
 */
function presentedKey(request: FastifyRequest): { kid: unknown; use: 'access' | 'refresh' } | null {
  const body = request.body as { refresh_token?: unknown } | undefined;
  const refresh = body && typeof body === 'object' ? body.refresh_token : undefined;
  if (typeof refresh === 'string') {
    const jwt = decodeCompact(refresh);
    return jwt ? { kid: jwt.header['kid'], use: 'refresh' } : null;
  }
  const bearer = bearerToken(request);
  const jwt = bearer ? decodeCompact(bearer) : null;
  return jwt ? { kid: jwt.header['kid'], use: 'access' } : null;
}

/** The Bearer token of the Authorization header, if any. */
export function bearerToken(request: FastifyRequest): string | undefined {
  const header = request.headers.authorization;
  if (typeof header !== 'string') return undefined;
  const match = /^Bearer[ ]+([^ ]+)[ ]*$/i.exec(header);
  return match?.[1];
}
