/**
 * SQLite's database thread (see thread.ts): owns the one connection to the file and answers the
 * store and operator calls the event loop forwards, grouping the refreshes that arrive together.
 */
import { parentPort, workerData } from 'node:worker_threads';
import type { RotateInput, RotateResult } from '../contract.js';
import { SqliteOperator } from './operator.js';
import { type SqliteOptions, SqliteSessionStore } from './store.js';
import type { ThreadReply, ThreadRequest } from './thread.js';

if (!parentPort) throw new Error('storage/sqlite/worker.js runs as a worker thread');
const port = parentPort;

const store = new SqliteSessionStore(workerData as SqliteOptions);
const targets: Record<ThreadRequest['target'], Record<string, unknown>> = {
  store: store as unknown as Record<string, unknown>,
  operator: new SqliteOperator(store.db) as unknown as Record<string, unknown>,
};

const isRotation = (request: ThreadRequest) =>
  request.target === 'store' && request.method === 'rotateSession';

/** Errors do not survive structured cloning with their `code`: send the parts callers read. */
function failure(id: number, error: unknown): ThreadReply {
  const { name, message, code } = error as { name?: string; message?: string; code?: unknown };
  return {
    id,
    error: {
      name: String(name ?? 'Error'),
      message: String(message ?? error),
      ...(typeof code === 'string' ? { code } : {}),
    },
  };
}

/**
 * The rotations that arrived together, in one transaction (group commit): one WAL append and one
 * round of file locks for the group instead of one per refresh. Each is still its own
 * compare-and-swap, applied in arrival order, and none is answered before the group commits.
 */
function rotationGroup(requests: ThreadRequest[]): ThreadReply[] {
  try {
    const results: Array<RotateResult | null> = store.rotateSessions(
      requests.map((request) => request.args[0] as RotateInput),
    );
    return requests.map((request, i) => ({ id: request.id, result: results[i] }));
  } catch (error) {
    return requests.map((request) => failure(request.id, error));
  }
}

async function answer(request: ThreadRequest): Promise<ThreadReply> {
  try {
    const target = targets[request.target];
    const method = target[request.method];
    if (typeof method !== 'function') throw new Error(`no ${request.target} method ${request.method}`);
    return { id: request.id, result: await method.apply(target, request.args) };
  } catch (error) {
    return failure(request.id, error);
  }
}

// Calls arrive in batches (thread.ts sends what one turn of its event loop asked for), and the
// batches that arrive while this thread is busy are drained together. Answers go back in one message.
let inbox: ThreadRequest[] = [];

async function drain(): Promise<void> {
  const batch = inbox;
  inbox = [];
  const rotations = batch.filter(isRotation);
  const replies = rotations.length > 0 ? rotationGroup(rotations) : [];
  for (const request of batch) if (!isRotation(request)) replies.push(await answer(request));
  port.postMessage(replies);
}

port.on('message', (batch: ThreadRequest[]) => {
  if (inbox.length === 0) setImmediate(() => void drain());
  inbox.push(...batch);
});
