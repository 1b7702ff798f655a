import pino, { type DestinationStream } from 'pino';

/** Lines are written once this many bytes are waiting (about 25 request lines)... */
export const LOG_BATCH_BYTES = 4096;
/** ...or this long after the first of them, whichever comes first. */
export const LOG_FLUSH_MS = 100;

export interface BatchedLog extends DestinationStream {
  /** Writes what is waiting now, synchronously (before text written to stdout outside the log). */
  flushSync(): void;
}

/** The destinations made here, flushed synchronously when the process exits. */
const pending = new Set<{ flushSync(): void }>();

function flushAllAtExit(): void {
  for (const out of pending) {
    try {
      out.flushSync();
    } catch {
      // A closed descriptor at exit: nothing more can be written to it.
    }
  }
}

/**
 * Standard output for the server's log, written in batches. pino's default destination makes one
 * synchronous write(2) per line; with a line per request that system call was the largest cost of
 * the access log (about 6% of a refresh's CPU in `npm run bench`'s profile). Batched, a line waits
 * at most LOG_FLUSH_MS, and what is waiting is written when the process exits (an `exit` listener,
 * so `process.exit` and an uncaught exception too); only a SIGKILL or a crash of the runtime itself
 * can lose the last batch.
 *
 * Each batch is written synchronously, as pino's default writes each line: with asynchronous
 * writes a batch still in flight on the thread pool when the process exited (or when flushSync
 * ran) was overtaken by the synchronous write of the lines after it, and the log came out of order
 * (seen in CI on Node 20).
 */
export function batchedStdout(fd = 1): BatchedLog {
  const out = pino.destination({ dest: fd, sync: true, minLength: LOG_BATCH_BYTES });
  // pino flushes at exit only the destinations it writes asynchronously: this one is flushed here.
  if (pending.size === 0) process.once('exit', flushAllAtExit);
  pending.add(out);
  let timer: NodeJS.Timeout | undefined;
  const flush = () => {
    timer = undefined;
    out.flush();
  };
  return {
    write(line: string) {
      out.write(line);
      // Past LOG_BATCH_BYTES the destination has written by itself; the timer then flushes the rest.
      timer ??= setTimeout(flush, LOG_FLUSH_MS).unref();
    },
    flushSync() {
      if (timer) clearTimeout(timer);
      timer = undefined;
      out.flushSync();
    },
  };
}
