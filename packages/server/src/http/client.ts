import type { FastifyRequest } from 'fastify';
import type { ClientInfo } from '../accounts/context.js';
import type { AddressModel, Caller } from './client-address.js';
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
