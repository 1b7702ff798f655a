import { isSessionEnding, type SessionEndReason } from '../http/errors.js';
import { retryAfterSeconds, type Transport } from '../http/execute.js';
import type { ApiResult } from '../http/result.js';
import type { Lock } from '../lock/contract.js';
import type { TokenPair, TokenStorage } from '../storage/contract.js';
import { decodeClaims } from '../tokens/jwt.js';
import type { RefreshTokenBody, RefreshTokenContent } from '../types.js';
import { callAnonymous, callRefreshToken, syntheticOk } from './api.js';
import { SkewClock } from './clock.js';

/** Where a pair the SDK now holds came from. */
export type TokenSource = 'refresh' | 'adopted' | 'anonymous' | 'manual';

export interface RetryOptions {
  /** Refresh attempts in one go, the first included. @default 4 */
  attempts?: number;
  /** First backoff delay, doubled each attempt, plus up to 50% jitter, ms. @default 300 */
  baseDelayMs?: number;
  /** A Retry-After longer than this ends the attempt (session kept; the next request tries again), ms. @default 10000 */
  maxDelayMs?: number;
  /**
   * No new attempt starts this long after the first one, ms. Keeps every retry of a refresh token
   * inside the server's grace window (30 s by default), where a replay answers the same successor
   * instead of counting as reuse. @default 20000
   */
  budgetMs?: number;
}

export interface SessionHooks {
  /** A new pair is in storage (after the lock is released; never awaited by the SDK). */
  onTokensUpdated?: (tokens: TokenPair, info: { source: TokenSource }) => void | Promise<void>;
  /** The server said the session is over; tokens were cleared. */
  onSessionEnded?: (reason: SessionEndReason) => void | Promise<void>;
  /** A refresh or bootstrap failed without ending the session (network, 5xx, 429). */
  onRefreshFailed?: (error: { code: string; message: string }) => void | Promise<void>;
}

export interface RefreshOptions extends SessionHooks {
  transport: Transport;
  apiKey: string | undefined;
  storage: TokenStorage;
  lock: Lock;
  lockName: string;
  now: () => number;
  sleep: (ms: number) => Promise<void>;
  retry: RetryOptions;
  /** Refresh when the access token has less than this left (capped at half its lifetime), s. */
  refreshLeewaySeconds: number;
  /** Refresh on a timer shortly before expiry even with no request pending. */
  autoRefresh: boolean;
}

/**
 * How a refresh flight ended. Each kind means one thing:
 * - `rotated`: this flight spent the stored refresh token and stored the successor.
 * - `adopted`: storage holds a pair this flight did not make (a sibling's, or this instance's
 *   earlier one) that makes the refresh needless; nothing was sent for it.
 * - `ended`: the server said the session is over; storage was cleared.
 * - `failed`: no answer worth acting on (network, 5xx, 429); the stored pair is kept.
 * - `missing`: storage holds no pair to refresh.
 */
export type RefreshOutcome =
  | { kind: 'rotated'; tokens: TokenPair; result: ApiResult<TokenPair> }
  | { kind: 'adopted'; tokens: TokenPair }
  | { kind: 'ended'; reason: SessionEndReason; result: ApiResult<TokenPair> }
  | { kind: 'failed'; tokens: TokenPair; result: ApiResult<TokenPair> }
  | { kind: 'missing' };

/** How a bootstrap flight ended: `adopted` is a pair found in storage, as for a refresh. */
export type BootstrapOutcome =
  | { kind: 'adopted'; tokens: TokenPair }
  | { kind: 'anonymous'; tokens: TokenPair; result: ApiResult<TokenPair> }
  | { kind: 'failed'; tokens: null; result: ApiResult<TokenPair> };

/** How a flight for a new anonymous session ended (the caller asked for one: nothing is adopted). */
export type AnonymousOutcome =
  | { kind: 'anonymous'; tokens: TokenPair; result: ApiResult<TokenPair> }
  | { kind: 'failed'; tokens: TokenPair | null; result: ApiResult<TokenPair> };

interface RefreshIntent {
  /** The access token the server just refused with 401: refresh even if the clock says it is fine. */
  rejected?: string;
  /** Rotate even if the stored token is fresh, unless storage moved on since `seen`. */
  force?: boolean;
  seen?: TokenPair;
}

type FlightKind = 'refresh' | 'bootstrap' | 'anonymous';
type AnyOutcome = RefreshOutcome | BootstrapOutcome | AnonymousOutcome;

/** The call whose 401 is being judged: which token it sent and under which Bearer rule. */
export interface UnauthorizedCall {
  /** The managed access token the call sent; null when it sent none. */
  sent: string | null;
  /** The call sends the managed session's Bearer (a sign-in's 'current' token is not refreshed for). */
  sessionBearer: boolean;
  /** Only a customer may call it. */
  customerOnly: boolean;
}

/**
 * Whether a 401 is about the token, so that a refresh and one resend can cure it. INVALID_CREDENTIALS
 * (a wrong password) is not, and resending it would spend one of the shopper's login attempts.
 * Neither is an anonymous token refused by a customer-only operation: a fresher anonymous token is
 * refused the same.
 */
export function isTokenRefusal(
  result: ApiResult<unknown>,
  call: UnauthorizedCall,
): call is UnauthorizedCall & {
  sent: string;
} {
  if (result.response.status !== 401 || !call.sent || !call.sessionBearer) return false;
  const code = result.error?.code;
  if (code !== undefined && code !== 'UNAUTHORIZED' && code !== 'HTTP_ERROR') return false;
  return !(call.customerOnly && decodeClaims(call.sent)?.is_anonymous === true);
}

/**
 * The managed session's refresh rules, all of them: bootstrap, proactive, 401-driven, manual and
 * timed refresh; single-flight inside this instance (one pending flight per kind) and across
 * instances and tabs (the lock, and a re-read of storage inside it); retries with the same token;
 * tokens cleared only on a session-ending code from the server.
 */
export class SessionRefresh {
  private flight: { kind: FlightKind; done: Promise<AnyOutcome> } | null = null;
  private readonly clock: SkewClock;
  /** Refresh tokens this instance has rotated away; never sent again (bounded). */
  private readonly spent: string[] = [];
  /** The last anonymous access token seen: its user id (and cart) survives a lost session. */
  private continuity: string | undefined;
  private lastNotified: string | undefined;
  private timer: ReturnType<typeof setTimeout> | undefined;

  constructor(private readonly o: RefreshOptions) {
    this.clock = new SkewClock(o.now);
  }

  get storage(): TokenStorage {
    return this.o.storage;
  }

  /** True when the access token should be refreshed before use. */
  needsRefresh(accessToken: string): boolean {
    return this.clock.expiresSoon(accessToken, this.o.refreshLeewaySeconds);
  }

  /** Seconds the access token has left by the server's clock, as far as this instance knows. */
  secondsLeft(accessToken: string): number | null {
    return this.clock.secondsLeft(accessToken);
  }

  /** The access token to send now, bootstrapping or refreshing first when needed; arms the timer. */
  async ensureAccessToken(): Promise<string | null> {
    const access = await this.accessToken();
    if (access && this.timer === undefined) this.schedule(access);
    return access;
  }

  /** The access token to send now: bootstraps or refreshes first when needed. Null: none could be had. */
  async accessToken(): Promise<string | null> {
    const stored = await this.o.storage.getTokens();
    if (!stored) return (await this.bootstrap()).tokens?.access_token ?? null;
    this.observe(stored);
    if (!this.needsRefresh(stored.access_token)) return stored.access_token;
    const outcome = await this.refresh({ seen: stored });
    switch (outcome.kind) {
      case 'rotated':
      case 'adopted':
        return outcome.tokens.access_token;
      case 'ended':
      case 'missing':
        return (await this.bootstrap()).tokens?.access_token ?? null;
      case 'failed':
        // A transient failure: send what we have and let the server judge it; the session stays.
        return stored.access_token;
    }
  }

  /** The stored access token when a session exists (refreshed if due); never bootstraps one. */
  async currentAccessToken(): Promise<string | null> {
    return (await this.o.storage.getTokens()) ? this.accessToken() : null;
  }

  /**
   * After a 401 to a call: a fresher access token to resend it with once, or null when the 401 is
   * not about the token or no fresher token could be had.
   */
  async tokenForResend(result: ApiResult<unknown>, call: UnauthorizedCall): Promise<string | null> {
    if (!isTokenRefusal(result, call)) return null;
    // The server refused this token (its clock, a revoked key): refresh even if it looks fresh here.
    const outcome = await this.refresh({ rejected: call.sent });
    if (outcome.kind !== 'rotated' && outcome.kind !== 'adopted') return null;
    return outcome.tokens.access_token !== call.sent ? outcome.tokens.access_token : null;
  }

  /** `sdk.auth.refreshToken` in managed mode: never sends a refresh token the SDK already spent. */
  async refreshManually(body: RefreshTokenBody): Promise<ApiResult<RefreshTokenContent>> {
    const stored = await this.o.storage.getTokens();
    // The SDK rotated this token already (here or in a sibling tab): sending it again could count
    // as reuse and end the session. What it was rotated into is in storage: answer that.
    if (stored && this.isSpent(body.refresh_token, stored)) {
      return syntheticOk(stored, 'Token refreshed successfully');
    }
    if (stored && stored.refresh_token === body.refresh_token) {
      const outcome = await this.refresh({ force: true, seen: stored });
      switch (outcome.kind) {
        case 'rotated':
        case 'ended':
        case 'failed':
          return outcome.result;
        case 'adopted':
          return syntheticOk(outcome.tokens, 'Token refreshed successfully');
        case 'missing':
          return callRefreshToken(this.o.transport, body);
      }
    }
    // A token the SDK does not manage: one plain call, and the pair it yields becomes the session.
    const result = await callRefreshToken(this.o.transport, body);
    if (result.data) await this.storeAnswered(result.data);
    return result;
  }

  async bootstrap(): Promise<{ tokens: TokenPair | null; outcome: BootstrapOutcome }> {
    const outcome = await this.fly('bootstrap', () => this.lockedBootstrap());
    return { tokens: outcome.tokens, outcome };
  }

  refresh(intent: RefreshIntent = {}): Promise<RefreshOutcome> {
    return this.fly('refresh', () => this.lockedRefresh(intent));
  }

  /** A new anonymous session on the caller's request (keeps the anonymous user id when it can). */
  anonymous(): Promise<AnonymousOutcome> {
    return this.fly('anonymous', async () => this.mintAnonymous(await this.o.storage.getTokens()));
  }

  /** True when `refreshToken` is older than what storage holds: sending it would be reuse. */
  isSpent(refreshToken: string, stored: TokenPair | null): boolean {
    if (this.spent.includes(refreshToken)) return true;
    if (!stored || stored.refresh_token === refreshToken) return false;
    const given = decodeClaims(refreshToken);
    const held = decodeClaims(stored.refresh_token);
    return (
      typeof given?.sid === 'string' &&
      given.sid === held?.sid &&
      typeof given.gen === 'number' &&
      typeof held.gen === 'number' &&
      given.gen < held.gen
    );
  }

  /** Stores a pair an auth operation answered (login, logout, a manual refresh) and tells the listeners. */
  async storeAnswered(tokens: TokenPair): Promise<void> {
    await this.o.lock.run(this.o.lockName, async () => {
      this.clock.learnFromFreshToken(tokens.access_token);
      await this.o.storage.setTokens(tokens);
    });
    this.notify(tokens, 'manual');
    this.observe(tokens);
  }

  /**
   * The session is over by the caller's own act (the account was deleted or deactivated): clear
   * the tokens and tell `onSessionEnded` with the code the server now answers for this session.
   */
  async endSession(reason: SessionEndReason): Promise<void> {
    await this.o.lock.run(this.o.lockName, () => this.o.storage.clearTokens());
    this.lastNotified = undefined;
    this.call(() => this.o.onSessionEnded?.(reason));
  }

  /** Stops the auto-refresh timer. */
  dispose(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
  }

  /**
   * One flight of a kind at a time per instance: later callers of the same kind join it, callers
   * of another kind wait for it and then fly their own, so nobody reads an outcome to a question
   * it did not ask. Hooks run after the lock is released and after `flight` is cleared, so a hook
   * that calls the SDK starts a fresh flight (it sees the new tokens) instead of awaiting itself.
   */
  private async fly<T extends AnyOutcome>(kind: FlightKind, locked: () => Promise<T>): Promise<T> {
    // Bounded: every flight is bounded by timeouts and the retry budget.
    while (this.flight && this.flight.kind !== kind) await this.flight.done.catch(() => undefined);
    if (this.flight) return this.flight.done as Promise<T>;
    const done = (async () => {
      let outcome: T;
      try {
        outcome = await this.o.lock.run(this.o.lockName, locked);
      } finally {
        this.flight = null;
      }
      this.afterLock(outcome, kind);
      return outcome;
    })();
    this.flight = { kind, done };
    return done;
  }

  private async lockedBootstrap(): Promise<BootstrapOutcome> {
    // Re-read inside the lock: a sibling tab or instance may have started a session while we waited.
    const stored = await this.o.storage.getTokens();
    if (stored) return { kind: 'adopted', tokens: stored };
    const minted = await this.mintAnonymous(null);
    return minted.kind === 'anonymous' ? minted : { ...minted, tokens: null };
  }

  private async lockedRefresh(intent: RefreshIntent): Promise<RefreshOutcome> {
    // Re-read inside the lock: a sibling tab or instance may have rotated while we waited.
    const stored = await this.o.storage.getTokens();
    if (!stored) return { kind: 'missing' };
    if (intent.force) {
      if (intent.seen && stored.refresh_token !== intent.seen.refresh_token)
        return { kind: 'adopted', tokens: stored };
    } else if (stored.access_token !== intent.rejected && !this.needsRefresh(stored.access_token)) {
      return { kind: 'adopted', tokens: stored };
    }
    return this.rotate(stored);
  }

  /**
   * Spends `stored.refresh_token`. Transient failures retry with the SAME token (the server answers
   * a replay inside its grace window with the same successor, so a lost answer costs nothing);
   * only a session-ending code clears storage.
   */
  private async rotate(stored: TokenPair): Promise<RefreshOutcome> {
    const retry = this.o.retry;
    const attempts = retry.attempts ?? 4;
    const baseDelayMs = retry.baseDelayMs ?? 300;
    const maxDelayMs = retry.maxDelayMs ?? 10_000;
    const budgetMs = retry.budgetMs ?? 20_000;
    const startedAt = this.o.now();
    for (let attempt = 1; ; attempt++) {
      const result = await callRefreshToken(this.o.transport, { refresh_token: stored.refresh_token });
      if (result.data) {
        const tokens = { access_token: result.data.access_token, refresh_token: result.data.refresh_token };
        this.clock.learnFromFreshToken(tokens.access_token);
        this.markSpent(stored.refresh_token);
        await this.o.storage.setTokens(tokens);
        return { kind: 'rotated', tokens, result: result as ApiResult<TokenPair> };
      }
      const { error, response } = result;
      // Someone sharing the storage without the lock (it timed out) may have rotated meanwhile:
      // their pair wins over anything this attempt concluded.
      const latest = await this.o.storage.getTokens();
      if (latest && latest.refresh_token !== stored.refresh_token) return { kind: 'adopted', tokens: latest };

      if (isSessionEnding(error.code)) {
        this.rememberContinuity(stored.access_token);
        this.markSpent(stored.refresh_token);
        await this.o.storage.clearTokens();
        return { kind: 'ended', reason: error.code, result };
      }
      const transient = error.code === 'NETWORK_ERROR' || response.status >= 500 || response.status === 429;
      if (!transient || attempt >= attempts) return { kind: 'failed', tokens: stored, result };
      const backoff = baseDelayMs * 2 ** (attempt - 1) * (1 + Math.random() / 2);
      // An HTTP-date Retry-After is written by the server's clock.
      const retryAfter = retryAfterSeconds(response, this.clock.serverNow());
      const delay = Math.max(backoff, (retryAfter ?? 0) * 1000);
      if (delay > maxDelayMs || this.o.now() - startedAt + delay > budgetMs) {
        return { kind: 'failed', tokens: stored, result };
      }
      await this.o.sleep(delay);
    }
  }

  private async mintAnonymous(stored: TokenPair | null): Promise<AnonymousOutcome> {
    // Present the old anonymous token so the server keeps the user id (and the cart on it); a
    // logged-in token is presented too, so the server can refuse with USER_ALREADY_AUTHENTICATED.
    const bearer = stored?.access_token ?? this.continuity;
    const result = await callAnonymous(this.o.transport, this.o.apiKey, bearer);
    if (!result.data) return { kind: 'failed', tokens: stored, result: result as ApiResult<TokenPair> };
    const tokens = { access_token: result.data.access_token, refresh_token: result.data.refresh_token };
    this.clock.learnFromFreshToken(tokens.access_token);
    await this.o.storage.setTokens(tokens);
    return { kind: 'anonymous', tokens, result: result as ApiResult<TokenPair> };
  }

  private afterLock(outcome: AnyOutcome, kind: FlightKind): void {
    switch (outcome.kind) {
      case 'rotated':
        this.notify(outcome.tokens, 'refresh');
        this.observe(outcome.tokens);
        break;
      case 'anonymous':
        this.notify(outcome.tokens, 'anonymous');
        this.observe(outcome.tokens);
        break;
      case 'adopted':
        this.notify(outcome.tokens, 'adopted');
        this.observe(outcome.tokens);
        break;
      case 'ended':
        this.lastNotified = undefined;
        this.call(() => this.o.onSessionEnded?.(outcome.reason));
        break;
      case 'failed': {
        const error = outcome.result.error;
        if (error && kind !== 'anonymous') {
          this.call(() => this.o.onRefreshFailed?.({ code: error.code, message: error.message }));
        }
        break;
      }
      case 'missing':
        break;
    }
  }

  private notify(tokens: TokenPair, source: TokenSource): void {
    // Adopting what this instance already announced is not news.
    if (this.lastNotified === tokens.refresh_token) return;
    this.lastNotified = tokens.refresh_token;
    this.schedule(tokens.access_token);
    const copy = { ...tokens };
    this.call(() => this.o.onTokensUpdated?.(copy, { source }));
  }

  /** With autoRefresh: wake up shortly before this token's expiry and make sure of a fresh one. */
  private schedule(accessToken: string): void {
    if (!this.o.autoRefresh) return;
    clearTimeout(this.timer);
    const left = this.secondsLeft(accessToken);
    if (left === null) return;
    const leeway = Math.min(this.o.refreshLeewaySeconds, left / 2);
    // Never sooner than a second, so a token that is already due cannot spin the timer.
    const delayMs = Math.max(1000, (left - leeway) * 1000);
    this.timer = setTimeout(async () => {
      // Re-arm from whatever is current: a sibling tab may have refreshed (no update event here).
      const access = await this.accessToken();
      if (access) this.schedule(access);
    }, delayMs);
    // In Node.js, a pending refresh timer must not keep the process alive.
    (this.timer as { unref?: () => void }).unref?.();
  }

  /** Runs a user hook without letting it throw into the SDK or block it. */
  private call(hook: () => void | Promise<void> | undefined): void {
    try {
      const value = hook();
      if (value && typeof value.catch === 'function') value.catch(() => {});
    } catch {
      // A broken listener must not break the session.
    }
  }

  private observe(tokens: TokenPair): void {
    this.clock.learnFromStoredToken(tokens.access_token);
    this.rememberContinuity(tokens.access_token);
    if (this.lastNotified === undefined) this.lastNotified = tokens.refresh_token;
  }

  private rememberContinuity(accessToken: string): void {
    if (decodeClaims(accessToken)?.is_anonymous === true) this.continuity = accessToken;
  }

  private markSpent(refreshToken: string): void {
    if (!this.spent.includes(refreshToken)) this.spent.push(refreshToken);
    if (this.spent.length > 16) this.spent.shift();
  }
}
