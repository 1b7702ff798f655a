/**
 * Where the DPoP key pair (RFC 9449) lives. `keep` is the only write: it stores `candidate` unless
 * a pair is stored already, in one step, and answers the stored pair, so two tabs racing to make
 * the first key end with one key, whichever of them wrote first.
 */
export interface DpopKeyStore {
  /** The stored pair, or null (never made, or cleared: a new key means a new session). */
  load(): Promise<CryptoKeyPair | null>;
  /** Stores `candidate` unless a pair is stored; answers the pair that is stored afterwards. */
  keep(candidate: CryptoKeyPair): Promise<CryptoKeyPair>;
}

/** A key for this SDK instance only (Node.js and edge runtimes, or where IndexedDB will not open). */
export function memoryKeyStore(): DpopKeyStore {
  let pair: CryptoKeyPair | null = null;
  return {
    load: async () => pair,
    keep: async (candidate) => {
      pair ??= candidate;
      return pair;
    },
  };
}

const DB_NAME = 'storefront-auth-dpop';
const OBJECT_STORE = 'keys';

export interface IndexedDbKeyStoreOptions {
  /** The record the pair is kept under; SDK instances with the same name share one key. @default "default" */
  name?: string;
}

export function indexedDbAvailable(): boolean {
  return typeof (globalThis as { indexedDB?: unknown }).indexedDB !== 'undefined';
}

/**
 * The browser's key store: a non-extractable CryptoKeyPair kept in IndexedDB (CryptoKey objects
 * are structured-cloneable), shared by every tab of the origin. Script running in the page can use
 * the key to sign while it runs, but can never read the private key out (WebCrypto `extractable:
 * false`), so a copied token is useless elsewhere. The database is opened per operation, so a
 * store cleared while a page is open is seen as cleared.
 */
export function indexedDbKeyStore(options: IndexedDbKeyStoreOptions = {}): DpopKeyStore {
  const name = options.name ?? 'default';
  return {
    load: () =>
      withStore('readonly', (store, done) => {
        const get = store.get(name);
        get.onsuccess = () => done(isKeyPair(get.result) ? get.result : null);
      }),
    // One readwrite transaction: IndexedDB runs overlapping readwrite transactions on a store one
    // after the other, across tabs, so the read and the write cannot interleave with a sibling's.
    keep: (candidate) =>
      withStore('readwrite', (store, done) => {
        const get = store.get(name);
        get.onsuccess = () => {
          if (isKeyPair(get.result)) return done(get.result);
          store.put(candidate, name).onsuccess = () => done(candidate);
        };
      }),
  };
}

function isKeyPair(value: unknown): value is CryptoKeyPair {
  const v = value as Partial<CryptoKeyPair> | null | undefined;
  return (
    typeof CryptoKey !== 'undefined' && v?.privateKey instanceof CryptoKey && v.publicKey instanceof CryptoKey
  );
}

function openDb(): Promise<IDBDatabase> {
  return new Promise((resolve, reject) => {
    const request = indexedDB.open(DB_NAME, 1);
    request.onupgradeneeded = () => {
      if (!request.result.objectStoreNames.contains(OBJECT_STORE))
        request.result.createObjectStore(OBJECT_STORE);
    };
    request.onsuccess = () => {
      const db = request.result;
      // Another tab deleting or upgrading the database must not wait on this one.
      db.onversionchange = () => db.close();
      resolve(db);
    };
    request.onerror = () => reject(request.error ?? new Error('IndexedDB open failed'));
    request.onblocked = () => reject(new Error('IndexedDB open blocked'));
  });
}

/** Runs one transaction; resolves with what `body` passed to `done` once the transaction committed. */
async function withStore<T>(
  mode: IDBTransactionMode,
  body: (store: IDBObjectStore, done: (value: T) => void) => void,
): Promise<T> {
  const db = await openDb();
  try {
    return await new Promise<T>((resolve, reject) => {
      const tx = db.transaction(OBJECT_STORE, mode);
      let value: T;
      tx.oncomplete = () => resolve(value);
      tx.onerror = () => reject(tx.error ?? new Error('IndexedDB transaction failed'));
      tx.onabort = () => reject(tx.error ?? new Error('IndexedDB transaction aborted'));
      body(tx.objectStore(OBJECT_STORE), (v) => {
        value = v;
      });
    });
  } finally {
    db.close();
  }
}
