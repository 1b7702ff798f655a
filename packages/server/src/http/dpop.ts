import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { AppError } from '../errors/codes.js';
import type { SessionContext } from '../sessions/context.js';
import type { Tenant } from '../tenants/directory.js';
import {
  dpopNonce,
  IAT_LEEWAY_SECONDS,
  invalidProof,
  isCurrentNonce,
  type VerifiedProof,
  verifyDpopProof,
} from '../tokens/dpop.js';
import { decodeSegment } from '../tokens/jwt.js';
import { publicBase } from './public-url.js';
import type { Services } from './services.js';
import { authorizationOf, STORE_PREFIX, tenantOf } from './tenant.js';

/**
 * DPoP (RFC 9449) at the HTTP edge: one hook verifies a request's proof once, before any route
 * runs, and enforces what a bound access token needs; routes then read the verified proof with
 * `proofOf` (to bind a new session, or to refresh a bound one). See docs/dpop.md.
 *
 *   - A `DPoP` header that fails any check is refused on every store route (DPOP_PROOF_INVALID,
 *     or DPOP_NONCE_REQUIRED), whatever the route would have done: nothing runs, nothing changes.
 *   - An access token carrying `cnf.jkt` must come as `Authorization: DPoP <token>` with a proof of
 *     that key whose `ath` is the token's hash; with the Bearer scheme it is refused (§7.1: no
 *     downgrade). Its signature is checked later by the route, as for every access token; the
 *     `cnf` read here is the one that signature covers, since it is the same token.
 *   - Unbound tokens with the Bearer scheme and requests without a proof pass untouched.
 */

const REFRESH_ROUTE = `${STORE_PREFIX}/auth/refresh-token`;
const proofs = new WeakMap<FastifyRequest, VerifiedProof>();

/** The proof this request carried, verified and its jti recorded; null without one. */
export function proofOf(request: FastifyRequest): VerifiedProof | null {
  return proofs.get(request) ?? null;
}

/**
 * The session context a session-creating route hands the domain: the new session is bound to
 * the request's proof key, if it carried one. A store that requires binding refuses the call
 * without one (DPOP_PROOF_REQUIRED), before anything is written.
 */
export function bindingContext<C extends SessionContext>(ctx: C, tenant: Tenant, request: FastifyRequest): C {
  const proof = proofOf(request);
  if (!proof && tenant.requireDpop) throw new AppError('DPOP_PROOF_REQUIRED');
  return proof ? { ...ctx, dpopJkt: proof.jkt } : ctx;
}

/** The `cnf.jkt` an access token claims, read without verifying it (see the module comment). */
function boundKeyOf(token: string): string | null {
  const payload = decodeSegment(token.split('.')[1] ?? '');
  const cnf = payload?.['cnf'];
  const jkt = cnf !== null && typeof cnf === 'object' ? (cnf as Record<string, unknown>)['jkt'] : undefined;
  return typeof jkt === 'string' ? jkt : null;
}

const refuse = invalidProof;

/** The URL this request was sent to, as a proof's htu must name it. */
export function requestUrl(request: FastifyRequest): string {
  return `${publicBase(request)}${request.url.split('?', 1)[0] ?? '/'}`;
}

/** Registers the hook on every store route (before the routes, so it applies to all of them). */
export function registerDpop(app: FastifyInstance, services: Services): void {
  // A callback hook: it runs on every request, and most carry no proof, so the common case costs
  // no promise; only a request with something to check goes through `checkProof`.
  app.addHook('preHandler', (request, reply, done) => {
    const route = request.routeOptions.url;
    if (!route?.startsWith(STORE_PREFIX)) return done();
    const header = request.headers.dpop;
    // The refresh endpoint ignores Authorization (the refresh token is its credential): its proof has no ath.
    const authorization = route === REFRESH_ROUTE ? null : authorizationOf(request);
    const boundKey = authorization ? boundKeyOf(authorization.token) : null;
    if (header === undefined && authorization?.scheme !== 'dpop' && boundKey === null) return done();
    checkProof(services, request, reply, header, authorization, boundKey).then(() => done(), done);
  });
}

async function checkProof(
  services: Services,
  request: FastifyRequest,
  reply: FastifyReply,
  header: string | string[] | undefined,
  authorization: ReturnType<typeof authorizationOf>,
  boundKey: string | null,
): Promise<void> {
  if (boundKey !== null && authorization?.scheme === 'bearer')
    throw refuse('a DPoP-bound access token must be sent with the DPoP scheme and a proof');
  if (header === undefined) throw refuse('the DPoP header is missing');
  if (typeof header !== 'string') throw refuse('more than one DPoP header');
  const tenant = await tenantOf(services, request);
  const proof = await verifiedProof(services, tenant, request, reply, header, authorization?.token);
  if (boundKey !== null && proof.jkt !== boundKey)
    throw refuse("the proof's key is not the one the access token is bound to");
  proofs.set(request, proof);
}

async function verifiedProof(
  services: Services,
  tenant: Tenant,
  request: FastifyRequest,
  reply: FastifyReply,
  header: string,
  accessToken: string | undefined,
): Promise<VerifiedProof> {
  const now = services.sessions.clock.now();
  const maxAge = services.config.dpopProofMaxAge;
  const proof = verifyDpopProof(header, {
    htm: request.method,
    htu: requestUrl(request),
    now,
    maxAge,
    accessToken,
  });
  if (services.config.dpopNonce) {
    const mac = (input: string) => tenant.keyring.refreshSigner.sign(input);
    const fresh = dpopNonce(mac, now);
    // Every answer, errors included, hands the client the nonce for its next proof (§8.2).
    reply.header('dpop-nonce', fresh);
    if (proof.nonce === undefined || !isCurrentNonce(mac, proof.nonce, now)) {
      throw new AppError('DPOP_NONCE_REQUIRED', undefined, {
        headers: {
          'dpop-nonce': fresh,
          'www-authenticate':
            'DPoP error="use_dpop_nonce", error_description="Resource server requires nonce in DPoP proof"',
        },
      });
    }
  }
  // Last, once every stateless check passed: a refused proof never uses up its jti.
  const expiresAt = (proof.iat + maxAge + IAT_LEEWAY_SECONDS + 1) * 1000;
  if (!(await services.dpopReplay.accept(proof.jkt, proof.jti, expiresAt)))
    throw refuse('this proof was used before (jti replay)');
  return proof;
}
