import { connect, type Socket } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { API_KEY, BASE, makeTestApp, type TestApp } from '../helpers/app.js';

/**
 * Slow clients against a real server on 127.0.0.1: sockets that trickle or stall their headers or
 * body are closed by the server's own timeouts, while new clients keep refreshing. Nothing here
 * measures time: each socket is watched until the server closes it, under the test's time limit.
 */

const TIMEOUTS = {
  REQUEST_TIMEOUT: '1500',
  HEADERS_TIMEOUT: '1000',
  KEEP_ALIVE_TIMEOUT: '1000',
  CONNECTIONS_CHECK_INTERVAL: '100',
};

let t: TestApp | undefined;
const sockets: Socket[] = [];
const timers: NodeJS.Timeout[] = [];

afterEach(async () => {
  for (const timer of timers.splice(0)) clearInterval(timer);
  for (const s of sockets.splice(0)) s.destroy();
  await t?.close();
  t = undefined;
});

interface Watched {
  closed: Promise<void>;
  /** What the server wrote before closing (a 408, or nothing). */
  received: () => string;
}

/** A socket whose only closer is the server (the test destroys leftovers in afterEach). */
function open(port: number, behave: (s: Socket) => void): Watched {
  const s = connect(port, '127.0.0.1');
  sockets.push(s);
  let received = '';
  s.setEncoding('utf8');
  s.on('data', (d) => (received += d));
  s.on('error', () => {});
  s.on('connect', () => behave(s));
  const closed = new Promise<void>((resolve) => s.once('close', () => resolve()));
  return { closed, received: () => received };
}

/** Writes `text` a byte at a time, one every `everyMs`, forever (until the socket closes). */
function trickle(s: Socket, text: string, everyMs: number) {
  let i = 0;
  const timer = setInterval(() => {
    if (s.destroyed || !s.writable) return clearInterval(timer);
    s.write(text[i % text.length]!);
    i++;
  }, everyMs);
  timers.push(timer);
}

async function refreshPair(origin: string) {
  const anon = await fetch(`${origin}${BASE}/auth/anonymous`, {
    method: 'POST',
    headers: { 'x-api-key': API_KEY },
  });
  return (await anon.json()).content.refresh_token as string;
}

async function refreshOnce(origin: string, token: string) {
  const res = await fetch(`${origin}${BASE}/auth/refresh-token`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ refresh_token: token }),
  });
  const body = await res.json();
  return { status: res.status, token: body.content?.refresh_token as string };
}

describe('slowloris', () => {
  it('200 trickling or stalled sockets are all closed by the server, and meanwhile new clients refresh', async () => {
    t = await makeTestApp(TIMEOUTS);
    const origin = await t.app.listen({ port: 0, host: '127.0.0.1' });
    const port = Number(new URL(origin).port);
    const path = `${BASE}/auth/refresh-token`;
    const postHead = `POST ${path} HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 5000\r\n\r\n`;
    const kinds = {
      // Connects and sends nothing.
      silent: () => {},
      // Part of the headers, then nothing.
      stalledHeaders: (s: Socket) => s.write(`POST ${path} HTTP/1.1\r\nHost: x\r\n`),
      // Headers a byte at a time, never finished.
      tricklingHeaders: (s: Socket) => {
        s.write(`POST ${path} HTTP/1.1\r\n`);
        trickle(s, 'X-Slow: aaaaaaaaaaaa\r\n', 50);
      },
      // Whole headers announcing a body, then none of it.
      stalledBody: (s: Socket) => s.write(postHead),
      // Whole headers, then the body a byte at a time.
      tricklingBody: (s: Socket) => {
        s.write(postHead);
        trickle(s, '{', 50);
      },
    };
    const names = Object.keys(kinds) as (keyof typeof kinds)[];
    const watched = Array.from({ length: 200 }, (_, i) => {
      const kind = names[i % names.length]!;
      return { kind, socket: open(port, kinds[kind]) };
    });

    // New clients while the 200 are held: a session is created and refreshed ten times.
    let token = await refreshPair(origin);
    const statuses: number[] = [];
    for (let i = 0; i < 10; i++) {
      const r = await refreshOnce(origin, token);
      statuses.push(r.status);
      token = r.token;
    }
    expect(statuses).toEqual(Array(10).fill(200));

    await Promise.all(watched.map((w) => w.socket.closed));
    // A socket that got as far as sending something is told why: 408 Request Timeout.
    for (const w of watched.filter((x) => x.kind !== 'silent')) {
      expect(w.socket.received(), w.kind).toMatch(/^HTTP\/1\.1 408 /);
    }
    expect((await refreshOnce(origin, token)).status).toBe(200);
  }, 30_000);

  it('an idle keep-alive connection is closed after KEEP_ALIVE_TIMEOUT', async () => {
    t = await makeTestApp(TIMEOUTS);
    const origin = await t.app.listen({ port: 0, host: '127.0.0.1' });
    const s = open(Number(new URL(origin).port), (sock) =>
      sock.write(`GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: keep-alive\r\n\r\n`),
    );
    await s.closed;
    expect(s.received()).toMatch(/^HTTP\/1\.1 200 /);
    expect(s.received()).toMatch(/keep-alive/i);
  }, 30_000);

  it('MAX_CONNECTIONS: past the cap new sockets are closed unanswered; once the stalled ones time out, clients get in', async () => {
    t = await makeTestApp({ ...TIMEOUTS, MAX_CONNECTIONS: '20' });
    const origin = await t.app.listen({ port: 0, host: '127.0.0.1' });
    const port = Number(new URL(origin).port);
    const held = Array.from({ length: 20 }, () => open(port, (s) => s.write(`GET /healthz HTTP/1.1\r\n`)));
    // Wait until the server counts all 20 before the next arrives.
    while ((await new Promise<number>((r) => t!.app.server.getConnections((_e, n) => r(n)))) < 20) {
      await new Promise((r) => setTimeout(r, 10));
    }
    const refused = open(port, (s) => s.write(`GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n`));
    await refused.closed;
    expect(refused.received()).toBe('');
    await Promise.all(held.map((h) => h.closed));
    const res = await fetch(`${origin}/healthz`);
    expect(res.status).toBe(200);
  }, 30_000);
});
