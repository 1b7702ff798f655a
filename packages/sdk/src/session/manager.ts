import { isSessionEnding, type SessionEndReason } from '../http/errors.js';
import { retryAfterSeconds, type Transport } from '../http/execute.js';
import type { ApiResult } from '../http/result.js';
import type { Lock } from '../lock/contract.js';
import type { TokenPair, TokenStorage } from '../storage/contract.js';
import { decodeClaims } from '../tokens/jwt.js';
import { callAnonymous, callRefreshToken } from './api.js';
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

export interface SessionManagerOptions extends SessionHooks {
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
}

export type Outcome =
  | { kind: 'rotated'; tokens: TokenPair; result: ApiResult<TokenPair> }
  | { kind: 'anonymous'; tokens: TokenPair; result: ApiResult<TokenPair> }
  | { kind: 'adopted'; tokens: TokenPair }
  | { kind: 'ended'; reason: SessionEndReason; result: ApiResult<TokenPair> }
  | { kind: 'failed'; tokens: TokenPair | null; result: ApiResult<TokenPair> }
  | { kind: 'missing' };

interface RefreshIntent {
  /** The access token the server just refused with 401: refresh even if the clock says it is fine. */
  rejected?: string;
  /** Rotate even if the stored token is fresh, unless storage moved on since `seen`. */
  force?: boolean;
  seen?: TokenPair;
}

type Operation = { op: 'refresh'; intent: RefreshIntent } | { op: 'bootstrap' } | { op: 'anonymous' };

/**
 * The managed session: bootstrap, proactive and 401-driven refresh, single-flight inside this
 * instance (one pending promise) and across instances and tabs (the lock, and a re-read of storage
 * inside it). Tokens are cleared only on a session-ending code from the server.
 */
export class SessionManager {
  private flight: Promise<Outcome> | null = null;
  private readonly clock: SkewClock;
  /** Refresh tokens this instance has rotated away; never sent again (bounded). */
  private readonly spent: string[] = [];
  /** The last anonymous access token seen: its user id (and cart) survives a lost session. */
  private continuity: string | undefined;
  private lastNotified: string | undefined;

  constructor(private readonly o: SessionManagerOptions) {
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

  /** The access token to send now: bootstraps or refreshes first when needed. Null: none could be had. */
  async accessToken(): Promise<string | null> {
    const stored = await this.o.storage.getTokens();
    if (!stored) return (await this.bootstrap()).tokens?.access_token ?? null;
    this.observe(stored);
    if (!this.needsRefresh(stored.access_token)) return stored.access_token;
    const outcome = await this.refresh({ seen: stored });
    if (outcome.kind === 'rotated' || outcome.kind === 'adopted' || outcome.kind === 'anonymous') {
      return outcome.tokens.access_token;
    }
    if (outcome.kind === 'ended' || outcome.kind === 'missing') {
      return (await this.bootstrap()).tokens?.access_token ?? null;
    }
    // A transient failure: send what we have and let the server judge it; the session stays.
    return stored.access_token;
  }

  async bootstrap(): Promise<{ tokens: TokenPair | null; outcome: Outcome }> {
    let outcome = await this.fly({ op: 'bootstrap' });
    // Joined a refresh that ended the session instead of a bootstrap: now start one.
    if (outcome.kind === 'ended' || outcome.kind === 'missing') outcome = await this.fly({ op: 'bootstrap' });
    return { tokens: 'tokens' in outcome ? outcome.tokens : null, outcome };
  }

  refresh(intent: RefreshIntent = {}): Promise<Outcome> {
    return this.fly({ op: 'refresh', intent });
  }

  /** A new anonymous session on the caller's request (keeps the anonymous user id when it can). */
  async anonymous(): Promise<Outcome> {
    // Not a join: a pending refresh's outcome is not the new anonymous session the caller asked
    // for. Wait for it (every flight is bounded by timeouts and the retry budget), then start ours.
    while (this.flight) await this.flight.catch(() => undefined);
    return this.fly({ op: 'anonymous' });
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

  /** Stores a pair obtained outside the managed flow (a manual call) and tells the listeners. */
  async adoptExternal(tokens: TokenPair): Promise<void> {
    await this.o.lock.run(this.o.lockName, async () => {
      this.clock.learnFromFreshToken(tokens.access_token);
      await this.o.storage.setTokens(tokens);
    });
    this.notify({ tokens }, 'manual');
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

  /**
   * One operation at a time per instance: later callers join the pending one. Hooks run after the
   * lock is released and after `flight` is cleared, so a hook that calls the SDK starts a fresh
   * operation (it sees the new tokens) instead of awaiting itself.
   */
  private fly(operation: Operation): Promise<Outcome> {
    if (this.flight) return this.flight;
    const flight = (async () => {
      let outcome: Outcome;
      try {
        outcome = await this.o.lock.run(this.o.lockName, () => this.locked(operation));
      } finally {
        this.flight = null;
      }
      this.afterLock(outcome, operation);
      return outcome;
    })();
    this.flight = flight;
    return flight;
  }

  private async locked(operation: Operation): Promise<Outcome> {
    // Re-read inside the lock: a sibling tab or instance may have rotated while we waited.
    const stored = await this.o.storage.getTokens();
    if (operation.op === 'bootstrap') {
      return stored ? { kind: 'adopted', tokens: stored } : this.mintAnonymous(null);
    }
    if (operation.op === 'anonymous') return this.mintAnonymous(stored);
    if (!stored) return { kind: 'missing' };
    const { intent } = operation;
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
  private async rotate(stored: TokenPair): Promise<Outcome> {
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
      const retryAfter = retryAfterSeconds(response, Date.now());
      const delay = Math.max(backoff, (retryAfter ?? 0) * 1000);
      if (delay > maxDelayMs || this.o.now() - startedAt + delay > budgetMs) {
        return { kind: 'failed', tokens: stored, result };
      }
      await this.o.sleep(delay);
    }
  }

  private async mintAnonymous(stored: TokenPair | null): Promise<Outcome> {
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

  private afterLock(outcome: Outcome, operation: Operation): void {
    switch (outcome.kind) {
      case 'rotated':
        this.notify(outcome, 'refresh');
        this.observe(outcome.tokens);
        break;
      case 'anonymous':
        this.notify(outcome, 'anonymous');
        this.observe(outcome.tokens);
        break;
      case 'adopted':
        this.notify(outcome, 'adopted');
        this.observe(outcome.tokens);
        break;
      case 'ended':
        this.lastNotified = undefined;
        this.call(() => this.o.onSessionEnded?.(outcome.reason));
        break;
      case 'failed': {
        const error = outcome.result.error;
        if (error && operation.op !== 'anonymous') {
          this.call(() => this.o.onRefreshFailed?.({ code: error.code, message: error.message }));
        }
        break;
      }
      case 'missing':
        break;
    }
  }

  private notify(outcome: { tokens: TokenPair }, source: TokenSource): void {
    // Adopting what this instance already announced is not news.
    if (this.lastNotified === outcome.tokens.refresh_token) return;
    this.lastNotified = outcome.tokens.refresh_token;
    const tokens = { ...outcome.tokens };
    this.call(() => this.o.onTokensUpdated?.(tokens, { source }));
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
