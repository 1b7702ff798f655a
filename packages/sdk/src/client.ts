import {
  type BearerPolicy,
  CUSTOMER_OPERATIONS,
  type CustomerAuth,
  type OperationSpec,
  readArgs,
} from './auth/customers.js';
import { indexedDbAvailable } from './dpop/key-store.js';
import { type DpopOptions, DpopSigner } from './dpop/signer.js';
import { dpopFetch } from './http/dpop-fetch.js';
import { execute, type Transport, type Unwrap, unwrapContent } from './http/execute.js';
import type { ApiResult } from './http/result.js';
import type { Lock } from './lock/contract.js';
import { noLock } from './lock/contract.js';
import { defaultLock } from './lock/default.js';
import { callAnonymous, callRefreshToken } from './session/api.js';
import { type AuthStateCallback, AuthStateHub } from './session/auth-state.js';
import { SkewClock } from './session/clock.js';
import { type RetryOptions, type SessionHooks, SessionRefresh } from './session/refresh.js';
import { isTokenPair, type TokenPair, type TokenStorage } from './storage/contract.js';
import { decodeClaims, type TokenClaims } from './tokens/jwt.js';
import type { AnonymousTokenContent, RefreshTokenBody, RefreshTokenContent } from './types.js';

export interface StorefrontSDKOptions extends SessionHooks {
  /** The store's `https://host/api/v1/{store_id}/storefront`; a trailing slash is fine. */
  baseUrl: string;
  /** The store's public API key, sent only to POST /auth/anonymous. */
  apiKey?: string;
  /** Where the managed session lives. Without it the SDK is manual: it never stores, refreshes or retries. */
  tokenStorage?: TokenStorage;
  /** @default globalThis.fetch */
  fetch?: typeof fetch;
  /** Cross-tab/instance refresh lock; `false` disables it (tests). @default Web Locks, else a localStorage lease, else in-process */
  lock?: Lock | false;
  /** Local clock, ms since the epoch. @default Date.now */
  now?: () => number;
  /** How the SDK waits between refresh retries. @default setTimeout */
  sleep?: (ms: number) => Promise<void>;
  /** Budget for one HTTP request, answer included, ms. @default 10000 */
  timeoutMs?: number;
  retry?: RetryOptions;
  /** Refresh when the access token has less than this left (capped at half its lifetime), s. @default 30 */
  refreshLeewaySeconds?: number;
  /** Refresh on a timer shortly before expiry even with no request pending (open pages). @default false */
  autoRefresh?: boolean;
  /**
   * DPoP-bound sessions (RFC 9449): every request carries a proof of a key this device holds, and
   * the sessions it starts are bound to that key, so a copied token is worthless without it.
   * `true` turns it on (a key the SDK makes: in IndexedDB where there is one, else in memory),
   * `{ keyPair }` signs with yours, `false` turns it off. @default on where WebCrypto and
   * IndexedDB exist (browsers), unless the session lives in cookies a server-side SDK shares
   * (`documentCookieStorage`, server cookies), which could not hold the key; off elsewhere
   */
  dpop?: boolean | DpopOptions;
}

export interface RequestOptions {
  method?: string;
  headers?: Record<string, string>;
  /** Any fetch body; buffered once so the 401 retry can send it again. */
  body?: BodyInit | null;
  /** Shorthand for a JSON body. */
  json?: unknown;
}

export interface SessionInfo {
  /** The `ulid` claim. */
  userId: string | null;
  isAnonymous: boolean | null;
  isLoggedIn: boolean | null;
  /** By the server's clock as far as the SDK has learnt it. */
  secondsToExpiry: number | null;
  claims: TokenClaims | null;
}

export interface StorefrontSDK {
  /** The auth operations: the two session calls, and every customer operation (see CUSTOMER_OPERATIONS). */
  auth: CustomerAuth & {
    /** POST /auth/refresh-token. In managed mode it never sends a refresh token the SDK already spent. */
    refreshToken(body: RefreshTokenBody): Promise<ApiResult<RefreshTokenContent>>;
    /** POST /auth/anonymous with the API key (and, managed, the current anonymous token to keep its user). */
    getAnonymousToken(): Promise<ApiResult<AnonymousTokenContent>>;
  };
  /** Any storefront call below baseUrl, with the managed session's Bearer and one retry on 401. */
  request<T = unknown>(path: string, options?: RequestOptions): Promise<ApiResult<T>>;
  session: {
    /** Whether a tokenStorage was given. */
    readonly managed: boolean;
    getTokens(): Promise<TokenPair | null>;
    /** A usable access token, bootstrapping or refreshing first when needed. */
    ensureAccessToken(): Promise<string | null>;
    info(): Promise<SessionInfo>;
  };
  /**
   * Calls `callback` on every auth-state change of the managed session, in this tab and in every
   * other tab or instance of the origin sharing its storage: SIGNED_IN, SIGNED_OUT,
   * TOKEN_REFRESHED, SESSION_ENDED. Never inside the refresh lock. Returns the unsubscribe
   * function. Without a tokenStorage nothing is managed and nothing is ever called.
   */
  onAuthStateChange(callback: AuthStateCallback): () => void;
  /** Stops the auto-refresh timer and the cross-tab auth-state channel. */
  dispose(): void;
}

const defaultSleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** Normalises the base URL; throws on misuse (the only throws of the SDK). */
function normaliseBaseUrl(baseUrl: string): string {
  if (typeof baseUrl !== 'string' || baseUrl.length === 0)
    throw new TypeError('createStorefrontSDK: baseUrl is required');
  return baseUrl.replace(/\/+$/, '');
}

export function createStorefrontSDK(options: StorefrontSDKOptions): StorefrontSDK {
  const baseUrl = normaliseBaseUrl(options.baseUrl);
  const fetchImpl = options.fetch ?? globalThis.fetch?.bind(globalThis);
  if (typeof fetchImpl !== 'function')
    throw new TypeError('createStorefrontSDK: no fetch in this runtime; pass one');
  const now = options.now ?? Date.now;
  const storage = options.tokenStorage;
  const clock = new SkewClock(now);
  const signer = DpopSigner.fromOptions(
    options.dpop,
    indexedDbAvailable() && storage?.kind !== 'cookie' && storage?.kind !== 'server',
    now,
    () => (clock.offset !== undefined ? clock.serverNow() : undefined),
  );
  const transport: Transport = {
    baseUrl,
    fetch: signer ? dpopFetch(fetchImpl, signer) : fetchImpl,
    timeoutMs: options.timeoutMs ?? 10_000,
  };
  const lock = options.lock === false ? noLock : (options.lock ?? defaultLock(storage));

  const lockName = `storefront-auth:${baseUrl}:${storage?.key ?? 'default'}`;
  const authState = storage ? new AuthStateHub(lockName, storage.kind !== 'server') : null;
  const session = storage
    ? new SessionRefresh({
        transport,
        apiKey: options.apiKey,
        storage,
        lock,
        lockName,
        now,
        sleep: options.sleep ?? defaultSleep,
        retry: options.retry ?? {},
        refreshLeewaySeconds: options.refreshLeewaySeconds ?? 30,
        autoRefresh: options.autoRefresh ?? false,
        clock,
        onTokensUpdated: (tokens, info) => {
          authState?.tokens(tokens, info.source);
          return options.onTokensUpdated?.(tokens, info);
        },
        onSessionEnded: (reason) => {
          authState?.ended(reason);
          return options.onSessionEnded?.(reason);
        },
        onRefreshFailed: options.onRefreshFailed,
      })
    : null;

  const ensureAccessToken = async (): Promise<string | null> =>
    session ? session.ensureAccessToken() : null;

  const refreshToken = (body: RefreshTokenBody): Promise<ApiResult<RefreshTokenContent>> =>
    session ? session.refreshManually(body) : callRefreshToken(transport, body);

  async function getAnonymousToken(): Promise<ApiResult<AnonymousTokenContent>> {
    if (!session) return callAnonymous(transport, options.apiKey, undefined);
    return (await session.anonymous()).result as ApiResult<AnonymousTokenContent>;
  }

  /** Which Bearer a call sends, how its body becomes `data`, and whether a customer-only 401 is final. */
  interface SendPolicy<T> {
    bearer: BearerPolicy;
    unwrap: Unwrap<T>;
    customer?: boolean;
  }

  /** The managed access token a call sends under its policy (null: none, or manual mode). */
  async function bearerFor(policy: BearerPolicy): Promise<string | null> {
    if (!session) return null;
    // 'current': only a session that exists (refreshed if due); a sign-in never bootstraps one.
    return policy === 'session' ? session.ensureAccessToken() : session.currentAccessToken();
  }

  /** The one path of every call below baseUrl: Bearer, buffered body, pair capture, 401 retry. */
  async function send<T>(path: string, init: RequestOptions, policy: SendPolicy<T>): Promise<ApiResult<T>> {
    const headers: Record<string, string> = { accept: 'application/json', ...init.headers };
    // Buffer the body once: a stream or FormData can be read only once, and the retry needs it again.
    let bytes: Uint8Array | undefined;
    if (init.json !== undefined) {
      bytes = new TextEncoder().encode(JSON.stringify(init.json));
      headers['content-type'] ??= 'application/json';
    } else if (init.body != null) {
      const buffered = new Request('http://buffer.invalid/', {
        method: 'POST',
        body: init.body,
        duplex: 'half',
      } as RequestInit);
      bytes = new Uint8Array(await buffered.arrayBuffer());
      const type = buffered.headers.get('content-type');
      if (type && !Object.keys(headers).some((h) => h.toLowerCase() === 'content-type'))
        headers['content-type'] = type;
    }
    const suffix = path.startsWith('/') ? path : `/${path}`;
    const sendWith = (token: string | null) =>
      execute<T>(
        transport,
        {
          method: init.method ?? (bytes ? 'POST' : 'GET'),
          path: suffix,
          headers: token ? { ...headers, authorization: `Bearer ${token}` } : headers,
          body: bytes ? bytes.slice() : null,
        },
        policy.unwrap,
      );
    if (!session) return sendWith(null);
    const token = await bearerFor(policy.bearer);
    const first = await sendWith(token);
    // Auth operations that answer a new pair (login, logout, anonymous, password change) move the
    // managed session to it, as the Commerce Engine SDK does.
    if (first.data && suffix.startsWith('/auth/') && isTokenPair(first.data)) {
      await session.storeAnswered({
        access_token: first.data.access_token,
        refresh_token: first.data.refresh_token,
      });
      return first;
    }
    const fresh = await session.tokenForResend(first, {
      sent: token,
      sessionBearer: policy.bearer === 'session',
      customerOnly: policy.customer === true,
    });
    return fresh ? sendWith(fresh) : first;
  }

  function request<T>(path: string, init: RequestOptions = {}): Promise<ApiResult<T>> {
    return send(path, init, { bearer: 'session', unwrap: (body) => unwrapAny(body) as T });
  }

  /** One customer operation, as its table entry describes it. */
  async function customerCall(spec: OperationSpec, args: readonly unknown[]): Promise<ApiResult<unknown>> {
    const { method, path, body, headers } = readArgs(spec, args);
    const result = await send(
      path,
      {
        method,
        headers,
        ...(spec.body ? { json: body ?? {} } : {}),
        ...(spec.form ? { body: formData(body) } : {}),
      },
      { bearer: spec.bearer, unwrap: unwrapTyped, customer: spec.customer === true },
    );
    if (result.data && spec.ends && session) await session.endSession(spec.ends);
    return result;
  }

  const customerAuth = Object.fromEntries(
    Object.entries(CUSTOMER_OPERATIONS).map(([name, spec]) => [
      name,
      (...args: unknown[]) => customerCall(spec, args),
    ]),
  ) as unknown as CustomerAuth;

  async function info(): Promise<SessionInfo> {
    const tokens = session ? await session.getTokens() : null;
    const claims = decodeClaims(tokens?.access_token);
    return {
      userId: typeof claims?.ulid === 'string' ? claims.ulid : null,
      isAnonymous: typeof claims?.is_anonymous === 'boolean' ? claims.is_anonymous : null,
      isLoggedIn: typeof claims?.is_logged_in === 'boolean' ? claims.is_logged_in : null,
      secondsToExpiry: tokens && session ? session.secondsLeft(tokens.access_token) : null,
      claims,
    };
  }

  return {
    auth: { ...customerAuth, refreshToken, getAnonymousToken },
    request,
    session: {
      managed: session !== null,
      getTokens: async () => (session ? session.getTokens() : null),
      ensureAccessToken,
      info,
    },
    onAuthStateChange(callback) {
      if (!authState || !session) return () => {};
      const unsubscribe = authState.subscribe(callback);
      session.getTokens().then(
        (tokens) => authState.seed(tokens),
        () => authState.seed(null),
      );
      return unsubscribe;
    },
    dispose() {
      session?.dispose();
      authState?.close();
    },
  };
}

/** A multipart body from `{field: Blob | string}`; a Blob without a name is sent as `blob`, as browsers do. */
function formData(fields: unknown): FormData {
  const form = new FormData();
  for (const [name, value] of Object.entries((fields ?? {}) as Record<string, unknown>)) {
    if (value instanceof Blob) form.append(name, value);
    else if (value !== undefined && value !== null) form.append(name, String(value));
  }
  return form;
}

/** A typed operation's `data`: the envelope's `content`, else the JSON body; anything else is not what was promised. */
const unwrapTyped: Unwrap<unknown> = (body) =>
  body !== null && typeof body === 'object' ? unwrapContent(body) : undefined;

/** A generic call: `content` when the envelope has it, the body otherwise, null for an empty 2xx. */
function unwrapAny(body: unknown): unknown {
  if (body === undefined) return null;
  if (body !== null && typeof body === 'object' && 'content' in body)
    return (body as { content: unknown }).content;
  return body;
}
