import { createRequire } from 'node:module';
import { Worker } from 'node:worker_threads';

/**
 * Copies the WAL back into the database file from a worker thread with its own connection, so
 * the serving connection never does it inside a commit; the same connection answers the reads
 * that scan whole tables (`read`).
 *
 * With SQLite's automatic checkpoint (every 1000 pages) the commit that crosses the threshold
 * copies those pages, and fsyncs, on the event loop. With many live sessions each refresh dirties
 * pages of its own (its row, its index entries), so those checkpoints came often and large: at a
 * million sessions they were most of the slowdown of a refresh and of its p99. A PASSIVE
 * checkpoint runs beside the writer without blocking it; the writer starts the WAL over once a
 * checkpoint has caught up.
 */
export interface CheckpointResult {
  /** Frames in the WAL, and how many of them are now in the database file. */
  log: number;
  checkpointed: number;
}

/** How often the worker checkpoints while the database is written. */
const INTERVAL_MS = 100;

// Plain JavaScript evaluated in the worker (no build step, so it runs the same from the sources).
const WORKER = `
const { parentPort, workerData } = require('node:worker_threads');
const Database = require(workerData.driver);
const db = new Database(workerData.path);
db.pragma('synchronous = ' + workerData.synchronous);
const checkpoint = () => {
  const [row] = db.pragma('wal_checkpoint(PASSIVE)');
  return { log: row.log, checkpointed: row.checkpointed };
};
const timer = setInterval(checkpoint, workerData.intervalMs);
const statements = new Map();
const read = (sql, params) => {
  let statement = statements.get(sql);
  if (!statement) statements.set(sql, (statement = db.prepare(sql)));
  return statement.get(...params);
};
parentPort.on('message', (message) => {
  if (message === 'close') {
    clearInterval(timer);
    db.close();
    parentPort.close();
    return;
  }
  try {
    const result = message.sql === undefined ? checkpoint() : read(message.sql, message.params);
    parentPort.postMessage({ id: message.id, result });
  } catch (error) {
    parentPort.postMessage({ id: message.id, error: String(error && error.message) });
  }
});
`;

export class BackgroundCheckpointer {
  private readonly worker: Worker;
  private readonly exited: Promise<unknown>;
  private readonly waiting = new Map<
    number,
    { resolve(result: unknown): void; reject(error: Error): void }
  >();
  private nextId = 0;

  constructor(path: string, synchronous: 'NORMAL' | 'FULL', onFailure: (error: Error) => void) {
    const driver = createRequire(import.meta.url).resolve('better-sqlite3');
    this.worker = new Worker(WORKER, {
      eval: true,
      workerData: { driver, path, synchronous, intervalMs: INTERVAL_MS },
    });
    this.worker.unref();
    this.exited = new Promise((resolve) => this.worker.once('exit', resolve));
    this.worker.on('message', ({ id, result, error }: { id: number; result: unknown; error?: string }) => {
      const call = this.waiting.get(id);
      this.waiting.delete(id);
      if (error === undefined) call?.resolve(result);
      else call?.reject(new Error(error));
    });
    this.worker.on('error', (error) => {
      for (const call of this.waiting.values()) call.reject(error);
      this.waiting.clear();
      onFailure(error);
    });
  }

  /** One checkpoint now, answered when done (the periodic ones go on regardless). */
  checkpoint(): Promise<CheckpointResult> {
    return this.call({}) as Promise<CheckpointResult>;
  }

  /**
   * One row of a read on the worker's connection, for a query that walks a whole table (a count of
   * a million sessions takes tens of milliseconds): the event loop goes on serving meanwhile. The
   * worker reads the last committed state (WAL readers never wait for the writer).
   */
  read(sql: string, params: ReadonlyArray<number | string>): Promise<unknown> {
    return this.call({ sql, params });
  }

  private call(message: { sql?: string; params?: ReadonlyArray<number | string> }): Promise<unknown> {
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      this.waiting.set(id, { resolve, reject });
      this.worker.postMessage({ id, ...message });
    });
  }

  async close(): Promise<void> {
    // Unreferenced so it never keeps a process alive, but waited for here: a CLI command whose
    // last await is this close must not see its event loop empty before the worker exits.
    this.worker.ref();
    this.worker.postMessage('close');
    await this.exited;
  }
}

/**
 * No memory map (`mmap_size = 0`, SQLite's default): the serving connection reads pages with
 * read() into its own page cache. A map made reads of random sessions among a million cheaper
 * (about 20 against 30 us of CPU for a session and its user, in-process), but every mapped page a
 * refresh touched stays counted in the process's RSS: with the kernel mapping the neighbours of
 * each page it faults in, a minute of refreshes of random sessions mapped the whole 360 MB file of
 * a million sessions, and the server's RSS went from about 130 to 470 MB. Unmapped, the memory the
 * database costs the process is PAGE_CACHE_KIB, whatever the size of the file.
 */
export const MMAP_SIZE = 0;
/**
 * SQLite's page cache on the serving connection, KiB (`cache_size = -2048`, SQLite's default, set
 * so that it stays what the tests check). Measured in one run of `npm run bench` with 8 MiB: the
 * 10k-session file then fitted in the cache and the million did not, and random refreshes over
 * 1M ran at 0.77x those over 10k, against about 1.0x at 2 MiB: a cache this side of the working
 * set only moves the point where refreshes get slower, and costs memory at every size.
 */
export const PAGE_CACHE_KIB = 2048;
/**
 * The serving connection checkpoints by itself only past this many WAL pages (about 40 MB): a
 * backstop for when the worker cannot keep up. It never does while the worker runs.
 */
export const BACKSTOP_CHECKPOINT_PAGES = 10_000;
/** SQLite's default, restored on the serving connection if the worker fails. */
const DEFAULT_CHECKPOINT_PAGES = 1000;

interface Pragmas {
  pragma(source: string): unknown;
}

/**
 * Sets how a connection that serves requests reads pages and checkpoints, and starts its
 * background checkpointer (none for `:memory:`, which has neither a file nor a WAL).
 */
export function tuneServingConnection(
  db: Pragmas,
  path: string,
  synchronous: 'NORMAL' | 'FULL',
): BackgroundCheckpointer | undefined {
  if (path === ':memory:') return undefined;
  db.pragma(`mmap_size = ${MMAP_SIZE}`);
  db.pragma(`cache_size = -${PAGE_CACHE_KIB}`);
  db.pragma(`wal_autocheckpoint = ${BACKSTOP_CHECKPOINT_PAGES}`);
  return new BackgroundCheckpointer(path, synchronous, () =>
    db.pragma(`wal_autocheckpoint = ${DEFAULT_CHECKPOINT_PAGES}`),
  );
}
