import { once } from 'node:events';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { BASE, makeTestApp, type TestApp } from '../../../server/test/helpers/app.js';

export { API_KEY, BASE, STORE } from '../../../server/test/helpers/app.js';

/** What the gateway does to the next request of a kind, instead of forwarding it as is. */
export type Fault =
  | { kind: 'status'; status: number; code: string; retryAfter?: string }
  /** Cut the connection before the request reaches the server (a network failure). */
  | { kind: 'drop-before' }
  /** Forward, let the server answer, then cut the connection before the client reads it (a lost response). */
  | { kind: 'drop-after' }
  /** An HTML error page from a proxy. */
  | { kind: 'html'; status: number }
  /** Never answer (until the gateway closes). */
  | { kind: 'hang' }
  /** Forward, let the server answer, and hand the answer to the client only once `release` settles (a slow answer). */
  | { kind: 'hold-answer'; release: Promise<void> };

type Route = 'refresh' | 'anonymous' | 'other';

/**
 * The real auth server (in-process, real SQLite file, listening on 127.0.0.1) behind a small HTTP
 * gateway the test controls. The gateway counts what reaches the server, injects network faults,
 * and serves one protected resource, `{BASE}/test/echo`, that verifies access tokens against the
 * server's JWKS as any resource server would, so 401s come from a real check.
 */
export interface Stack {
  t: TestApp;
  /** The SDK's baseUrl: `http://127.0.0.1:port/api/v1/demo/storefront`. */
  baseUrl: string;
  /** Requests that reached the auth server, by route. */
  reached: Record<Route, number>;
  /** Requests the gateway saw (including faulted ones), by route. */
  seen: Record<Route, number>;
  /** The refresh_token of every refresh request the gateway saw, in order. */
  refreshTokensSent: string[];
  /** Every request the gateway saw, in order (in memory only; compare, never print, its headers). */
  requests: Array<{ method: string; path: string; headers: http.IncomingHttpHeaders }>;
  fault(route: Route, ...faults: Fault[]): void;
  /**
   * Holds refresh requests until `count` of them are waiting or `maxMs` passed, then lets them go
   * together: makes "at the same moment" deterministic. Bounded by maxMs.
   */
  holdRefreshes(count: number, maxMs: number): void;
  /** While the server's clock reads from `fromMs` until `untilMs`, every request is cut before it reaches the server (the device is offline). */
  offlineBetween(fromMs: number, untilMs: number): void;
  close(): Promise<void>;
}

function routeOf(url: string): Route {
  if (url.endsWith('/auth/refresh-token')) return 'refresh';
  if (url.endsWith('/auth/anonymous')) return 'anonymous';
  return 'other';
}

export async function startStack(env: Record<string, string> = {}): Promise<Stack> {
  const t = await makeTestApp({ ACCESS_TOKEN_TTL: '60', LOG_LEVEL: 'silent', ...env });
  await t.app.listen({ port: 0, host: '127.0.0.1' });
  const upstream = t.app.server.address() as AddressInfo;
  const reached: Record<Route, number> = { refresh: 0, anonymous: 0, other: 0 };
  const seen: Record<Route, number> = { refresh: 0, anonymous: 0, other: 0 };
  const refreshTokensSent: string[] = [];
  const requests: Stack['requests'] = [];
  const faults: Record<Route, Fault[]> = { refresh: [], anonymous: [], other: [] };
  let hold: { count: number; maxMs: number; waiting: Array<() => void>; timer?: NodeJS.Timeout } | null =
    null;
  const hung = new Set<http.ServerResponse>();
  let offline = { from: 0, until: 0 };

  const forward = (req: http.IncomingMessage, body: Buffer) =>
    new Promise<{ status: number; headers: http.IncomingHttpHeaders; body: Buffer }>((resolve, reject) => {
      const out = http.request(
        { host: '127.0.0.1', port: upstream.port, method: req.method, path: req.url, headers: req.headers },
        (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (c: Buffer) => chunks.push(c));
          res.on('end', () =>
            resolve({ status: res.statusCode ?? 502, headers: res.headers, body: Buffer.concat(chunks) }),
          );
          res.on('error', reject);
        },
      );
      out.on('error', reject);
      out.end(body);
    });

  const server = http.createServer(async (req, res) => {
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    const body = Buffer.concat(chunks);
    const url = req.url ?? '/';
    const route = routeOf(url);
    seen[route]++;
    requests.push({ method: req.method ?? 'GET', path: url.slice(BASE.length), headers: req.headers });
    if (route === 'refresh') {
      try {
        refreshTokensSent.push(String(JSON.parse(body.toString('utf8')).refresh_token));
      } catch {
        refreshTokensSent.push('<unparsable>');
      }
    }
    if (t.clock.now() >= offline.from && t.clock.now() < offline.until) return req.socket.destroy();
    const fault = faults[route].shift();
    if (fault?.kind === 'drop-before') return req.socket.destroy();
    if (fault?.kind === 'hang') {
      hung.add(res);
      return;
    }
    if (fault?.kind === 'status') {
      const headers: Record<string, string> = { 'content-type': 'application/json' };
      if (fault.retryAfter) headers['retry-after'] = fault.retryAfter;
      res.writeHead(fault.status, headers);
      return res.end(
        JSON.stringify({ message: 'injected by the test gateway', success: false, code: fault.code }),
      );
    }
    if (fault?.kind === 'html') {
      res.writeHead(fault.status, { 'content-type': 'text/html' });
      return res.end('<html><body>Bad gateway</body></html>');
    }
    if (url === `${BASE}/test/echo`) return echo(t, upstream.port, req, body, res);
    if (route === 'refresh' && hold) {
      const h = hold;
      await new Promise<void>((resolve) => {
        h.waiting.push(resolve);
        if (h.waiting.length >= h.count) for (const go of h.waiting.splice(0)) go();
        else
          h.timer ??= setTimeout(() => {
            for (const go of h.waiting.splice(0)) go();
          }, h.maxMs);
      });
    }
    reached[route]++;
    try {
      const answer = await forward(req, body);
      if (fault?.kind === 'drop-after') return req.socket.destroy();
      if (fault?.kind === 'hold-answer') await fault.release;
      res.writeHead(answer.status, answer.headers);
      res.end(answer.body);
    } catch {
      req.socket.destroy();
    }
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const port = (server.address() as AddressInfo).port;

  return {
    t,
    baseUrl: `http://127.0.0.1:${port}${BASE}`,
    reached,
    seen,
    refreshTokensSent,
    requests,
    fault(route, ...list) {
      faults[route].push(...list);
    },
    holdRefreshes(count, maxMs) {
      if (hold?.timer) clearTimeout(hold.timer);
      hold = { count, maxMs, waiting: [] };
    },
    offlineBetween(from, until) {
      offline = { from, until };
    },
    async close() {
      if (hold?.timer) clearTimeout(hold.timer);
      for (const res of hung) res.socket?.destroy();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await t.close();
    },
  };
}

/** The protected resource: 401 unless the Bearer is a valid, unexpired access token of the store. */
async function echo(
  t: TestApp,
  upstreamPort: number,
  req: http.IncomingMessage,
  body: Buffer,
  res: http.ServerResponse,
): Promise<void> {
  const send = (status: number, payload: unknown) => {
    res.writeHead(status, { 'content-type': 'application/json' });
    res.end(JSON.stringify(payload));
  };
  const token = /^Bearer (.+)$/.exec(req.headers.authorization ?? '')?.[1];
  const claims = token ? await verifyAccessToken(token, upstreamPort).catch(() => null) : null;
  if (!claims || typeof claims['exp'] !== 'number' || claims['exp'] * 1000 <= t.clock.now()) {
    return send(401, { message: 'A valid access token is required.', success: false, code: 'UNAUTHORIZED' });
  }
  send(200, {
    message: 'ok',
    success: true,
    content: {
      sub: claims['sub'],
      method: req.method,
      contentType: req.headers['content-type'] ?? null,
      body: body.toString('utf8'),
    },
  });
}

/** Verifies an ES256 or EdDSA JWS against the server's JWKS with WebCrypto. */
async function verifyAccessToken(token: string, port: number): Promise<Record<string, unknown> | null> {
  const [h, p, s] = token.split('.');
  if (!h || !p || !s) return null;
  const header = JSON.parse(Buffer.from(h, 'base64url').toString()) as { kid?: string; alg?: string };
  const jwks = (await (await fetch(`http://127.0.0.1:${port}${BASE}/.well-known/jwks.json`)).json()) as {
    keys: Array<JsonWebKey & { kid: string; alg: string }>;
  };
  const jwk = jwks.keys.find((k) => k.kid === header.kid && k.alg === header.alg);
  if (!jwk) return null;
  const algorithm =
    jwk.alg === 'ES256'
      ? { import: { name: 'ECDSA', namedCurve: 'P-256' }, verify: { name: 'ECDSA', hash: 'SHA-256' } }
      : { import: { name: 'Ed25519' }, verify: { name: 'Ed25519' } };
  const key = await crypto.subtle.importKey('jwk', jwk, algorithm.import, false, ['verify']);
  const ok = await crypto.subtle.verify(
    algorithm.verify,
    key,
    Buffer.from(s, 'base64url'),
    new TextEncoder().encode(`${h}.${p}`),
  );
  return ok ? (JSON.parse(Buffer.from(p, 'base64url').toString()) as Record<string, unknown>) : null;
}

/** The payload of a JWT, unverified. */
export function claimsOf(token: string): Record<string, unknown> {
  return JSON.parse(Buffer.from(token.split('.')[1]!, 'base64url').toString());
}

/**
 * A refresh straight at the server (not through the SDK): is this refresh token still good? A
 * bound session (RFC 9449) rotates only with a proof of its key, which never leaves the browser
 * that made it: there the refusal for the missing proof (which changes nothing) is followed by a
 * look at the row, and the token counts as good (200) when it is the live session's current one.
 */
export async function serverAccepts(stack: Stack, refreshToken: string): Promise<number> {
  const res = await stack.t.app.inject({
    method: 'POST',
    url: `${BASE}/auth/refresh-token`,
    payload: { refresh_token: refreshToken },
  });
  if (res.statusCode !== 401 || res.json<{ code?: string }>().code !== 'DPOP_PROOF_INVALID')
    return res.statusCode;
  const claims = claimsOf(refreshToken);
  const row = (await stack.t.db.getSession(String(claims['sid'])))?.session;
  const now = stack.t.clock.now();
  const live =
    row !== undefined &&
    row.jkt !== null &&
    row.revokedAt === null &&
    row.generation === claims['gen'] &&
    row.idleExpiresAt > now &&
    row.absoluteExpiresAt > now;
  return live ? 200 : res.statusCode;
}
