import { spawnSync } from 'node:child_process';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { generateKeyPair, importJWK, SignJWT } from 'jose';
import { afterEach, describe, expect, it } from 'vitest';
import { anonymous, BASE, claims, makeTestApp, type TestApp } from '../../server/test/helpers/app.js';
import { CLI_ENTRY } from '../../server/test/helpers/process.js';
import { type AccessTokenErrorReason, createAccessTokenVerifier, verifyAccessToken } from '../src/index.js';

let t: TestApp;
afterEach(async () => {
  await t?.close();
});

/**
 * The real server on 127.0.0.1 (real SQLite file), its clock set to the wall clock so the CLI,
 * which rotates keys in real time, and the server agree on when a new key signs.
 */
async function start() {
  t = await makeTestApp({ LOG_LEVEL: 'silent', ACCESS_TOKEN_TTL: '900' });
  t.clock.ms = Date.now();
  await t.app.listen({ port: 0, host: '127.0.0.1' });
  const { port } = t.app.server.address() as AddressInfo;
  const store = `http://127.0.0.1:${port}${BASE}`;
  const jwksFetches: string[] = [];
  const countingFetch: typeof fetch = (input, init) => {
    jwksFetches.push(String(input));
    return fetch(input, init);
  };
  return { store, jwksFetches, countingFetch, now: () => t.clock.now() };
}

function cli(...args: string[]) {
  const run = spawnSync(process.execPath, [CLI_ENTRY, ...args], {
    env: { PATH: process.env.PATH, DATABASE_URL: `sqlite:${join(t.dir, 'auth.db')}` },
    encoding: 'utf8',
    timeout: 30_000,
  });
  expect(run.status, run.stderr).toBe(0);
  return JSON.parse(run.stdout);
}

async function refusal(promise: Promise<unknown>): Promise<AccessTokenErrorReason> {
  const error = await promise.then(
    () => null,
    (e: unknown) => e,
  );
  expect(error, 'the token was refused').toBeInstanceOf(Error);
  expect((error as Error).name).toBe('AccessTokenError');
  return (error as { reason: AccessTokenErrorReason }).reason;
}

const header = (token: string) => JSON.parse(Buffer.from(token.split('.')[0]!, 'base64url').toString());

describe('verifyAccessToken against the real JWKS', () => {
  it('accepts a live token and returns its claims; refuses it one second past exp', async () => {
    const { store, now } = await start();
    const pair = (await anonymous(t.app)).body.content;
    const verified = await verifyAccessToken(pair.access_token, { store, audience: 'storefront', now });
    expect(verified).toMatchObject({
      iss: 'storefront-auth/demo',
      aud: 'storefront',
      sub: pair.user.id,
      sid: claims(pair.refresh_token)['sid'],
      is_anonymous: true,
    });
    const exp = Number(claims(pair.access_token)['exp']);
    t.clock.ms = (exp - 1) * 1000;
    await expect(
      verifyAccessToken(pair.access_token, { store, audience: 'storefront', now }),
    ).resolves.toBeTruthy();
    t.clock.ms = (exp + 1) * 1000;
    expect(await refusal(verifyAccessToken(pair.access_token, { store, audience: 'storefront', now }))).toBe(
      'expired',
    );
  });

  it('refuses a wrong audience and a wrong issuer, and follows the audience the CLI sets', async () => {
    const { store, now } = await start();
    const token = (await anonymous(t.app)).body.content.access_token;
    expect(
      await refusal(verifyAccessToken(token, { store, audience: 'https://api.other.example', now })),
    ).toBe('audience');
    expect(
      await refusal(
        verifyAccessToken(token, { store, issuerPrefix: 'someone-else', audience: 'storefront', now }),
      ),
    ).toBe('issuer');
    const jwksUrl = `${store}/.well-known/jwks.json`;
    expect(
      await refusal(
        verifyAccessToken(token, { jwksUrl, issuer: 'storefront-auth/other', audience: 'storefront', now }),
      ),
    ).toBe('issuer');
    await expect(
      verifyAccessToken(token, {
        jwksUrl,
        issuer: 'storefront-auth/demo',
        audience: ['x', 'storefront'],
        now,
      }),
    ).resolves.toBeTruthy();

    expect(cli('store', 'audience', 'demo', 'https://api.shop.example', '--json')).toMatchObject({
      audience: 'https://api.shop.example',
      default: false,
    });
    t.clock.advance(61); // a running server reads the store again within a minute
    const scoped = (await anonymous(t.app)).body.content.access_token;
    const shop = { store, audience: 'https://api.shop.example', now };
    await expect(verifyAccessToken(scoped, shop)).resolves.toMatchObject({ aud: 'https://api.shop.example' });
    expect(await refusal(verifyAccessToken(scoped, { store, audience: 'storefront', now }))).toBe('audience');
    expect(await refusal(verifyAccessToken(token, shop))).toBe('audience');
  });

  it('verifies tokens of a key the CLI rotated in, fetching the JWKS again once for the new kid', async () => {
    const { store, now, jwksFetches, countingFetch } = await start();
    const verify = createAccessTokenVerifier({
      store,
      audience: 'storefront',
      now,
      fetch: countingFetch,
      cooldownMs: 0,
    });
    const before = (await anonymous(t.app)).body.content.access_token;
    await verify(before);
    await verify(before);
    expect(jwksFetches).toHaveLength(1);

    const rotated = cli('keys', 'rotate', 'demo', '--publish-after', '0', '--json');
    t.clock.ms = Date.now() + 61_000; // past the new key's start and the server's store cache
    const after = (await anonymous(t.app)).body.content.access_token;
    expect(header(after).kid).not.toBe(header(before).kid);
    expect(rotated.kids).toContain(header(after).kid);

    await expect(verify(after)).resolves.toMatchObject({ iss: 'storefront-auth/demo' });
    expect(jwksFetches).toHaveLength(2);
    // The old key still verifies what it signed, from the cache.
    await expect(verify(before)).resolves.toBeTruthy();
    await verify(after);
    expect(jwksFetches).toHaveLength(2);
  });

  it('refuses a forged kid, a forged signature, another algorithm, a refresh token and garbage', async () => {
    const { store, now, jwksFetches, countingFetch } = await start();
    const options = { store, audience: 'storefront', now, fetch: countingFetch, cooldownMs: 3_600_000 };
    const genuine = (await anonymous(t.app)).body.content;
    await verifyAccessToken(genuine.access_token, options);
    expect(jwksFetches).toHaveLength(1);

    const attacker = await generateKeyPair('ES256');
    const forge = (kid: string, alg = 'ES256', key: CryptoKey | Uint8Array = attacker.privateKey) =>
      new SignJWT(claims(genuine.access_token)).setProtectedHeader({ alg, kid, typ: 'at+jwt' }).sign(key);
    for (let i = 0; i < 10; i++) {
      expect(await refusal(verifyAccessToken(await forge(`forged-${i}`), options))).toBe('unknown_key');
    }
    // Made-up kids within the cooldown cost the JWKS nothing.
    expect(jwksFetches).toHaveLength(1);
    const realKid = header(genuine.access_token).kid as string;
    expect(await refusal(verifyAccessToken(await forge(realKid), options))).toBe('signature');

    // HS256 keyed with the public JWK's bytes: the classic confusion; our algorithm is pinned.
    const published = await (await fetch(`${store}/.well-known/jwks.json`)).json();
    const hmacKey = new TextEncoder().encode(JSON.stringify(published.keys[0]));
    expect(await refusal(verifyAccessToken(await forge(realKid, 'HS256', hmacKey), options))).toBe(
      'algorithm',
    );
    const unsigned = `${Buffer.from(JSON.stringify({ alg: 'none', typ: 'at+jwt', kid: realKid })).toString('base64url')}.${genuine.access_token.split('.')[1]}.`;
    expect(await refusal(verifyAccessToken(unsigned, options))).toBe('algorithm');

    // A refresh token is never an access token.
    expect(['algorithm', 'type']).toContain(await refusal(verifyAccessToken(genuine.refresh_token, options)));
    // The store's own key and alg but another typ (an ID token, say) is refused too.
    const own = (await t.db.listSigningKeys('demo')).find((k) => k.kid === realKid)!;
    const ownKey = await importJWK(JSON.parse(own.privateJwk), 'ES256');
    const idToken = await new SignJWT(claims(genuine.access_token))
      .setProtectedHeader({ alg: 'ES256', kid: realKid, typ: 'JWT' })
      .sign(ownKey);
    expect(await refusal(verifyAccessToken(idToken, options))).toBe('type');
    const signedRight = await new SignJWT(claims(genuine.access_token))
      .setProtectedHeader({ alg: 'ES256', kid: realKid, typ: 'at+jwt' })
      .sign(ownKey);
    await expect(verifyAccessToken(signedRight, options)).resolves.toBeTruthy();
    for (const junk of ['', 'garbage', 'a.b.c', `${genuine.access_token}x`]) {
      expect(['malformed', 'signature']).toContain(await refusal(verifyAccessToken(junk, options)));
    }
  });

  it('says jwks_unavailable, not invalid, when the JWKS cannot be read', async () => {
    const { store, now } = await start();
    const token = (await anonymous(t.app)).body.content.access_token;
    await t.app.close();
    expect(
      await refusal(verifyAccessToken(token, { store, audience: 'storefront', now, cooldownMs: 1 })),
    ).toBe('jwks_unavailable');
  });
});
