/**
 * The one registry of error codes. Every failure the server answers carries one of these in
 * `code`; `docs/errors.md` documents each, and a test keeps the two in step.
 */
export const ERROR_CODES = {
  BAD_REQUEST: { status: 400, message: 'The request is malformed.' },
  INVALID_REFRESH_TOKEN: { status: 400, message: 'The refresh token is not valid.' },
  REFRESH_TOKEN_EXPIRED: { status: 400, message: 'The refresh token has expired.' },
  REFRESH_TOKEN_REUSED: {
    status: 400,
    message: 'The refresh token was already used; the session has been revoked.',
  },
  SESSION_REVOKED: { status: 400, message: 'The session has been revoked.' },
  SESSION_EXPIRED: { status: 400, message: 'The session has expired.' },
  USER_ALREADY_AUTHENTICATED: {
    status: 400,
    message: 'Cannot create an anonymous session while authenticated.',
  },
  PASSWORD_MISMATCH: { status: 400, message: 'The password and its confirmation do not match.' },
  WEAK_PASSWORD: { status: 400, message: 'The password does not meet the password rules.' },
  OTP_INVALID: { status: 400, message: 'The code is not valid.' },
  OTP_EXPIRED: { status: 400, message: 'The code has expired; request a new one.' },
  OTP_ATTEMPTS_EXCEEDED: { status: 400, message: 'Too many wrong codes; request a new one.' },
  // 400, not 409: the Commerce Engine contract declares no 409 for any operation that can meet it.
  USER_EXISTS: { status: 400, message: 'A customer with this email or phone already exists.' },
  IMAGE_TOO_LARGE: { status: 400, message: 'The image is larger than the limit.' },
  UNSUPPORTED_IMAGE_TYPE: { status: 400, message: 'The image must be a PNG, JPEG, WebP or GIF file.' },
  DPOP_NONCE_REQUIRED: {
    status: 400,
    message: 'The DPoP proof must carry the nonce given in the DPoP-Nonce header.',
  },
  DPOP_PROOF_REQUIRED: { status: 400, message: 'This store requires a DPoP proof to open a session.' },
  UNAUTHORIZED: { status: 401, message: 'Authentication is required.' },
  DPOP_PROOF_INVALID: { status: 401, message: 'The DPoP proof is missing or not valid.' },
  INVALID_CREDENTIALS: { status: 401, message: 'The login or the password is not correct.' },
  SESSION_NOT_FOUND: { status: 404, message: 'The session does not exist.' },
  STORE_NOT_FOUND: { status: 404, message: 'The store does not exist.' },
  NOT_FOUND: { status: 404, message: 'The requested resource was not found.' },
  USER_NOT_FOUND: { status: 404, message: 'The user does not exist.' },
  PROFILE_IMAGE_NOT_FOUND: { status: 404, message: 'The user has no profile image.' },
  METHOD_NOT_ALLOWED: { status: 405, message: 'The method is not allowed on this resource.' },
  PAYLOAD_TOO_LARGE: { status: 413, message: 'The request body is too large.' },
  UNSUPPORTED_MEDIA_TYPE: { status: 415, message: 'The request body must be application/json.' },
  RATE_LIMITED: { status: 429, message: 'Too many requests; retry later.' },
  INTERNAL_ERROR: { status: 500, message: 'Something went wrong on our side.' },
  SERVICE_UNAVAILABLE: { status: 503, message: 'The service is temporarily unavailable; retry later.' },
  OTP_DELIVERY_FAILED: { status: 503, message: 'The code could not be delivered; retry later.' },
} as const satisfies Record<string, { status: number; message: string }>;

export type ErrorCode = keyof typeof ERROR_CODES;

export function isErrorCode(value: unknown): value is ErrorCode {
  return typeof value === 'string' && Object.hasOwn(ERROR_CODES, value);
}

/**
 * A failure the domain or a route reports on purpose. It carries a registry code; the HTTP
 * status comes from the registry, in the one error handler (`http/errors.ts`).
 */
export class AppError extends Error {
  readonly code: ErrorCode;
  readonly errors: Record<string, string> | undefined;
  readonly headers: Record<string, string> | undefined;

  constructor(
    code: ErrorCode,
    message?: string,
    extra?: { errors?: Record<string, string>; headers?: Record<string, string> },
  ) {
    super(message ?? ERROR_CODES[code].message);
    this.name = 'AppError';
    this.code = code;
    this.errors = extra?.errors;
    this.headers = extra?.headers;
  }
}
