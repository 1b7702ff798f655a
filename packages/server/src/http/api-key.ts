import type { FastifyRequest } from 'fastify';
import { AppError } from '../errors/codes.js';
import type { Tenant } from '../tenants/directory.js';
import { sha256Hex } from '../util/ids.js';
import type { Services } from './services.js';

/**
 * The X-Api-Key of the request must be a live key of this store. `secret` routes (revocation,
 * introspection) accept only secret keys: the public key ships inside every storefront.
 */
export async function requireApiKey(
  services: Services,
  tenant: Tenant,
  request: FastifyRequest,
  kind: 'public' | 'secret',
): Promise<void> {
  const apiKey = request.headers['x-api-key'];
  const record =
    typeof apiKey === 'string' && apiKey.length <= 512
      ? await services.sessions.db.findApiKey(tenant.record.id, sha256Hex(apiKey))
      : null;
  if (!record || (kind === 'secret' && record.kind !== 'secret')) {
    throw new AppError(
      'UNAUTHORIZED',
      kind === 'secret'
        ? 'A secret API key of this store is required in X-Api-Key.'
        : 'A valid X-Api-Key for this store is required.',
    );
  }
}
