export type {
  BearerPolicy,
  CustomerAuth,
  CustomerMethod,
  DebugHeaders,
  OperationBody,
  OperationData,
  OperationForm,
  OperationPath,
  OperationSpec,
} from './auth/customers.js';
export {
  createStorefrontSDK,
  type RequestOptions,
  type SessionInfo,
  type StorefrontSDK,
  type StorefrontSDKOptions,
} from './client.js';
export {
  type DpopKeyStore,
  type IndexedDbKeyStoreOptions,
  indexedDbKeyStore,
  memoryKeyStore,
} from './dpop/key-store.js';
export { generateDpopKeyPair, thumbprint } from './dpop/proof.js';
export type { DpopOptions } from './dpop/signer.js';
export {
  type ApiError,
  DPOP_ERROR_CODES,
  type ErrorCode,
  isSessionEnding,
  SDK_ERROR_CODES,
  type SdkErrorCode,
  SERVER_ERROR_CODES,
  SESSION_ENDING_CODES,
  type ServerErrorCode,
  type SessionEndReason,
} from './http/errors.js';
export type { ApiResult } from './http/result.js';
export { type Handover, type Lock, type LockTimeouts, noLock } from './lock/contract.js';
export { defaultLock } from './lock/default.js';
export { inProcessLock } from './lock/in-process.js';
export { type StorageLockOptions, storageLock } from './lock/storage-lock.js';
export { webLocks, webLocksAvailable } from './lock/web-locks.js';
export type {
  AuthChangeEvent,
  AuthSession,
  AuthStateCallback,
  AuthStateChange,
} from './session/auth-state.js';
export { type CookieSession, type CookieSessionOptions, cookieSession } from './session/cookie-session.js';
export type { RetryOptions, SessionHooks, TokenSource } from './session/refresh.js';
export type { SessionNotes, StoredPair, TokenPair, TokenStorage } from './storage/contract.js';
export type { CookieOptions } from './storage/cookies.js';
export { documentCookieStorage } from './storage/document-cookie.js';
export { type LocalStorageOptions, localStorageStorage } from './storage/local-storage.js';
export { memoryStorage } from './storage/memory.js';
export {
  type ServerCookieStorageOptions,
  serverCookieStorage,
  serverCookieStorageFromRequest,
} from './storage/server-cookie.js';
export { decodeClaims, type TokenClaims } from './tokens/jwt.js';
export type {
  AnonymousTokenContent,
  AnonymousUser,
  components,
  OtpContent,
  operations,
  paths,
  RefreshTokenBody,
  RefreshTokenContent,
  ServerErrorBody,
  User,
  UserUpdate,
} from './types.js';
