import type { FastifyRequest } from 'fastify';
import type { ClientInfo } from '../accounts/context.js';
import { bearerToken } from './tenant.js';

/** What a customer route reads from its request, beyond the body. */
export function clientOf(request: FastifyRequest): ClientInfo {
  return {
    ip: request.ip,
    debug: request.headers['x-debug-mode'] === 'true',
    bearer: bearerToken(request),
  };
}
