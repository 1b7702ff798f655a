import { request as httpRequest } from 'node:http';
import fc from 'fast-check';
import { afterEach, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config.js';
import { AddressModel } from '../../src/http/client-address.js';
import { API_KEY, BASE, makeTestApp, type TestApp } from '../helpers/app.js';

/** POST /auth/anonymous over real HTTP from `localAddress` (any 127.0.0.0/8 address is this machine). */
function anonymousFrom(origin: string, localAddress: string, forwardedFor?: string) {
  const url = new URL(`${origin}${BASE}/auth/anonymous`);
  return new Promise<number>((resolve, reject) => {
    const req = httpRequest(
      {
        host: url.hostname,
        port: url.port,
        path: url.pathname,
        method: 'POST',
        localAddress,
        agent: false,
        headers: { 'x-api-key': API_KEY, ...(forwardedFor ? { 'x-forwarded-for': forwardedFor } : {}) },
      },
      (res) => {
        res.resume();
        res.on('end', () => resolve(res.statusCode ?? 0));
      },
    );
    req.on('error', reject);
    req.end();
  });
}

let t: TestApp | undefined;
afterEach(async () => {
  await t?.close();
  t = undefined;
});

async function serve(env: Record<string, string>) {
  t = await makeTestApp({ ANONYMOUS_RATE_LIMIT: '3', ...env });
  return t.app.listen({ port: 0, host: '127.0.0.1' });
}

let n = 0;
/** A made-up address for the left-most, client-written entry: different every call. */
const rotated = () => `198.18.${(++n >> 8) & 255}.${n & 255}`;

describe('X-Forwarded-For spoofing: a rotated left-most entry never earns a new allowance', () => {
  it('TRUST_PROXY=false: the header is ignored, the socket address counts', async () => {
    const origin = await serve({ TRUST_PROXY: 'false' });
    const statuses = [];
    for (let i = 0; i < 5; i++) statuses.push(await anonymousFrom(origin, '127.0.0.1', rotated()));
    expect(statuses).toEqual([200, 200, 200, 429, 429]);
  });

  it('TRUST_PROXY=1 (one load balancer that appends): the right-most entry counts', async () => {
    const origin = await serve({ TRUST_PROXY: '1' });
    const statuses = [];
    for (let i = 0; i < 5; i++)
      statuses.push(await anonymousFrom(origin, '127.0.0.1', `${rotated()}, 203.0.113.9`));
    expect(statuses).toEqual([200, 200, 200, 429, 429]);
    // The entry the balancer wrote is honoured: another shopper behind it has its own allowance.
    expect(await anonymousFrom(origin, '127.0.0.1', `${rotated()}, 203.0.113.10`)).toBe(200);
  });

  it('TRUST_PROXY=<list> (a CDN and a load balancer): the right-most entry no trusted proxy added counts', async () => {
    const origin = await serve({ TRUST_PROXY: '127.0.0.1, 198.51.100.0/24' });
    const statuses = [];
    for (let i = 0; i < 5; i++) {
      statuses.push(await anonymousFrom(origin, '127.0.0.1', `${rotated()}, 203.0.113.9, 198.51.100.7`));
    }
    expect(statuses).toEqual([200, 200, 200, 429, 429]);
    // A client that forges the CDN's entry itself still lands on its own address: the CDN hop it wrote is left of the real one.
    const forged = [];
    for (let i = 0; i < 4; i++)
      forged.push(await anonymousFrom(origin, '127.0.0.1', `198.51.100.8, ${rotated()}, 203.0.113.11`));
    expect(forged).toEqual([200, 200, 200, 429]);
  });

  it('TRUST_PROXY=<list>: a peer that is not on the list is the client, whatever it forwards', async () => {
    const origin = await serve({ TRUST_PROXY: '127.0.0.2' });
    const fromUntrusted = [];
    for (let i = 0; i < 4; i++) fromUntrusted.push(await anonymousFrom(origin, '127.0.0.3', rotated()));
    expect(fromUntrusted).toEqual([200, 200, 200, 429]);
    // The trusted proxy at 127.0.0.2 forwards for a shopper with an allowance of its own.
    expect(await anonymousFrom(origin, '127.0.0.2', '203.0.113.9')).toBe(200);
  });

  it('TRUST_PROXY=true is refused at start, naming the variable and the alternatives', () => {
    expect(() => loadConfig({ TRUST_PROXY: 'true' })).toThrow(
      /TRUST_PROXY=true is refused.*number of proxies/,
    );
    expect(() => loadConfig({ TRUST_PROXY: '10.0.0.0/33' })).toThrow(/TRUST_PROXY has "10.0.0.0\/33"/);
    expect(() => loadConfig({ TRUSTED_FRONTENDS: 'frontend.internal' })).toThrow(/TRUSTED_FRONTENDS has/);
  });
});

describe('AddressModel', () => {
  const ipv4 = fc.tuple(fc.nat(255), fc.nat(255), fc.nat(255), fc.nat(255)).map((p) => p.join('.'));

  it('property: with one trusted hop, whatever a client writes to the left, the appended entry wins', () => {
    const model = new AddressModel('1', '');
    fc.assert(
      fc.property(fc.array(fc.oneof(ipv4, fc.string()), { maxLength: 6 }), ipv4, (spoofed, real) => {
        const header = [...spoofed.map((s) => s.replaceAll(',', '')), real].join(', ');
        expect(model.clientAddress('10.0.0.1', header)).toBe(real);
      }),
    );
  });

  it('maps IPv4-mapped IPv6 peers and ported entries to plain addresses; garbage ends the walk at its writer', () => {
    const model = new AddressModel('10.0.0.0/8', '');
    expect(model.clientAddress('::ffff:10.0.0.1', '203.0.113.9:4711')).toBe('203.0.113.9');
    expect(model.clientAddress('::ffff:10.0.0.1', '[2001:db8::1]:443')).toBe('2001:db8::1');
    expect(model.clientAddress('10.0.0.1', 'not-an-ip')).toBe('10.0.0.1');
    expect(model.clientAddress('192.0.2.1', '203.0.113.9')).toBe('192.0.2.1');
  });

  it('a declared front end: the shopper address it appended counts; with none, its own budget', () => {
    const model = new AddressModel('false', '10.1.0.0/16');
    expect(model.callerOf('10.1.2.3', 'spoof, 203.0.113.9')).toEqual({
      kind: 'address',
      address: '203.0.113.9',
    });
    expect(model.callerOf('10.1.2.3', undefined)).toEqual({ kind: 'front end', address: '10.1.2.3' });
    expect(model.callerOf('10.2.0.1', '203.0.113.9')).toEqual({ kind: 'address', address: '10.2.0.1' });
    // Behind a trusted load balancer, the front end is found one hop out.
    const behindLb = new AddressModel('1', '10.1.0.0/16');
    expect(behindLb.callerOf('10.9.0.1', '203.0.113.9, 10.1.2.3')).toEqual({
      kind: 'address',
      address: '203.0.113.9',
    });
    expect(behindLb.callerOf('10.9.0.1', '10.1.2.3')).toEqual({ kind: 'front end', address: '10.1.2.3' });
  });
});
