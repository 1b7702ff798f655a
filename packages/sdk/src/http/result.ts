import type { ApiError } from './errors.js';

/**
 * What every SDK call resolves to. `data` is the unwrapped `content` of the envelope; `error` the
 * server's error body (or an SDK-made one such as NETWORK_ERROR). `response` is always present:
 * for a network failure it is a synthetic 503 with an empty body, as the Commerce Engine SDK does.
 */
export type ApiResult<T> =
  | { data: T; error: null; response: Response }
  | { data: null; error: ApiError; response: Response };
