import { boundTo } from '../dpop/signer.js';
import { endsBoundSession, isSessionEnding, type SessionEndReason } from '../http/errors.js';
import { retryAfterSeconds, type Transport } from '../http/execute.js';
import type { ApiResult } from '../http/result.js';
import type { Handover, Lock } from '../lock/contract.js';
import {
  bare,
  isNewerInSession,
  type SessionNotes,
  type StoredPair,
  samePair,
  swapByReading,
  type TokenPair,
  type TokenStorage,
} from '../storage/contract.js';
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
   * No new attempt of one refresh starts this long after its first, ms. Whatever this says, a
   * refresh token that got no answer is sent again only until 5 s before the server's grace
   * window (its `x-refresh-grace-seconds`, 30 s until the SDK has seen one) closes, counted from
   * the first send that got no answer, across refreshes, instances and page loads. @default 20000
   */
  budgetMs?: number;
}

/** The grace window the SDK assumes until the server has said its own: the server's default. */
const DEFAULT_GRACE_SECONDS = 30;
/**
 * An unanswered refresh token is not sent again this close to the end of the grace window: the
 * offset to the server's clock is known to about a second, and the replay must arrive in time.
 */
const GRACE_MARGIN_MS = 5000;
/** The header in which the refresh route advertises its grace window, seconds. */
const GRACE_HEADER = 'x-refresh-grace-seconds';

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
  /** The server's clock as this instance learns it, shared with the DPoP proofs. @default one of its own */
  clock?: SkewClock;
}

/**
 * How a refresh flight ended. Each kind means one thing:
 * - `rotated`: this flight spent the stored refresh token and stored the successor.
 * - `adopted`: storage holds a pair this flight did not make (a sibling's, or this instance's
 *   earlier one) that makes the refresh needless; nothing was sent for it.
 * - `replaced`: the stored refresh token got no answer and the grace window has passed, so it was
 *   not sent again; an anonymous session was replaced by a new one with the same user id.
 * - `ended`: the session is over (the server said so, or a customer's refresh token got no answer
 *   and the window has passed: `REFRESH_ANSWER_LOST`); storage was cleared.
 * - `failed`: no answer worth acting on (network, 5xx, 429); the stored pair is kept.
 * - `missing`: storage holds no pair to refresh.
 */
export type RefreshOutcome =
  | { kind: 'rotated'; tokens: TokenPair; result: ApiResult<TokenPair> }
  | { kind: 'adopted'; tokens: TokenPair }
  | { kind: 'replaced'; tokens: TokenPair; result: ApiResult<TokenPair> }
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

/**
 * What the caller saw when it decided a refresh is needed. Inside the lock, a sibling already
 * refreshed exactly when storage no longer holds it; the clock is not asked again.
 */
type RefreshIntent =
  /** The pair read before asking. */
  | { seen: TokenPair }
  /** The access token the server just refused with 401 (even if the clock says it is fine). */
  | { rejected: string };

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
  // DPOP_PROOF_INVALID: a bound token whose key this device lost; the refresh then ends the session.
  if (code !== undefined && code !== 'UNAUTHORIZED' && code !== 'HTTP_ERROR' && !endsBoundSession(code))
    return false;
  return !(call.customerOnly && decodeClaims(call.sent)?.is_anonymous === true);
}

/** Error codes of a failed connection that never reached the server: the token was not presented. */
const NEVER_SENT = new Set([
  'ECONNREFUSED',
  'ENOTFOUND',
  'EAI_AGAIN',
  'ENETUNREACH',
  'EHOSTUNREACH',
  'ENETDOWN',
]);

/**
 * Whether a request that got no answer may have reached the server (and so may have rotated the
 * token). Only a device that says it is offline, or a connection refused or unresolved (which
 * Node.js reports; browsers do not tell), is known not to have.
 */
function mayHaveReached(cause: unknown): boolean {
  if ((globalThis as { navigator?: { onLine?: boolean } }).navigator?.onLine === false) return false;
  for (let c = cause, depth = 0; c && typeof c === 'object' && depth < 4; depth++) {
    const code = (c as { code?: unknown }).code;
    if (typeof code === 'string' && NEVER_SENT.has(code)) return false;
    c = (c as { cause?: unknown }).cause;
  }
  return true;
}

/** The result the SDK answers when it ends a session whose refresh answer was lost. */
function answerLost(): ApiResult<TokenPair> {
  const error = {
    message: 'The refresh got no answer and the grace window has passed; the session ended on this device.',
    success: false as const,
    code: 'REFRESH_ANSWER_LOST',
  };
  const response = new Response(JSON.stringify(error), {
    status: 400,
    headers: { 'content-type': 'application/json' },
  });
  return { data: null, error, response };
}

type Write = { written: true } | { written: false; current: StoredPair | null };

/**
 * The managed session's refresh rules, all of them: bootstrap, proactive, 401-driven, manual and
 * timed refresh; single-flight inside this instance (one pending flight per kind) and across
 * instances and tabs (the lock, a re-read of storage inside it, and the lock's handover where
 * storage may lag); compare-and-swap writes; retries with the same token inside the grace window
 * only; tokens cleared only when the session is over.
 */
export class SessionRefresh {
  private flight: { kind: FlightKind; done: Promise<AnyOutcome> } | null = null;
  private readonly clock: SkewClock;
  private readonly handover: Handover | null;
  /** The server's grace window, s, once it has said it (a refresh answer, or notes in storage). */
  private graceSeconds: number | undefined;
  /** Refresh tokens this instance has rotated away; never sent again (bounded). */
  private readonly spent: string[] = [];
  /** The last anonymous access token seen: its user id (and cart) survives a lost session. */
  private continuity: string | undefined;
  private lastNotified: string | undefined;
  private timer: ReturnType<typeof setTimeout> | undefined;

  constructor(private readonly o: RefreshOptions) {
    this.clock = o.clock ?? new SkewClock(o.now);
    this.handover = o.lock.handover?.(o.lockName) ?? null;
  }

  get storage(): TokenStorage {
    return this.o.storage;
  }

  /** The pair in storage, as the caller may see it (without the SDK's notes). */
  async getTokens(): Promise<TokenPair | null> {
    const pair = await this.read();
    return pair ? bare(pair) : null;
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
    const stored = await this.read();
    if (!stored) return (await this.bootstrap()).tokens?.access_token ?? null;
    if (!this.needsRefresh(stored.access_token)) return stored.access_token;
    const outcome = await this.refresh({ seen: stored });
    switch (outcome.kind) {
      case 'rotated':
      case 'adopted':
      case 'replaced':
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
    return (await this.read()) ? this.accessToken() : null;
  }

  /**
   * After a 401 to a call: a fresher access token to resend it with once, or null when the 401 is
   * not about the token or no fresher token could be had.
   */
  async tokenForResend(result: ApiResult<unknown>, call: UnauthorizedCall): Promise<string | null> {
    if (!isTokenRefusal(result, call)) return null;
    // The server refused this token (its clock, a revoked key): refresh even if it looks fresh here.
    const outcome = await this.refresh({ rejected: call.sent });
    if (outcome.kind !== 'rotated' && outcome.kind !== 'adopted' && outcome.kind !== 'replaced') return null;
    return outcome.tokens.access_token !== call.sent ? outcome.tokens.access_token : null;
  }

  /** `sdk.auth.refreshToken` in managed mode: never sends a refresh token the SDK already spent. */
  async refreshManually(body: RefreshTokenBody): Promise<ApiResult<RefreshTokenContent>> {
    const stored = await this.read();
    // The SDK rotated this token already (here or in a sibling tab): sending it again could count
    // as reuse and end the session. What it was rotated into is in storage: answer that.
    if (stored && this.isSpent(body.refresh_token, stored)) {
      return syntheticOk(bare(stored), 'Token refreshed successfully');
    }
    if (stored && stored.refresh_token === body.refresh_token) {
      const outcome = await this.refresh({ seen: stored });
      switch (outcome.kind) {
        case 'rotated':
        case 'ended':
        case 'failed':
          return outcome.result;
        case 'adopted':
        case 'replaced':
          return syntheticOk(bare(outcome.tokens), 'Token refreshed successfully');
        case 'missing':
          return callRefreshToken(this.o.transport, body);
      }
    }
    // A token the SDK does not manage: one plain call, and the pair it yields becomes the session.
    const result = await callRefreshToken(this.o.transport, body);
    this.learnGrace(result.response);
    if (result.data) await this.storeAnswered(result.data);
    return result;
  }

  async bootstrap(): Promise<{ tokens: TokenPair | null; outcome: BootstrapOutcome }> {
    const outcome = await this.fly('bootstrap', () => this.lockedBootstrap());
    return { tokens: outcome.tokens, outcome };
  }

  refresh(intent: RefreshIntent): Promise<RefreshOutcome> {
    return this.fly('refresh', () => this.lockedRefresh(intent));
  }

  /** A new anonymous session on the caller's request (keeps the anonymous user id when it can). */
  anonymous(): Promise<AnonymousOutcome> {
    return this.fly('anonymous', async () => {
      const stored = await this.readInLock();
      const minted = await this.mintAnonymous(stored?.access_token ?? this.continuity);
      if (minted.kind === 'failed') return { ...minted, tokens: stored ? bare(stored) : null };
      // The caller asked for this session: it replaces what is stored (never an older pair of it).
      await this.replace(minted.tokens);
      return minted;
    });
  }

  /** True when `refreshToken` is older than what storage holds: sending it would be reuse. */
  isSpent(refreshToken: string, stored: TokenPair | null): boolean {
    if (this.spent.includes(refreshToken)) return true;
    if (!stored || stored.refresh_token === refreshToken) return false;
    return isNewerInSession(stored, { access_token: '', refresh_token: refreshToken });
  }

  /** Stores a pair an auth operation answered (login, logout, a manual refresh) and tells the listeners. */
  async storeAnswered(answered: TokenPair): Promise<void> {
    const tokens = bare(answered);
    const written = await this.o.lock.run(this.o.lockName, async () => {
      this.clock.learnFromFreshToken(tokens.access_token);
      return this.replace(tokens);
    });
    if (written) {
      this.notify(tokens, 'manual');
      this.observe(tokens);
    }
  }

  /**
   * The session is over by the caller's own act (the account was deleted or deactivated): clear
   * the tokens and tell `onSessionEnded` with the code the server now answers for this session.
   */
  async endSession(reason: SessionEndReason): Promise<void> {
    await this.o.lock.run(this.o.lockName, async () => {
      await this.o.storage.clearTokens();
      await this.handover?.publish(null);
    });
    this.lastNotified = undefined;
    this.call(() => this.o.onSessionEnded?.(reason));
  }

  /** Stops the auto-refresh timer and lets go of the handover. */
  dispose(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
    this.handover?.close();
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
    const stored = await this.readInLock();
    if (stored) return { kind: 'adopted', tokens: bare(stored) };
    const minted = await this.mintAnonymous(this.continuity);
    if (minted.kind === 'failed') return { ...minted, tokens: null };
    const write = await this.write(null, this.withNotes(minted.tokens));
    if (write.written) return minted;
    // Someone without our lock started a session meanwhile: theirs is the session; ours is dropped.
    return write.current ? { kind: 'adopted', tokens: bare(write.current) } : minted;
  }

  private async lockedRefresh(intent: RefreshIntent): Promise<RefreshOutcome> {
    // Re-read inside the lock: a sibling tab or instance may have rotated while we waited.
    const stored = await this.readInLock();
    if (!stored) return { kind: 'missing' };
    const changed =
      'seen' in intent
        ? stored.refresh_token !== intent.seen.refresh_token
        : stored.access_token !== intent.rejected;
    if (changed) return { kind: 'adopted', tokens: bare(stored) };
    if (this.pastGrace(stored)) return this.recoverLost(stored);
    return this.rotate(stored);
  }

  /**
   * Spends `stored.refresh_token`. Transient failures retry with the SAME token, which the server
   * answers with the same successor inside its grace window, so a lost answer costs nothing; the
   * first send that got no answer is written down with the pair, and from then on the token is
   * sent again only while that window can still replay it. Only the session's end clears storage.
   */
  private async rotate(start: StoredPair): Promise<RefreshOutcome> {
    const retry = this.o.retry;
    const attempts = retry.attempts ?? 4;
    const baseDelayMs = retry.baseDelayMs ?? 300;
    const maxDelayMs = retry.maxDelayMs ?? 10_000;
    const budgetMs = retry.budgetMs ?? 20_000;
    const startedAt = this.o.now();
    let stored = start;
    for (let attempt = 1; ; attempt++) {
      if (this.pastGrace(stored)) return this.recoverLost(stored);
      const sentAt = this.clock.serverNow();
      const result = await callRefreshToken(this.o.transport, { refresh_token: stored.refresh_token });
      this.learnGrace(result.response);
      if (result.data) {
        const tokens = bare(result.data);
        // After a send that got no answer, this may be the replay of the successor minted then
        // (for a bound session, any time later): its iat only bounds the server's clock from below.
        if (stored.notes?.unanswered_since !== undefined)
          this.clock.learnFromStoredToken(tokens.access_token, undefined);
        else this.clock.learnFromAnswer(tokens.access_token, sentAt);
        this.markSpent(stored.refresh_token);
        const write = await this.write(stored, this.withNotes(tokens));
        if (write.written) return { kind: 'rotated', tokens, result: result as ApiResult<TokenPair> };
        return this.lostTo(write.current);
      }
      const { error, response } = result;
      // Someone sharing the storage without the lock (it timed out) may have rotated meanwhile:
      // their pair wins over anything this attempt concluded.
      const latest = await this.read();
      if (!samePair(latest, stored)) return this.lostTo(latest);

      if (isSessionEnding(error.code) || endsBoundSession(error.code)) {
        this.rememberContinuity(stored.access_token);
        this.markSpent(stored.refresh_token);
        const write = await this.write(stored, null);
        if (!write.written && write.current) return { kind: 'adopted', tokens: bare(write.current) };
        return { kind: 'ended', reason: error.code, result };
      }
      if (
        error.code === 'NETWORK_ERROR' &&
        stored.notes?.unanswered_since === undefined &&
        mayHaveReached(error.cause)
      ) {
        const marked = this.withNotes(stored, { unanswered_since: sentAt });
        const write = await this.write(stored, marked);
        if (!write.written) return this.lostTo(write.current);
        stored = marked;
      }
      const transient = error.code === 'NETWORK_ERROR' || response.status >= 500 || response.status === 429;
      if (!transient || attempt >= attempts) return { kind: 'failed', tokens: bare(stored), result };
      const backoff = baseDelayMs * 2 ** (attempt - 1) * (1 + Math.random() / 2);
      // An HTTP-date Retry-After is written by the server's clock.
      const retryAfter = retryAfterSeconds(response, this.clock.serverNow());
      const delay = Math.max(backoff, (retryAfter ?? 0) * 1000);
      if (delay > maxDelayMs || this.o.now() - startedAt + delay > budgetMs) {
        return { kind: 'failed', tokens: bare(stored), result };
      }
      await this.o.sleep(delay);
    }
  }

  /** Whether `stored`'s refresh token got no answer long enough ago that sending it again could be taken for reuse. */
  private pastGrace(stored: StoredPair): boolean {
    const since = stored.notes?.unanswered_since;
    if (since === undefined) return false;
    // A bound session's just-replaced token, sent with a proof of its key, is answered the same
    // successor for as long as that successor is unused (RFC 9449 keeps a thief without the key
    // out), so a lost answer never costs a bound session, however long the device was offline.
    if (boundTo(stored.access_token) !== undefined) return false;
    const graceMs = (this.graceSeconds ?? DEFAULT_GRACE_SECONDS) * 1000;
    return this.clock.serverNow() >= since + graceMs - GRACE_MARGIN_MS;
  }

  /**
   * The stored refresh token got no answer and the grace window has passed: the server may have
   * rotated it, and presenting it now would read as theft (RFC 9700 §4.14.2) and revoke the
   * session. It is never sent again. An anonymous session is replaced by a new one that keeps the
   * user id (the server allows it for the access token of a live anonymous session, even
   * expired); a customer's session ends here, and the shopper signs in again.
   */
  private async recoverLost(stored: StoredPair): Promise<RefreshOutcome> {
    if (decodeClaims(stored.access_token)?.is_anonymous === true) {
      const minted = await this.mintAnonymous(stored.access_token);
      if (minted.kind === 'failed') return { kind: 'failed', tokens: bare(stored), result: minted.result };
      this.markSpent(stored.refresh_token);
      const write = await this.write(stored, this.withNotes(minted.tokens));
      if (!write.written) return this.lostTo(write.current);
      return { kind: 'replaced', tokens: minted.tokens, result: minted.result };
    }
    this.markSpent(stored.refresh_token);
    const write = await this.write(stored, null);
    if (!write.written && write.current) return { kind: 'adopted', tokens: bare(write.current) };
    return { kind: 'ended', reason: 'REFRESH_ANSWER_LOST', result: answerLost() };
  }

  /** Storage moved on while this flight worked: what it holds now is the outcome. */
  private lostTo(current: StoredPair | null): RefreshOutcome {
    return current ? { kind: 'adopted', tokens: bare(current) } : { kind: 'missing' };
  }

  /** POST /auth/anonymous; nothing is stored here. */
  private async mintAnonymous(bearer: string | undefined): Promise<AnonymousOutcome> {
    // Present the old anonymous token so the server keeps the user id (and the cart on it); a
    // logged-in token is presented too, so the server can refuse with USER_ALREADY_AUTHENTICATED.
    let result = await callAnonymous(this.o.transport, this.o.apiKey, bearer);
    // The old anonymous token is bound to a key this device no longer has (RFC 9449 §7.1): it
    // cannot carry its user id over; a new anonymous user it is.
    if (bearer && endsBoundSession(result.error?.code))
      result = await callAnonymous(this.o.transport, this.o.apiKey, undefined);
    if (!result.data) return { kind: 'failed', tokens: null, result: result as ApiResult<TokenPair> };
    const tokens = bare(result.data);
    this.clock.learnFromFreshToken(tokens.access_token);
    return { kind: 'anonymous', tokens, result: result as ApiResult<TokenPair> };
  }

  /**
   * Stores `next` in place of `from`, atomically where the storage can. When storage no longer
   * holds `from`, nothing is written, unless `next` is a later pair of the session storage holds
   * (a lock-less sibling stored an older one meanwhile): never an older pair over a newer one.
   */
  private async write(from: TokenPair | null, next: StoredPair | null): Promise<Write> {
    let expected = from;
    // Bounded: each pass follows a sibling's write, and a writer's pair only gets newer.
    for (let pass = 0; pass < 4; pass++) {
      if (await this.swap(expected, next)) {
        await this.handover?.publish(next);
        return { written: true };
      }
      // Compared with storage's own answer: a read that lags a sibling's write (which the
      // handover made known) is still what the swap will meet.
      const raw = await this.o.storage.getTokens();
      if (!next || !raw || !isNewerInSession(next, raw)) {
        return { written: false, current: this.handover?.newer(raw) ?? raw };
      }
      expected = raw;
    }
    return { written: false, current: await this.read() };
  }

  /** Stores a pair the caller chose over whatever is stored, unless storage holds a later pair of its session. */
  private async replace(tokens: TokenPair): Promise<boolean> {
    const next = this.withNotes(tokens);
    for (let pass = 0; pass < 4; pass++) {
      const raw = await this.o.storage.getTokens();
      const current = this.handover?.newer(raw) ?? raw;
      if (current && isNewerInSession(current, tokens)) return false;
      if (await this.swap(raw, next)) {
        await this.handover?.publish(next);
        return true;
      }
    }
    return false;
  }

  private swap(expected: TokenPair | null, next: StoredPair | null): Promise<boolean> {
    const storage = this.o.storage;
    return storage.compareAndSwap
      ? storage.compareAndSwap(expected, next)
      : swapByReading(storage, expected, next);
  }

  /** What storage holds, brought up to date by a sibling's handover, and learnt from. */
  private async read(): Promise<StoredPair | null> {
    const stored = await this.o.storage.getTokens();
    const pair = this.handover?.newer(stored) ?? stored;
    if (pair) this.observe(pair);
    return pair;
  }

  /** Inside the lock: what the last holder stored, even where this instance's storage read lags. */
  private async readInLock(): Promise<StoredPair | null> {
    const stored = await this.o.storage.getTokens();
    const pair = this.handover
      ? await this.handover.reconcile(stored, () => this.o.storage.getTokens())
      : stored;
    if (pair) this.observe(pair);
    return pair;
  }

  /** `tokens` with what this instance knows now, to keep beside them. */
  private withNotes(tokens: TokenPair, extra: SessionNotes = {}): StoredPair {
    const notes: SessionNotes = {};
    if (this.clock.offset !== undefined) notes.clock_offset_ms = this.clock.offset;
    if (this.graceSeconds !== undefined) notes.grace_seconds = this.graceSeconds;
    Object.assign(notes, extra);
    const pair: StoredPair = bare(tokens);
    if (Object.keys(notes).length > 0) pair.notes = notes;
    return pair;
  }

  private learnGrace(response: Response): void {
    const value = response.headers.get(GRACE_HEADER);
    if (value !== null && /^\d+$/.test(value.trim())) this.graceSeconds = Number(value.trim());
  }

  private afterLock(outcome: AnyOutcome, kind: FlightKind): void {
    switch (outcome.kind) {
      case 'rotated':
        this.notify(outcome.tokens, 'refresh');
        this.observe(outcome.tokens);
        break;
      case 'anonymous':
      case 'replaced':
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
    const copy = bare(tokens);
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

  /** Learns from a pair this instance sees: the clock (and its kept offset), the grace window, the anonymous user. */
  private observe(tokens: StoredPair): void {
    this.clock.learnFromStoredToken(tokens.access_token, tokens.notes?.clock_offset_ms);
    if (tokens.notes?.grace_seconds !== undefined) this.graceSeconds ??= tokens.notes.grace_seconds;
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
