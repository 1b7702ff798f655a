import { execute, type Transport } from '../http/execute.js';
import type { ApiResult } from '../http/result.js';
import { isTokenPair, type TokenPair } from '../storage/contract.js';
import type { AnonymousTokenContent, RefreshTokenBody, RefreshTokenContent } from '../types.js';

const JSON_HEADERS = { 'content-type': 'application/json', accept: 'application/json' };

function unwrapPair<T extends TokenPair>(body: unknown): T | undefined {
  const content = (body as { content?: unknown } | null)?.content;
  return isTokenPair(content) ? (content as T) : undefined;
}

/** POST /auth/refresh-token, exactly one HTTP exchange. */
export function callRefreshToken(
  transport: Transport,
  body: RefreshTokenBody,
): Promise<ApiResult<RefreshTokenContent>> {
  return execute(
    transport,
    { method: 'POST', path: '/auth/refresh-token', headers: JSON_HEADERS, body: JSON.stringify(body) },
    unwrapPair<RefreshTokenContent>,
  );
}

/** POST /auth/anonymous; with `bearer`, an earlier anonymous access token whose user id to keep. */
export function callAnonymous(
  transport: Transport,
  apiKey: string | undefined,
  bearer: string | undefined,
): Promise<ApiResult<AnonymousTokenContent>> {
  const headers: Record<string, string> = { accept: 'application/json' };
  if (apiKey) headers['x-api-key'] = apiKey;
  if (bearer) headers['authorization'] = `Bearer ${bearer}`;
  return execute(
    transport,
    { method: 'POST', path: '/auth/anonymous', headers },
    unwrapPair<AnonymousTokenContent>,
  );
}

/** A 200 the SDK answers itself, when it already holds what a call would have fetched. */
export function syntheticOk<T>(content: T, message: string): ApiResult<T> {
  const response = new Response(JSON.stringify({ message, success: true, content }), {
    status: 200,
    headers: { 'content-type': 'application/json' },
  });
  return { data: content, error: null, response };
}
