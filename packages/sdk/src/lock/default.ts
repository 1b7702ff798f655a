import type { TokenStorage } from '../storage/contract.js';
import type { Lock } from './contract.js';
import { inProcessLock } from './in-process.js';
import { storageLock } from './storage-lock.js';
import { webLocks, webLocksAvailable } from './web-locks.js';

/**
 * Web Locks where a browser offers them; a localStorage lease for localStorage sessions elsewhere;
 * else in-process. Node.js 24's `navigator.locks` is left out: it reaches no further than this
 * process, where the in-process lock does the same, and the handover lock a Web Locks holder keeps
 * would hold the event loop open, so a script would never exit.
 */
export function defaultLock(storage: TokenStorage | undefined): Lock {
  if (webLocksAvailable() && !isNodeJs()) return webLocks();
  if (storage?.kind === 'localStorage' && typeof globalThis.localStorage !== 'undefined')
    return storageLock();
  return inProcessLock();
}

function isNodeJs(): boolean {
  const proc = (globalThis as { process?: { versions?: { node?: string } } }).process;
  return typeof proc?.versions?.node === 'string';
}
