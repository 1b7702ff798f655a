import { AppError } from '../../errors/codes.js';

/** Socket-level failures: the server is down, restarting, or the network between us is. */
const NETWORK_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'EPIPE',
  'ETIMEDOUT',
  'ENOTFOUND',
  'EHOSTUNREACH',
  'EAI_AGAIN',
]);

/**
 * SQLSTATEs that say "not now" rather than "wrong": class 08 (connection exception), 57P01-57P03
 * (shutdown, crash, starting up), 53300 (too many connections), 57014 (statement timeout or
 * cancel), 40001/40P01 (serialization failure, deadlock), 25006 (read-only: a failover in progress).
 */
function transientSqlState(code: string): boolean {
  return (
    code.startsWith('08') ||
    code === '57P01' ||
    code === '57P02' ||
    code === '57P03' ||
    code === '53300' ||
    code === '57014' ||
    code === '40001' ||
    code === '40P01' ||
    code === '25006'
  );
}

/** node-postgres reports a dropped or unobtainable connection with these messages and no code. */
const TRANSIENT_MESSAGES = [
  'Connection terminated',
  'timeout exceeded when trying to connect',
  'Query read timeout',
  'Client has encountered a connection error',
  'Client was closed and is not queryable',
  'Cannot use a pool after calling end',
];

/** True when the failure is the database being unreachable or busy, not a bug or bad data. */
export function isTransientDatabaseError(error: unknown): boolean {
  if (!(error instanceof Error)) return false;
  const code = (error as { code?: unknown }).code;
  if (typeof code === 'string' && (NETWORK_CODES.has(code) || transientSqlState(code))) return true;
  return TRANSIENT_MESSAGES.some((m) => error.message.includes(m));
}

/**
 * The one translation from database failures to the domain: "unavailable, retry" becomes the
 * 503 SERVICE_UNAVAILABLE with Retry-After, so no route needs to know SQL. Anything else is
 * rethrown as it is (a 500, logged by the error handler).
 */
export function toAppError(error: unknown): unknown {
  if (isTransientDatabaseError(error)) {
    return new AppError('SERVICE_UNAVAILABLE', 'The database is unavailable; retry shortly.', {
      headers: { 'retry-after': '1' },
    });
  }
  return error;
}
