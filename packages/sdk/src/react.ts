import { useSyncExternalStore } from 'react';
import type { StorefrontSDK } from './client.js';
import { LOADING, type SessionState, sessionStore } from './session/session-store.js';

export type { AuthChangeEvent, AuthSession } from './session/auth-state.js';
export type { SessionState } from './session/session-store.js';

/**
 * The managed session of `sdk`, kept current by its auth-state events (this tab's and other
 * tabs'): `{ status: 'loading' | 'none' | 'anonymous' | 'authenticated', session, event }`.
 * Server rendering sees `loading`: tokens live in the browser's storage.
 */
export function useSession(sdk: StorefrontSDK): SessionState {
  const store = sessionStore(sdk);
  return useSyncExternalStore(store.subscribe, store.getSnapshot, () => LOADING);
}
