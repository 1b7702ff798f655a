import type { FastifyRequest } from 'fastify';
import type { ClientInfo } from '../accounts/context.js';
import { enforceAddressLimit } from '../ratelimit/enforce.js';
import type { AddressLimit } from '../ratelimit/limits.js';
import type { Tenant } from '../tenants/directory.js';
import type { AddressModel, Caller } from './client-address.js';
import type { Services } from './services.js';
import { bearerToken } from './tenant.js';

/** Who per-address limits count for this request, from the socket's peer and X-Forwarded-For. */
export function callerOf(request: FastifyRequest, addresses: AddressModel): Caller {
  return addresses.callerOf(request.socket.remoteAddress ?? '', request.headers['x-forwarded-for']);
}

/** What a customer route reads from its request, beyond the body. */
export function clientOf(request: FastifyRequest, addresses: AddressModel): ClientInfo {
  return {
    caller: callerOf(request, addresses),
    debug: request.headers['x-debug-mode'] === 'true',
    bearer: bearerToken(request),
  };
}

/** Counts this request against the store's per-address limit `name` (RATE_LIMITED past it). */
export function limitRequest(
  services: Services,
  tenant: Tenant,
  request: FastifyRequest,
  name: AddressLimit,
  message: string,
): Promise<void> {
  const caller = callerOf(request, services.addresses);
  return enforceAddressLimit(services.rateLimiter, tenant.limits, name, tenant.record.id, caller, message);
}
