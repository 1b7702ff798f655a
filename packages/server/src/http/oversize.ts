import type { IncomingMessage } from 'node:http';

/**
 * Reads and throws away what is left of a request body, up to `maxBytes`, so the 413 that follows
 * is read by the client: a server that answers and closes while the client is still uploading
 * resets the connection, and most clients (fetch, node:http) then report a broken pipe, not the
 * answer. Nothing is kept. A body declared larger than `maxBytes` is not read at all; one that
 * stalls is ended by the request timeout.
 */
export function discardBody(raw: IncomingMessage, maxBytes: number): Promise<void> {
  const declared = Number(raw.headers['content-length']);
  if (raw.complete || raw.destroyed || declared > maxBytes) return Promise.resolve();
  return new Promise((resolve) => {
    let seen = 0;
    const finish = () => {
      raw.off('data', onData);
      raw.off('end', finish);
      raw.off('close', finish);
      raw.off('error', finish);
      resolve();
    };
    const onData = (chunk: Buffer) => {
      seen += chunk.length;
      if (seen > maxBytes) finish();
    };
    raw.on('data', onData);
    raw.once('end', finish);
    raw.once('close', finish);
    raw.once('error', finish);
    raw.resume();
  });
}
