/**
 * Error codes the SDK can hand back in `error.code`. The server's registry (docs/errors.md) plus
 * the codes the SDK makes itself; a test keeps the server part in step with docs/errors.md.
 */
export const SERVER_ERROR_CODES = [
  'BAD_REQUEST',
  'INVALID_REFRESH_TOKEN',
  'REFRESH_TOKEN_EXPIRED',
  'REFRESH_TOKEN_REUSED',
  'SESSION_REVOKED',
  'SESSION_EXPIRED',
  'USER_ALREADY_AUTHENTICATED',
  'PASSWORD_MISMATCH',
  'WEAK_PASSWORD',
  'OTP_INVALID',
  'OTP_EXPIRED',
  'OTP_ATTEMPTS_EXCEEDED',
  'USER_EXISTS',
  'IMAGE_TOO_LARGE',
  'UNSUPPORTED_IMAGE_TYPE',
  'UNAUTHORIZED',
  'INVALID_CREDENTIALS',
  'SESSION_NOT_FOUND',
  'STORE_NOT_FOUND',
  'NOT_FOUND',
  'USER_NOT_FOUND',
  'PROFILE_IMAGE_NOT_FOUND',
  'METHOD_NOT_ALLOWED',
  'PAYLOAD_TOO_LARGE',
  'UNSUPPORTED_MEDIA_TYPE',
  'RATE_LIMITED',
  'INTERNAL_ERROR',
  'SERVICE_UNAVAILABLE',
  'OTP_DELIVERY_FAILED',
  'DPOP_PROOF_INVALID',
  'DPOP_NONCE_REQUIRED',
  'DPOP_PROOF_REQUIRED',
] as const;

export const SDK_ERROR_CODES = [
  /** The request never got an answer: connection refused or cut, DNS, timeout, CORS. */
  'NETWORK_ERROR',
  /** A 2xx answer that is not the JSON the operation promises (no `content`, not JSON). */
  'INVALID_RESPONSE',
  /** A non-2xx answer without a JSON error body (a proxy's HTML page, an empty 502). */
  'HTTP_ERROR',
  /**
   * A customer's refresh got no answer and the server's grace window has passed since: the server
   * may have rotated the token, and presenting it again could be taken for theft. The SDK ends the
   * session on this device instead (an anonymous session is replaced, keeping its user id).
   */
  'REFRESH_ANSWER_LOST',
] as const;

/** The server's codes after which the session is over: the only answers on which the SDK clears tokens. */
export const SESSION_ENDING_CODES = [
  'REFRESH_TOKEN_REUSED',
  'REFRESH_TOKEN_EXPIRED',
  'INVALID_REFRESH_TOKEN',
  'SESSION_REVOKED',
  'SESSION_EXPIRED',
  'SESSION_NOT_FOUND',
] as const;

/**
 * The server's DPoP codes (RFC 9449), also in SERVER_ERROR_CODES.
 * DPOP_PROOF_INVALID (401): a proof is missing, wrong or for another key; DPOP_NONCE_REQUIRED
 * (400): the proof needs the server's nonce (the SDK retries once with it); DPOP_PROOF_REQUIRED
 * (400): the store requires bound sessions and the call carried no proof.
 */
export const DPOP_ERROR_CODES = ['DPOP_PROOF_INVALID', 'DPOP_NONCE_REQUIRED', 'DPOP_PROOF_REQUIRED'] as const;

export type ServerErrorCode = (typeof SERVER_ERROR_CODES)[number];
export type SdkErrorCode = (typeof SDK_ERROR_CODES)[number];
export type ErrorCode = ServerErrorCode | SdkErrorCode;
/** Why a session ended: a server code above, or the SDK's own REFRESH_ANSWER_LOST. */
export type SessionEndReason =
  | (typeof SESSION_ENDING_CODES)[number]
  | 'REFRESH_ANSWER_LOST'
  | 'DPOP_PROOF_INVALID';

/**
 * The refresh of a bound session was refused for its proof (RFC 9449): this device no longer has
 * the key the session is bound to (storage cleared, another browser). Definitive for the session,
 * like SESSION_REVOKED; the SDK never falls back to the same session unbound.
 */
export function endsBoundSession(code: unknown): code is 'DPOP_PROOF_INVALID' {
  return code === 'DPOP_PROOF_INVALID';
}

export function isSessionEnding(code: unknown): code is (typeof SESSION_ENDING_CODES)[number] {
  return typeof code === 'string' && (SESSION_ENDING_CODES as readonly string[]).includes(code);
}

/** The error half of every result: the server's error body, or one the SDK made. */
export interface ApiError {
  message: string;
  success: false;
  /** A stable code; branch on it, never on `message`. Unknown future codes still come through. */
  code: ErrorCode | (string & {});
  /** Field name to problem, on validation failures. */
  errors?: Record<string, string>;
  /** For NETWORK_ERROR: what fetch threw. Never sent anywhere by the SDK. */
  cause?: unknown;
}
