// A tiny static server for the example page, which also reverse-proxies /api/* to the auth server
// so the page and the API share one origin (no CORS, Web Locks and localStorage per origin).
// Run: AUTH_URL=http://127.0.0.1:8080 API_KEY=... node packages/sdk/examples/browser/server.mjs
import { readFile } from 'node:fs/promises';
import http from 'node:http';
import { extname, join, normalize, sep } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = fileURLToPath(new URL('.', import.meta.url));
const sdkDist = fileURLToPath(new URL('../../dist/', import.meta.url));

const TYPES = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json',
  '.map': 'application/json',
};

const BLANK =
  '<!doctype html><html><head><meta charset="utf-8"><title>blank</title></head><body></body></html>';

/** A file under `root`, or null: never a path that climbs out of it. */
async function fileUnder(root, relative) {
  const path = normalize(join(root, relative));
  if (!path.startsWith(root.endsWith(sep) ? root : root + sep)) return null;
  try {
    return { body: await readFile(path), type: TYPES[extname(path)] ?? 'application/octet-stream' };
  } catch {
    return null;
  }
}

/**
 * @param {{ upstream: string, apiKey: string, storeId?: string, port?: number, host?: string,
 *           beforeProxy?: (req: http.IncomingMessage) => Promise<void> | void }} options
 */
export async function startExampleServer(options) {
  const upstream = new URL(options.upstream);
  const storeId = options.storeId ?? 'demo';
  const server = http.createServer(async (req, res) => {
    const url = new URL(req.url ?? '/', 'http://local');
    if (url.pathname.startsWith('/api/')) return proxy(req, res);
    if (url.pathname === '/config.json') {
      // The store's public API key: it only lets a browser start anonymous sessions.
      res.writeHead(200, { 'content-type': 'application/json', 'cache-control': 'no-store' });
      return res.end(JSON.stringify({ storeId, apiKey: options.apiKey }));
    }
    if (url.pathname === '/blank') {
      res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' });
      return res.end(BLANK);
    }
    const file = url.pathname.startsWith('/sdk/')
      ? await fileUnder(sdkDist, url.pathname.slice('/sdk/'.length))
      : await fileUnder(here, url.pathname === '/' ? 'index.html' : url.pathname.slice(1));
    if (!file) {
      res.writeHead(404, { 'content-type': 'text/plain' });
      return res.end('not found');
    }
    res.writeHead(200, { 'content-type': file.type, 'cache-control': 'no-store' });
    res.end(file.body);
  });

  async function proxy(req, res) {
    try {
      await options.beforeProxy?.(req);
    } catch {
      return req.socket.destroy();
    }
    const out = http.request(
      {
        host: upstream.hostname,
        port: upstream.port,
        method: req.method,
        path: req.url,
        // The browser's own Host goes on: the auth server checks DPoP proofs' htu (RFC 9449)
        // against the URL the browser used (or against its PUBLIC_URL when set).
        headers: { ...req.headers },
      },
      (answer) => {
        res.writeHead(answer.statusCode ?? 502, answer.headers);
        answer.pipe(res);
      },
    );
    out.on('error', () => {
      if (!res.headersSent) res.writeHead(502, { 'content-type': 'application/json' });
      res.end(
        JSON.stringify({ message: 'The auth server is unreachable.', success: false, code: 'BAD_GATEWAY' }),
      );
    });
    req.pipe(out);
  }

  await new Promise((resolve) => server.listen(options.port ?? 0, options.host ?? '127.0.0.1', resolve));
  const address = server.address();
  return {
    url: `http://${address.address}:${address.port}`,
    close: () =>
      new Promise((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve(undefined));
      }),
  };
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const apiKey = process.env.API_KEY;
  if (!apiKey) {
    console.error('Set API_KEY to the store’s public API key (the one the auth server was started with).');
    process.exit(1);
  }
  const started = await startExampleServer({
    upstream: process.env.AUTH_URL ?? 'http://127.0.0.1:8080',
    apiKey,
    storeId: process.env.STORE_ID ?? 'demo',
    port: Number(process.env.PORT ?? 5173),
    host: process.env.HOST ?? '127.0.0.1',
  });
  console.log(
    `Example at ${started.url}/ (proxying /api/* to ${process.env.AUTH_URL ?? 'http://127.0.0.1:8080'})`,
  );
}
