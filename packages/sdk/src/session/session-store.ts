import type { StorefrontSDK } from '../client.js';
import { decodeClaims } from '../tokens/jwt.js';
import type { AuthChangeEvent, AuthSession } from './auth-state.js';

/** What a UI shows: `loading` until storage was read, then who holds the session. */
export interface SessionState {
  status: 'loading' | 'none' | 'anonymous' | 'authenticated';
  session: AuthSession | null;
  /** The last auth-state event, null before any. */
  event: AuthChangeEvent | null;
}

export interface SessionStore {
  subscribe(listener: () => void): () => void;
  /** The same object until the state changes (what React's useSyncExternalStore requires). */
  getSnapshot(): SessionState;
}

export const LOADING: SessionState = Object.freeze({ status: 'loading', session: null, event: null });

export function statusOf(session: AuthSession | null): SessionState['status'] {
  if (!session) return 'none';
  return session.isLoggedIn ? 'authenticated' : 'anonymous';
}

const stores = new WeakMap<StorefrontSDK, SessionStore>();

/**
 * The session of one SDK as an observable value, built on `onAuthStateChange`: one store per SDK
 * (shared by every component that reads it), fed by this tab's and other tabs' changes.
 */
export function sessionStore(sdk: StorefrontSDK): SessionStore {
  const existing = stores.get(sdk);
  if (existing) return existing;
  let snapshot = LOADING;
  const listeners = new Set<() => void>();
  let started = false;
  const set = (next: SessionState) => {
    snapshot = next;
    for (const listener of [...listeners]) listener();
  };
  const start = () => {
    if (started) return;
    started = true;
    sdk.onAuthStateChange((change) =>
      set({ status: statusOf(change.session), session: change.session, event: change.event }),
    );
    sdk.session.getTokens().then(
      (tokens) => {
        if (snapshot !== LOADING) return;
        const claims = decodeClaims(tokens?.access_token);
        const session =
          claims && typeof claims.ulid === 'string'
            ? {
                userId: claims.ulid,
                isAnonymous: claims.is_anonymous === true,
                isLoggedIn: claims.is_logged_in === true,
                pairId: String(claims['jti'] ?? ''),
              }
            : null;
        set({ status: statusOf(session), session, event: null });
      },
      () => set({ status: 'none', session: null, event: null }),
    );
  };
  const store: SessionStore = {
    subscribe(listener) {
      start();
      listeners.add(listener);
      return () => {
        listeners.delete(listener);
      };
    },
    getSnapshot: () => snapshot,
  };
  stores.set(sdk, store);
  return store;
}
