import { randomInt } from 'node:crypto';
import { AppError } from '../errors/codes.js';
import type { OtpAction, OtpRecord } from '../model.js';
import { enforceAddressLimit, enforceLimit } from '../ratelimit/enforce.js';
import type { Tenant } from '../tenants/directory.js';
import { randomId, sha256Hex } from '../util/ids.js';
import { clearGuesses, OTP_BACKOFF, takeGuess } from './backoff.js';
import type { ClientInfo, CustomerContext } from './context.js';
import type { OtpMessage } from './delivery/contract.js';
import { otpOutboxPayload } from './delivery/outbox.js';

/** An OTP lives ten minutes. */
export const OTP_TTL_MS = 10 * 60_000;

export interface OtpRequest {
  action: OtpAction;
  channel: OtpMessage['channel'];
  to: OtpMessage['to'];
  userId: string | null;
  payload?: Record<string, unknown>;
}

/** The answer of every operation that sends an OTP (the contract's OtpContent), plus debug mode's code. */
export interface IssuedOtp {
  otp_token: string;
  otp_action: OtpAction;
  otp?: string;
}

function identifierOf(to: OtpMessage['to']): string {
  return 'email' in to ? to.email : `${to.countryCode}${to.phone}`;
}

/**
 * The stored id of an OTP. Store and action are hashed in with the token, so a token presented at
 * another store or for another action finds nothing, and cannot spend the OTP's attempts.
 */
function otpId(storeId: string, action: OtpAction, otpToken: string): string {
  return sha256Hex(`${storeId}\n${action}\n${otpToken}`);
}

function codeHash(otpToken: string, code: string): string {
  return sha256Hex(`${otpToken}\n${code}`);
}

/** Six digits from the CSPRNG, uniformly (randomInt rejects biased draws). */
export function newOtpCode(): string {
  return String(randomInt(0, 1_000_000)).padStart(6, '0');
}

/**
 * Counts one OTP send against the client address, then the identifier; throws RATE_LIMITED with
 * Retry-After when either is over its limit. The address goes first: a client refused there
 * charges no per-identifier key, so made-up identifiers from one client cost one counter, not one
 * each. Call it before any costly work.
 */
export async function limitOtpSend(
  ctx: CustomerContext,
  tenant: Tenant,
  to: OtpMessage['to'],
  client: ClientInfo,
): Promise<void> {
  const message = 'Too many codes requested; retry later.';
  const store = tenant.record.id;
  await enforceAddressLimit(ctx.rateLimiter, tenant.limits, 'otpPerAddress', store, client.caller, message);
  await enforceLimit(
    ctx.rateLimiter,
    tenant.limits,
    'otpPerIdentifier',
    `${store}:${identifierOf(to)}`,
    message,
  );
}

async function debugAllowed(ctx: CustomerContext, tenant: Tenant, client: ClientInfo): Promise<boolean> {
  if (!client.debug) return false;
  if (ctx.otpDebugStoreId === tenant.record.id) return true;
  return (await ctx.db.getStoreSettings(tenant.record.id)).otpDebug;
}

/** Stores a new OTP (hashed) and queues its delivery. Rate limits are the caller's (limitOtpSend). */
export async function issueOtp(
  ctx: CustomerContext,
  tenant: Tenant,
  request: OtpRequest,
  client: ClientInfo,
  options: { deliver: boolean } = { deliver: true },
): Promise<IssuedOtp> {
  const now = ctx.clock.now();
  const otpToken = randomId(16);
  const code = newOtpCode();
  const record: OtpRecord = {
    id: otpId(tenant.record.id, request.action, otpToken),
    storeId: tenant.record.id,
    action: request.action,
    channel: request.channel,
    identifier: identifierOf(request.to),
    userId: request.userId,
    codeHash: codeHash(otpToken, code),
    attempts: 0,
    expiresAt: now + OTP_TTL_MS,
    consumedAt: null,
    redeemedAt: null,
    payload: { ...request.payload, to: request.to },
    createdAt: now,
  };
  // The code and its delivery in one transaction; the outbox worker sends it, so this answers at
  // once and the same way whether or not the receiver is up.
  const delivery = {
    id: record.id.slice(0, 32),
    storeId: tenant.record.id,
    kind: 'otp',
    payload: otpOutboxPayload({
      channel: request.channel,
      action: request.action,
      to: request.to,
      otp: code,
      expiresAt: record.expiresAt,
    }),
    attempts: 0,
    nextAttemptAt: now,
    expiresAt: record.expiresAt,
    createdAt: now,
  } as const;
  await ctx.db.createOtp(record, options.deliver ? delivery : null);
  if (options.deliver) ctx.outbox?.kick();
  const issued: IssuedOtp = { otp_token: otpToken, otp_action: request.action };
  if (await debugAllowed(ctx, tenant, client)) issued.otp = code;
  return issued;
}

/**
 * Spends one attempt of an OTP; answers its record when the code is right, which consumes it.
 * Each attempt first takes a verification slot of the client address, then of the email or phone
 * the code went to (backoff.ts): past their free allowances the waits grow, so the guesses anyone
 * gets against one account stay few per day. Throws OTP_INVALID, OTP_EXPIRED,
 * OTP_ATTEMPTS_EXCEEDED or RATE_LIMITED.
 */
export async function consumeOtp(
  ctx: CustomerContext,
  tenant: Tenant,
  action: OtpAction,
  otpToken: string,
  code: string,
  client: ClientInfo,
): Promise<OtpRecord> {
  const id = otpId(tenant.record.id, action, otpToken);
  const found = await ctx.db.findOtp(id);
  if (!found) throw new AppError('OTP_INVALID');
  const now = ctx.clock.now();
  const { caller } = client;
  // A declared front end's address stands for many shoppers: its own key and a budget as large
  // as its per-address limits get, never one shopper's allowance.
  const frontend = caller.kind === 'front end';
  const keys = [`${frontend ? 'fe' : 'ip'}:${caller.address}`, `to:${found.identifier}`];
  const addressFree =
    OTP_BACKOFF.freeFailuresPerAddress * (frontend ? tenant.limits.frontendBudgetFactor : 1);
  await takeGuess(ctx, tenant, keys[0]!, addressFree, now);
  await takeGuess(ctx, tenant, keys[1]!, OTP_BACKOFF.freeFailuresPerIdentifier, now);
  const result = await ctx.db.attemptOtp(id, codeHash(otpToken, code), now, tenant.limits.otpAttempts);
  if (result.outcome === 'verified') await clearGuesses(ctx, tenant, keys);
  switch (result.outcome) {
    case 'verified':
      return result.record;
    case 'wrong_code': {
      const left = tenant.limits.otpAttempts - result.record.attempts;
      throw new AppError(
        'OTP_INVALID',
        left > 0
          ? `The code is not valid; ${left} attempt(s) left.`
          : 'The code is not valid; no attempts left.',
      );
    }
    case 'expired':
      throw new AppError('OTP_EXPIRED');
    case 'exhausted':
      throw new AppError('OTP_ATTEMPTS_EXCEEDED');
    case 'consumed':
      throw new AppError('OTP_INVALID', 'The code was already used.');
    case 'missing':
      throw new AppError('OTP_INVALID');
  }
}

/**
 * Spends a verified OTP on its purpose, once: the code was checked by consumeOtp, now or at an
 * earlier verify-otp, and the token is redeemed within the OTP's lifetime. Throws OTP_INVALID
 * (never verified, already used, unknown) or OTP_EXPIRED.
 */
export async function redeemOtp(
  ctx: CustomerContext,
  tenant: Tenant,
  action: OtpAction,
  otpToken: string,
): Promise<OtpRecord> {
  const result = await ctx.db.redeemOtp(otpId(tenant.record.id, action, otpToken), ctx.clock.now());
  switch (result.outcome) {
    case 'redeemed':
      return result.record;
    case 'unverified':
      throw new AppError(
        'OTP_INVALID',
        'The code has not been verified; send it with otp or verify it first.',
      );
    case 'expired':
      throw new AppError('OTP_EXPIRED');
    case 'already_redeemed':
      throw new AppError('OTP_INVALID', 'The code was already used.');
    case 'missing':
      throw new AppError('OTP_INVALID');
  }
}
