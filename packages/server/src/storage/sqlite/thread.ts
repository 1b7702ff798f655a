import { Worker } from 'node:worker_threads';
import type { SessionStore } from '../contract.js';
import type { OperatorStore } from '../operator.js';
import type { SqliteOptions } from './store.js';

/** One call forwarded to the database thread. */
export interface ThreadRequest {
  id: number;
  target: 'store' | 'operator';
  method: string;
  args: unknown[];
}

export type ThreadReply =
  | { id: number; result: unknown }
  | { id: number; error: { name: string; message: string; code?: string } };

/** Every SessionStore method but `close` (which also ends the thread), forwarded as is. */
const STORE_METHODS = [
  'migrate',
  'getStore',
  'createStore',
  'addApiKey',
  'findApiKey',
  'listSigningKeys',
  'addSigningKey',
  'createUser',
  'getUser',
  'createSession',
  'getSession',
  'rotateSession',
  'revokeSession',
  'recordSecurityEvent',
  'getStoreSettings',
  'setStoreSettings',
  'createAccount',
  'getAccount',
  'findAccountByEmail',
  'findAccountByPhone',
  'updateUser',
  'setPasswordHash',
  'deactivateUser',
  'deleteUser',
  'revokeUserSessions',
  'createOtp',
  'attemptOtp',
] as const satisfies ReadonlyArray<keyof SessionStore>;

const OPERATOR_METHODS = [
  'listStores',
  'listApiKeys',
  'revokeApiKey',
  'rotateSigningKeys',
  'listSessions',
  'countActiveSessions',
  'purgeBatch',
] as const satisfies ReadonlyArray<keyof OperatorStore>;

// The lists above must name every method: adding one to an interface fails the build here.
type Missing =
  | Exclude<keyof SessionStore, (typeof STORE_METHODS)[number] | 'close'>
  | Exclude<keyof OperatorStore, (typeof OPERATOR_METHODS)[number]>;
const complete: [Missing] extends [never] ? true : Missing = true;
void complete;

type Forwarded = Pick<SessionStore, (typeof STORE_METHODS)[number]>;

/**
 * The SQLite store on its own thread, as the server runs it. better-sqlite3 is synchronous: on
 * the event loop, every write (with the WAL's file locks and appends) stalls all other requests
 * for its duration. Here the event loop only forwards calls, in one message per turn of the loop;
 * the database thread runs them in order on its one connection, and commits the refreshes that
 * arrive together as one group (worker.ts). On two cores that answers about a fifth more
 * refreshes per second at 10 clients and over half more at 64 (README, "Benchmarks").
 *
 * Each call still runs whole and alone on the thread, so the store keeps the contract the
 * conformance suite checks; only the answers arrive a hop later.
 */
export interface SqliteThreadStore extends Forwarded {}
// biome-ignore lint/suspicious/noUnsafeDeclarationMerging: the interface lists the forwarded methods the constructor installs.
export class SqliteThreadStore implements SessionStore {
  /** The operator side, run on the same thread and connection. */
  readonly operator: OperatorStore;
  /** Called once if the thread dies (a crash in native code, out of memory): the store is unusable. */
  onFailure: ((error: Error) => void) | undefined;

  private readonly worker: Worker;
  private readonly pending = new Map<number, { resolve(value: unknown): void; reject(error: Error): void }>();
  private nextId = 0;
  /** Calls made during this turn of the event loop, sent together when it ends. */
  private outbox: ThreadRequest[] = [];
  private failure: Error | undefined;
  private closing = false;

  constructor(options: SqliteOptions) {
    this.worker = new Worker(workerScript(), { workerData: options });
    this.worker.on('message', (replies: ThreadReply[]) => {
      for (const reply of replies) this.settle(reply);
    });
    this.worker.on('error', (error) => this.fail(error));
    this.worker.on('exit', (code) => {
      if (!this.closing) this.fail(new Error(`the SQLite thread exited (code ${code})`));
    });
    const self = this as unknown as Record<string, unknown>;
    for (const method of STORE_METHODS) {
      self[method] = (...args: unknown[]) => this.call('store', method, args);
    }
    const operator: Record<string, unknown> = {};
    for (const method of OPERATOR_METHODS) {
      operator[method] = (...args: unknown[]) => this.call('operator', method, args);
    }
    this.operator = operator as unknown as OperatorStore;
  }

  async close(): Promise<void> {
    if (this.closing) return;
    try {
      await this.call('store', 'close', []);
    } finally {
      this.closing = true;
      await this.worker.terminate();
    }
  }

  private call(target: ThreadRequest['target'], method: string, args: unknown[]): Promise<unknown> {
    if (this.failure) return Promise.reject(this.failure);
    if (this.closing) return Promise.reject(new Error('the SQLite store is closed'));
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      this.pending.set(id, { resolve, reject });
      if (this.outbox.length === 0) setImmediate(() => this.flush());
      this.outbox.push({ id, target, method, args });
    });
  }

  /** One message (one wake-up of the thread) for all the calls of a turn of the event loop. */
  private flush(): void {
    const batch = this.outbox;
    this.outbox = [];
    // Calls made before the thread died are already rejected (fail() rejects every pending call).
    if (!this.failure) this.worker.postMessage(batch);
  }

  private settle(reply: ThreadReply): void {
    const waiting = this.pending.get(reply.id);
    if (!waiting) return;
    this.pending.delete(reply.id);
    if ('error' in reply) {
      const error = Object.assign(new Error(reply.error.message), reply.error);
      waiting.reject(error);
    } else {
      waiting.resolve(reply.result);
    }
  }

  private fail(error: Error): void {
    if (this.failure) return;
    this.failure = error;
    for (const waiting of this.pending.values()) waiting.reject(error);
    this.pending.clear();
    this.onFailure?.(error);
  }
}

/**
 * The worker's file beside this one once built. Under vitest this module runs from the TypeScript
 * sources, which a worker thread cannot load: it uses the build (`npm test` builds first).
 */
function workerScript(): URL {
  const builtFromHere = !import.meta.url.endsWith('.ts');
  return builtFromHere
    ? new URL('./worker.js', import.meta.url)
    : new URL('../../../dist/storage/sqlite/worker.js', import.meta.url);
}
