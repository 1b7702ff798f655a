import { type CookieOptions, cookieNames, parseCookies } from '../storage/cookies.js';
import { type AuthStateCallback, AuthStateHub } from './auth-state.js';
import { LOADING, type SessionState, type SessionStore, statusOf } from './session-store.js';

export interface CookieSessionOptions {
  /** The cookie names the server adapter writes. @default the adapters' defaults */
  names?: CookieOptions['names'];
  /** @default globalThis.document */
  document?: Pick<Document, 'cookie'>;
}

/**
 * The session as the browser sees it when the server holds the refresh token (the Next.js
 * adapter's `HttpOnly` cookie, or `serverCookieStorage` with `httpOnlyRefresh`): this tab reads
 * who the shopper is from the access cookie, never refreshes, and hears of changes other tabs made.
 */
export interface CookieSession extends SessionStore {
  /**
   * Reads the access cookie again. Call it after this tab's request changed the session (a
   * server action or route handler that logged in or out answered with new cookies): this tab's
   * and every other tab's listeners hear of the change, so they need no reload.
   */
  sync(): void;
  /** SIGNED_IN, SIGNED_OUT, TOKEN_REFRESHED or SESSION_ENDED, from this tab's sync() and from other tabs'. */
  onAuthStateChange(callback: AuthStateCallback): () => void;
  /** Closes the cross-tab channel. */
  dispose(): void;
}

/**
 * A session store over the access cookie for pages whose server holds the refresh token: give it
 * to `useSession` from `@storefront-auth/sdk/react`. Nothing here reads, needs or could read the
 * refresh token; the access token never crosses tabs (only who holds the session does).
 */
export function cookieSession(options: CookieSessionOptions = {}): CookieSession {
  const names = cookieNames({ ...(options.names ? { names: options.names } : {}) });
  const hub = new AuthStateHub(`storefront-auth:cookie-session:${names.access}`);
  let snapshot: SessionState = LOADING;
  const listeners = new Set<() => void>();
  let started = false;

  const readAccess = (): string | null => {
    const doc = options.document ?? (globalThis as { document?: Pick<Document, 'cookie'> }).document;
    return doc ? (parseCookies(doc.cookie).get(names.access) ?? null) : null;
  };
  const set = (next: SessionState) => {
    snapshot = next;
    for (const listener of [...listeners]) listener();
  };
  // The hub classifies a pair by its access token; this side never has the refresh token.
  const pairOf = (access: string) => ({ access_token: access, refresh_token: '' });
  const start = () => {
    if (started) return;
    started = true;
    hub.subscribe((change) =>
      set({ status: statusOf(change.session), session: change.session, event: change.event }),
    );
    const access = readAccess();
    hub.seed(access ? pairOf(access) : null);
    const session = hub.session ?? null;
    set({ status: statusOf(session), session, event: null });
  };

  return {
    subscribe(listener) {
      start();
      listeners.add(listener);
      return () => {
        listeners.delete(listener);
      };
    },
    getSnapshot: () => snapshot,
    sync() {
      start();
      const access = readAccess();
      if (access) hub.tokens(pairOf(access), 'manual');
      // The server cleared the cookies: whatever ended it, this origin holds no session now.
      else hub.ended('SESSION_NOT_FOUND');
    },
    onAuthStateChange(callback) {
      start();
      return hub.subscribe(callback);
    },
    dispose() {
      hub.close();
      listeners.clear();
    },
  };
}
