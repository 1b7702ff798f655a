import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import type { FastifyInstance, FastifyReply } from 'fastify';

/**
 * The API reference at /docs: Swagger UI, served from the swagger-ui-dist package on this server,
 * rendering the served /openapi.json. Nothing is loaded from elsewhere, and the page's CSP says so.
 */
const dist = dirname(createRequire(import.meta.url).resolve('swagger-ui-dist/package.json'));

const ASSETS = new Map<string, string>([
  ['swagger-ui.css', 'text/css; charset=utf-8'],
  ['swagger-ui-bundle.js', 'text/javascript; charset=utf-8'],
  ['favicon-32x32.png', 'image/png'],
]);

// The initializer is a file, not an inline script, so the CSP needs no 'unsafe-inline' for scripts.
const INIT = `window.addEventListener('load', function () {
  window.ui = SwaggerUIBundle({
    url: '/openapi.json',
    dom_id: '#swagger-ui',
    deepLinking: true,
    validatorUrl: null,
    defaultModelsExpandDepth: 0,
  });
});
`;

const PAGE = `<!doctype html>
<html lang="en">
<head>
  <meta charset="utf-8">
  <title>storefront-auth API reference</title>
  <link rel="icon" type="image/png" href="/docs/favicon-32x32.png">
  <link rel="stylesheet" href="/docs/swagger-ui.css">
</head>
<body>
  <div id="swagger-ui"></div>
  <script src="/docs/swagger-ui-bundle.js"></script>
  <script src="/docs/init.js"></script>
</body>
</html>
`;

// Swagger UI sets inline styles and shows inline SVG and data: images; it needs nothing remote.
const CSP =
  "default-src 'none'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; " +
  "connect-src 'self'; font-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

const cache = new Map<string, Buffer>();
function asset(file: string): Buffer {
  let bytes = cache.get(file);
  if (!bytes) {
    bytes = readFileSync(join(dist, file));
    cache.set(file, bytes);
  }
  return bytes;
}

export function registerDocs(app: FastifyInstance): void {
  const page = (reply: FastifyReply, type: string, body: string | Buffer) =>
    reply
      .type(type)
      .header('content-security-policy', CSP)
      .header('x-content-type-options', 'nosniff')
      .header('cache-control', 'public, max-age=3600')
      .send(body);

  app.get('/docs', async (_request, reply) => page(reply, 'text/html; charset=utf-8', PAGE));
  app.get('/docs/init.js', async (_request, reply) => page(reply, 'text/javascript; charset=utf-8', INIT));
  app.get<{ Params: { name: string } }>('/docs/:name', async (request, reply) => {
    const type = ASSETS.get(request.params.name);
    if (!type) return reply.callNotFound();
    return page(reply, type, asset(request.params.name));
  });
}
