import type { ApiError } from './errors.js';
import type { ApiResult } from './result.js';

export interface Transport {
  /** The store's `.../api/v1/{store_id}/storefront`, without a trailing slash. */
  baseUrl: string;
  fetch: typeof fetch;
  /** Budget for one request, answer body included, milliseconds. */
  timeoutMs: number;
}

export interface RequestSpec {
  method: string;
  /** Path below baseUrl, starting with `/`. */
  path: string;
  headers?: Record<string, string>;
  body?: BodyInit | null;
}

/** Picks `data` out of a 2xx body (parsed JSON, else the text, else undefined when empty); undefined means not what was promised. */
export type Unwrap<T> = (body: unknown) => T | undefined;

/** `content` of the envelope when present (the Commerce Engine convention), else the whole body. */
export function unwrapContent(body: unknown): unknown {
  if (body !== null && typeof body === 'object' && 'content' in body)
    return (body as { content: unknown }).content;
  return body;
}

export function networkError(cause: unknown): ApiResult<never> {
  return {
    data: null,
    error: { message: 'Network error occurred', success: false, code: 'NETWORK_ERROR', cause },
    response: new Response(null, { status: 503, statusText: 'Service Unavailable' }),
  };
}

/**
 * One HTTP exchange turned into a result. Never throws: a rejected fetch, a timeout or a body cut
 * half-way (a lost response) all become NETWORK_ERROR, because for the caller they mean the same
 * thing: the server may or may not have acted, and the answer is unknown.
 */
export async function execute<T>(
  transport: Transport,
  spec: RequestSpec,
  unwrap: Unwrap<T>,
): Promise<ApiResult<T>> {
  const controller = new AbortController();
  const timer = setTimeout(() => controller.abort(new Error('timeout')), transport.timeoutMs);
  let response: Response;
  let text: string;
  try {
    response = await transport.fetch(`${transport.baseUrl}${spec.path}`, {
      method: spec.method,
      headers: spec.headers ?? {},
      body: spec.body ?? null,
      signal: controller.signal,
    });
    text = await response.text();
  } catch (cause) {
    return networkError(cause);
  } finally {
    clearTimeout(timer);
  }

  let body: unknown;
  let parsed = false;
  if (text.length > 0) {
    try {
      body = JSON.parse(text);
      parsed = true;
    } catch {
      body = text;
    }
  }

  if (!response.ok) {
    return { data: null, error: toApiError(response, parsed ? body : undefined), response };
  }
  const data = unwrap(parsed ? body : text.length > 0 ? text : undefined);
  if (data === undefined) {
    return {
      data: null,
      error: {
        message: 'The server answered without the expected content.',
        success: false,
        code: 'INVALID_RESPONSE',
      },
      response,
    };
  }
  return { data, error: null, response };
}

function toApiError(response: Response, body: unknown): ApiError {
  if (body !== null && typeof body === 'object' && typeof (body as { code?: unknown }).code === 'string') {
    const b = body as Record<string, unknown>;
    return {
      ...b,
      message: typeof b['message'] === 'string' ? b['message'] : response.statusText,
      success: false,
      code: b['code'] as string,
    };
  }
  // An error without our envelope (a proxy page, an empty 502) must still read as an error.
  return {
    message: response.statusText || `HTTP ${response.status}`,
    success: false,
    code: response.status === 429 ? 'RATE_LIMITED' : 'HTTP_ERROR',
  };
}

/** Seconds from a Retry-After header (delta-seconds or HTTP date), or undefined. */
export function retryAfterSeconds(response: Response, nowMs: number): number | undefined {
  const value = response.headers.get('retry-after');
  if (!value) return undefined;
  if (/^\d+$/.test(value.trim())) return Number(value.trim());
  const date = Date.parse(value);
  return Number.isNaN(date) ? undefined : Math.max(0, (date - nowMs) / 1000);
}
