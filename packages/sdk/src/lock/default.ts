import type { TokenStorage } from '../storage/contract.js';
import type { Lock } from './contract.js';
import { inProcessLock } from './in-process.js';
import { storageLock } from './storage-lock.js';
import { webLocks, webLocksAvailable } from './web-locks.js';

/** Web Locks where present; a localStorage lease for localStorage sessions elsewhere; else in-process. */
export function defaultLock(storage: TokenStorage | undefined): Lock {
  if (webLocksAvailable()) return webLocks();
  if (storage?.kind === 'localStorage' && typeof globalThis.localStorage !== 'undefined')
    return storageLock();
  return inProcessLock();
}
