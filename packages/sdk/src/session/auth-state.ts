import type { SessionEndReason } from '../http/errors.js';
import type { TokenPair } from '../storage/contract.js';
import { decodeClaims } from '../tokens/jwt.js';

/**
 * - `SIGNED_IN`: a session began where there was none, or a shopper became a (different) customer.
 * - `SIGNED_OUT`: a customer's session gave way to an anonymous one (logout).
 * - `TOKEN_REFRESHED`: the same user's session moved to a new pair.
 * - `SESSION_ENDED`: the server ended the session (revoked, reused, expired, account gone).
 */
export type AuthChangeEvent = 'SIGNED_IN' | 'SIGNED_OUT' | 'TOKEN_REFRESHED' | 'SESSION_ENDED';

/** Who holds the session now, from the access token's claims. Never a token: events cross tabs. */
export interface AuthSession {
  userId: string;
  isAnonymous: boolean;
  isLoggedIn: boolean;
  /** `<session id>.<generation>` (the access token's `jti`): which pair this is. */
  pairId: string;
}

export interface AuthStateChange {
  event: AuthChangeEvent;
  /** Null after SESSION_ENDED. */
  session: AuthSession | null;
  /** SESSION_ENDED only: the server's code. */
  reason?: SessionEndReason;
  /** True when another tab or instance of this origin made the change. */
  remote: boolean;
}

export type AuthStateCallback = (change: AuthStateChange) => void;

interface Wire {
  v: 1;
  from: string;
  event: AuthChangeEvent;
  session: AuthSession | null;
  reason?: SessionEndReason;
}

function sessionOf(tokens: TokenPair): AuthSession | null {
  const claims = decodeClaims(tokens.access_token);
  if (!claims || typeof claims.ulid !== 'string') return null;
  return {
    userId: claims.ulid,
    isAnonymous: claims.is_anonymous === true,
    isLoggedIn: claims.is_logged_in === true,
    pairId: typeof claims['jti'] === 'string' ? (claims['jti'] as string) : tokens.refresh_token.slice(-16),
  };
}

function transition(from: AuthSession | null, to: AuthSession): AuthChangeEvent {
  if (!from) return 'SIGNED_IN';
  if (from.isLoggedIn && !to.isLoggedIn) return 'SIGNED_OUT';
  if (from.userId !== to.userId || (!from.isLoggedIn && to.isLoggedIn)) return 'SIGNED_IN';
  return 'TOKEN_REFRESHED';
}

/**
 * Auth-state events for one session across every tab of the origin: the tab whose SDK changed the
 * session classifies the change and posts it on a BroadcastChannel (or, without one, through a
 * `storage` event on a localStorage entry); every tab delivers it to its callbacks. Callbacks run
 * after the SDK released its refresh lock (the SDK's hooks fire then), so one may call the SDK.
 */
export class AuthStateHub {
  private readonly callbacks = new Set<AuthStateCallback>();
  private current: AuthSession | null | undefined;
  private readonly id = Math.random().toString(36).slice(2);
  private channel: BroadcastChannel | null = null;
  private readonly storageKey: string;
  private readonly onStorage = (event: StorageEvent) => {
    if (event.key !== this.storageKey || !event.newValue) return;
    this.receive(event.newValue);
  };

  private listening = false;
  private closed = false;

  /**
   * `crossTab` false (a request-scoped server storage, shared by nobody): no channel at all, so a
   * server making an SDK per request opens nothing per request.
   */
  constructor(
    private readonly name: string,
    private readonly crossTab = true,
  ) {
    this.storageKey = `${name}:auth-event`;
  }

  subscribe(callback: AuthStateCallback): () => void {
    this.listen();
    this.callbacks.add(callback);
    return () => {
      this.callbacks.delete(callback);
    };
  }

  /** The session as storage holds it when nothing was seen yet, so the next change is classified right. */
  seed(tokens: TokenPair | null): void {
    if (this.current !== undefined) return;
    this.current = tokens ? sessionOf(tokens) : null;
  }

  /**
   * Receiving starts with the first subscriber; sending with the first change, whether or not
   * anyone listens here, so the other tabs hear of it.
   */
  private listen(): void {
    if (this.listening) return;
    this.listening = true;
    if (!this.crossTab) return;
    const channel = this.openChannel();
    if (channel) channel.onmessage = (event: MessageEvent) => this.receive(event.data);
    else if (typeof globalThis.addEventListener === 'function' && this.localStorage())
      globalThis.addEventListener('storage', this.onStorage);
  }

  private openChannel(): BroadcastChannel | null {
    if (this.channel || this.closed) return this.channel;
    const g = globalThis as { BroadcastChannel?: typeof BroadcastChannel };
    if (typeof g.BroadcastChannel !== 'function') return null;
    this.channel = new g.BroadcastChannel(this.name);
    // Node.js: an open channel must not keep the process alive.
    (this.channel as { unref?: () => void }).unref?.();
    return this.channel;
  }

  /** The session this hub last saw: undefined until it saw any. */
  get session(): AuthSession | null | undefined {
    return this.current;
  }

  /**
   * This instance holds a new pair. `adopted` pairs found in storage at start are the session as
   * it was, not a change; one adopted from a sibling was already announced by that sibling.
   */
  tokens(tokens: TokenPair, source: 'refresh' | 'adopted' | 'anonymous' | 'manual'): void {
    const next = sessionOf(tokens);
    if (!next || this.current?.pairId === next.pairId) return;
    if (source === 'adopted' && this.current === undefined) {
      this.current = next;
      return;
    }
    // A refresh never changes the user, whatever this hub saw before it.
    const event =
      this.current === undefined && source === 'refresh'
        ? 'TOKEN_REFRESHED'
        : transition(this.current ?? null, next);
    this.current = next;
    this.emit({ event, session: next }, true);
  }

  /** The server ended the session this instance held. */
  ended(reason: SessionEndReason): void {
    if (this.current === null) return;
    this.current = null;
    this.emit({ event: 'SESSION_ENDED', session: null, reason }, true);
  }

  close(): void {
    this.channel?.close();
    this.channel = null;
    if (this.listening && typeof globalThis.removeEventListener === 'function')
      globalThis.removeEventListener('storage', this.onStorage);
    this.listening = false;
    this.closed = true;
    this.callbacks.clear();
  }

  private emit(change: Omit<AuthStateChange, 'remote'>, broadcast: boolean): void {
    if (broadcast) this.post({ v: 1, from: this.id, ...change });
    for (const callback of [...this.callbacks]) {
      try {
        callback({ ...change, remote: !broadcast });
      } catch {
        // A broken listener must not break the session or the other listeners.
      }
    }
  }

  private post(message: Wire): void {
    try {
      if (this.closed || !this.crossTab) return;
      const channel = this.openChannel();
      if (channel) {
        channel.postMessage(message);
        return;
      }
      // The storage event fires in the other tabs only; a fresh value each time so it always fires.
      this.localStorage()?.setItem(this.storageKey, JSON.stringify({ ...message, at: Math.random() }));
    } catch {
      // No cross-tab delivery in this runtime: this tab's callbacks still ran.
    }
  }

  private receive(raw: unknown): void {
    let message: Wire;
    try {
      message = (typeof raw === 'string' ? JSON.parse(raw) : raw) as Wire;
    } catch {
      return;
    }
    if (message?.v !== 1 || message.from === this.id) return;
    if (message.session && this.current?.pairId === message.session.pairId) return;
    this.current = message.session;
    this.emit(
      {
        event: message.event,
        session: message.session,
        ...(message.reason ? { reason: message.reason } : {}),
      },
      false,
    );
  }

  private localStorage(): Storage | null {
    try {
      return (globalThis as { localStorage?: Storage }).localStorage ?? null;
    } catch {
      return null;
    }
  }
}
