import { useSyncExternalStore } from 'react';
import type { StorefrontSDK } from './client.js';
import { LOADING, type SessionState, type SessionStore, sessionStore } from './session/session-store.js';

export type { AuthChangeEvent, AuthSession } from './session/auth-state.js';
export { type CookieSession, type CookieSessionOptions, cookieSession } from './session/cookie-session.js';
export type { SessionState, SessionStore } from './session/session-store.js';

/**
 * The managed session of `sdk`, kept current by its auth-state events (this tab's and other
 * tabs'): `{ status: 'loading' | 'none' | 'anonymous' | 'authenticated', session, event }`.
 * Server rendering sees `loading`: tokens live in the browser's storage. Pages whose server holds
 * the refresh token (the Next.js adapter) pass a `cookieSession()` instead of an SDK.
 */
export function useSession(source: StorefrontSDK | SessionStore): SessionState {
  const store = 'getSnapshot' in source ? source : sessionStore(source);
  return useSyncExternalStore(store.subscribe, store.getSnapshot, () => LOADING);
}
