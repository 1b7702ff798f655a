import type { FastifyInstance, FastifyRequest } from 'fastify';

declare module 'fastify' {
  interface FastifyInstance {
    /** PUBLIC_URL without its trailing slashes, when set. */
    publicUrl: string | undefined;
  }
}

/** Makes PUBLIC_URL readable from every request (`request.server.publicUrl`). */
export function registerPublicUrl(app: FastifyInstance, publicUrl: string | undefined): void {
  app.decorate('publicUrl', publicUrl?.replace(/\/+$/, ''));
}

/**
 * Where clients reach this server, without a trailing slash: PUBLIC_URL when set, else the
 * request's own scheme and Host (request.protocol and request.host read X-Forwarded-Proto/-Host
 * only from proxies TRUST_PROXY trusts). URLs the server hands out and DPoP's `htu` check both
 * start from it.
 */
export function publicBase(request: FastifyRequest): string {
  return request.server.publicUrl ?? `${request.protocol}://${request.host}`;
}
