import { request as httpRequest } from 'node:http';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { API_KEY, BASE, makeTestApp, type TestApp } from '../helpers/app.js';

/** 10 MB: far past the 16 KiB body limit, below the default discard limit (16 MiB). */
const TEN_MB = 10 * 1024 * 1024;

let t: TestApp;
let origin: string;

beforeEach(async () => {
  t = await makeTestApp();
  origin = await t.app.listen({ port: 0, host: '127.0.0.1' });
});
afterEach(async () => {
  await t.close();
});

/**
 * Sends `chunks` with node:http (chunked when no length is given), then ends the request unless
 * `stall`; answers status and body, or the socket error.
 */
function nodeHttpPost(chunks: number, chunkSize: number, contentLength?: number, stall = false) {
  return new Promise<{ status: number; body: string } | { error: string }>((resolve) => {
    const url = new URL(`${origin}${BASE}/auth/refresh-token`);
    const req = httpRequest(
      {
        host: url.hostname,
        port: url.port,
        path: url.pathname,
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          ...(contentLength === undefined ? {} : { 'content-length': contentLength }),
        },
      },
      (res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (c) => (body += c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
      },
    );
    req.on('error', (error) => resolve({ error: (error as NodeJS.ErrnoException).code ?? error.message }));
    const chunk = Buffer.alloc(chunkSize, 0x61);
    let sent = 0;
    const pump = () => {
      while (sent < chunks) {
        sent++;
        if (!req.write(chunk)) return void req.once('drain', pump);
      }
      if (!stall) req.end();
    };
    pump();
  });
}

describe('an oversized body gets a 413 that the client reads', () => {
  it('regression: fetch uploading 10 MB gets the PAYLOAD_TOO_LARGE envelope, not a broken pipe', async () => {
    const res = await fetch(`${origin}${BASE}/auth/refresh-token`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: Buffer.alloc(TEN_MB, 0x61),
    });
    expect(res.status).toBe(413);
    expect(await res.json()).toMatchObject({ success: false, code: 'PAYLOAD_TOO_LARGE' });
    expect(res.headers.get('connection')).toBe('close');
  });

  it('node:http with Content-Length and node:http chunked both read the 413', async () => {
    const withLength = await nodeHttpPost(160, 64 * 1024, 160 * 64 * 1024);
    expect(withLength).toMatchObject({ status: 413 });
    expect(JSON.parse((withLength as { body: string }).body)).toMatchObject({ code: 'PAYLOAD_TOO_LARGE' });
    const chunked = await nodeHttpPost(160, 64 * 1024);
    expect(chunked).toMatchObject({ status: 413 });
    expect(JSON.parse((chunked as { body: string }).body)).toMatchObject({ code: 'PAYLOAD_TOO_LARGE' });
  });

  it('the server keeps serving after oversized uploads, and the next request is answered normally', async () => {
    await nodeHttpPost(160, 64 * 1024);
    const res = await fetch(`${origin}${BASE}/auth/anonymous`, {
      method: 'POST',
      headers: { 'x-api-key': API_KEY },
    });
    expect(res.status).toBe(200);
  });
});

describe('past OVERSIZE_DISCARD_LIMIT the body is not read', () => {
  it('a body declared larger than the discard limit is answered at once and the socket closed', async () => {
    await t.close();
    t = await makeTestApp({ OVERSIZE_DISCARD_LIMIT: String(1024 * 1024) });
    origin = await t.app.listen({ port: 0, host: '127.0.0.1' });
    // The client declares 10 MB but sends only 32 KiB, then waits: with no discard the 413 comes anyway.
    const outcome = await nodeHttpPost(1, 32 * 1024, TEN_MB, true);
    expect(outcome).toMatchObject({ status: 413 });
  });
});
