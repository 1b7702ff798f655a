import type { FastifyRequest } from 'fastify';
import { AppError } from '../errors/codes.js';
import type { Tenant } from '../tenants/directory.js';
import { decodeSegment } from '../tokens/jwt.js';
import type { Services } from './services.js';

/** Every store route lives under this prefix. */
export const STORE_PREFIX = '/api/v1/:store_id/storefront';

const STORE_ID = /^[a-z0-9][a-z0-9_-]{0,62}$/;

/**
 * The store named in the path, or STORE_NOT_FOUND (without a database read for a malformed id).
 * When the request presents a token (the body's refresh token, else the Bearer token) whose
 * header no cached key writes, the token may come from a key another instance just added: its kid
 * is read, unverified, only to decide whether the store's keys are worth re-reading.
 */
export async function tenantOf(services: Services, request: FastifyRequest): Promise<Tenant> {
  const storeId = (request.params as { store_id?: string }).store_id ?? '';
  if (!STORE_ID.test(storeId)) throw new AppError('STORE_NOT_FOUND');
  const tenant = await services.directory.require(storeId);
  const presented = presentedToken(request);
  if (!presented) return tenant;
  const header = presented.token.slice(0, Math.max(0, presented.token.indexOf('.')));
  if (tenant.keyring.forHeader(header, presented.use)) return tenant;
  const kid = decodeSegment(header)?.['kid'];
  return services.directory.requireForKey(storeId, kid, presented.use);
}

function presentedToken(request: FastifyRequest): { token: string; use: 'access' | 'refresh' } | null {
  const body = request.body as { refresh_token?: unknown } | undefined;
  const refresh = body && typeof body === 'object' ? body.refresh_token : undefined;
  if (typeof refresh === 'string') return { token: refresh, use: 'refresh' };
  const bearer = bearerToken(request);
  return bearer ? { token: bearer, use: 'access' } : null;
}

/**
 * The access token of the Authorization header, if any: `Bearer <token>`, or `DPoP <token>` for a
 * DPoP-bound one, whose proof the DPoP hook (http/dpop.ts) checked before any route ran.
 */
export function bearerToken(request: FastifyRequest): string | undefined {
  return authorizationOf(request)?.token;
}

/** The Authorization header's scheme and token, for the two schemes access tokens travel in. */
export function authorizationOf(
  request: FastifyRequest,
): { scheme: 'bearer' | 'dpop'; token: string } | null {
  const header = request.headers.authorization;
  if (typeof header !== 'string') return null;
  const match = /^(Bearer|DPoP)[ ]+([^ ]+)[ ]*$/i.exec(header);
  if (!match) return null;
  return { scheme: match[1]!.toLowerCase() as 'bearer' | 'dpop', token: match[2]! };
}
