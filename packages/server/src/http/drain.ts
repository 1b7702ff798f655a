import type { Server } from 'node:http';

/**
 * The first step of a graceful shutdown, before the server stops accepting.
 *
 * Closing an idle keep-alive connection races the client's next request on it, and after such a
 * close a client may only resend idempotent requests (RFC 9112 §9.3.1); a refresh is a POST, and a
 * refresh that was sent but never answered costs the shopper the grace window. So for `ms` after the
 * signal the server keeps answering, and every answer carries `Connection: close`: each open
 * connection ends itself after its next answer, and a request already on its way (or sent by a
 * balancer that has not yet seen /readyz fail) is answered rather than reset. Only connections
 * idle through the whole period are closed by the caller afterwards. Returns early once no
 * connection is open.
 */
export async function drain(server: Server, ms: number): Promise<void> {
  // Prepended so it runs before Fastify's handler writes anything; added only now, so the hot path
  // never pays for it.
  server.prependListener('request', (_request, response) => {
    if (!response.headersSent) response.setHeader('connection', 'close');
  });
  const deadline = Date.now() + ms;
  for (;;) {
    const open = await new Promise<number>((resolve) =>
      server.getConnections((error, count) => resolve(error ? 0 : count)),
    );
    const left = deadline - Date.now();
    if (open === 0 || left <= 0) return;
    await new Promise((resolve) => setTimeout(resolve, Math.min(20, left)));
  }
}
