// The baseline: a bare node:http server that parses a JSON body and answers a JSON envelope.
// Everything storefront-auth does on top of this (routing, validation, crypto, SQL) is the cost.
import { createServer } from 'node:http';

createServer((req, res) => {
  if (req.url === '/readyz') {
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end('{"ok":true}');
    return;
  }
  let body = '';
  req.setEncoding('utf8');
  req.on('data', (d) => (body += d));
  req.on('end', () => {
    const { refresh_token } = JSON.parse(body);
    const json = JSON.stringify({
      message: 'ok',
      success: true,
      content: { access_token: refresh_token, refresh_token },
    });
    // A length, as Fastify sends, rather than chunked framing.
    res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(json) });
    res.end(json);
  });
}).listen(Number(process.env.PORT), process.env.HOST ?? '127.0.0.1');
