import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, describe, expect, it } from 'vitest';
import { KeyWrap, KeyWrapError } from '../../src/tokens/key-wrap.js';
import { generateSigningKey, loadKey } from '../../src/tokens/keys.js';
import { UNLIMITED } from '../helpers/app.js';
import { CLI_ENTRY, killAllServers, postToStore, startServer } from '../helpers/process.js';

const API_KEY = 'key-encryption-test-key-0123';
const kek = () => randomBytes(32).toString('base64');

const dirs: string[] = [];
afterAll(async () => {
  await killAllServers();
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

function freshDatabase() {
  const dir = mkdtempSync(join(tmpdir(), 'sfa-kek-'));
  dirs.push(dir);
  const file = join(dir, 'data', 'auth.db');
  return { file, url: `sqlite:${file}` };
}

/** The stored private keys, read straight from the file as an attacker holding it would. */
function storedKeys(file: string): { kid: string; private_jwk: string }[] {
  const db = new Database(file, { readonly: true });
  try {
    return db.prepare('SELECT kid, private_jwk FROM signing_keys').all() as {
      kid: string;
      private_jwk: string;
    }[];
  } finally {
    db.close();
  }
}

function cli(env: Record<string, string>, ...args: string[]) {
  const run = spawnSync(process.execPath, [CLI_ENTRY, ...args, '--json'], {
    env: { PATH: process.env['PATH'] ?? '', ...env },
    encoding: 'utf8',
    timeout: 30_000,
  });
  return { code: run.status, stdout: run.stdout, stderr: run.stderr };
}

/** Starts a server expected to refuse, and answers what it printed. */
async function refusedStart(env: Record<string, string>): Promise<string> {
  const error = await startServer(env).then(
    async (server) => {
      await server.stop();
      return undefined;
    },
    (e: Error) => e,
  );
  expect(error, 'the server started but should have refused').toBeInstanceOf(Error);
  return error!.message;
}

const mode = (file: string) => statSync(file).mode & 0o777;

describe('signing keys encrypted at rest (KEY_ENCRYPTION_KEY)', () => {
  it('stores no plaintext key, creates the files 0600, and refuses a wrong or missing key at start-up', async () => {
    const db = freshDatabase();
    const a = kek();
    const env = { DATABASE_URL: db.url, API_KEY, KEY_ENCRYPTION_KEY: a, ...UNLIMITED };
    const server = await startServer(env);
    const pair = (await postToStore(server.url, API_KEY, '/auth/anonymous')).body.content;
    expect((await postToStore(server.url, API_KEY, '/auth/refresh-token', pair)).status).toBe(200);

    // While it runs, the database and its -wal and -shm are the owner's alone.
    for (const file of [db.file, `${db.file}-wal`, `${db.file}-shm`]) {
      expect(existsSync(file), file).toBe(true);
      expect(mode(file).toString(8), file).toBe('600');
    }
    const keys = storedKeys(db.file);
    expect(keys).toHaveLength(2);
    for (const { private_jwk } of keys) {
      expect(private_jwk.startsWith('{')).toBe(false);
      // Neither the EC private scalar `d` nor the HMAC secret `k` appears, in JSON or base64url.
      expect(private_jwk).not.toMatch(/"d"|"k"/);
      const header = JSON.parse(Buffer.from(private_jwk.split('.')[0]!, 'base64url').toString());
      expect(header).toMatchObject({ alg: 'dir', enc: 'A256GCM' });
    }
    await server.stop();

    const wrong = await refusedStart({ ...env, KEY_ENCRYPTION_KEY: kek() });
    expect(wrong).toMatch(
      /failed to start: signing key \S+ of store "demo" is encrypted under key encryption key/,
    );
    expect(wrong).toMatch(/wrong KEY_ENCRYPTION_KEY\?/);
    expect(wrong).not.toMatch(/\n\s+at /); // a message, not a stack trace
    expect(wrong).not.toContain(a);

    const { KEY_ENCRYPTION_KEY: _, ...withoutKek } = env;
    expect(await refusedStart(withoutKek)).toMatch(/is encrypted .*: set KEY_ENCRYPTION_KEY/);

    const malformed = await refusedStart({ ...env, KEY_ENCRYPTION_KEY: 'c2hvcnQ=' });
    expect(malformed).toMatch(/Invalid configuration: KEY_ENCRYPTION_KEY must be 32 bytes/);
    expect(malformed).not.toContain('c2hvcnQ=');
  });

  it('keys rewrap moves every key to a new key encryption key while an instance keeps serving', async () => {
    const db = freshDatabase();
    const [a, b] = [kek(), kek()];
    const base = { DATABASE_URL: db.url, API_KEY, ...UNLIMITED };
    const first = await startServer({ ...base, KEY_ENCRYPTION_KEY: a });
    let pair = (await postToStore(first.url, API_KEY, '/auth/anonymous')).body.content;
    await first.stop();

    // The rolling step: instances learn the new key and keep the old one for reading.
    const transition = { ...base, KEY_ENCRYPTION_KEY: b, KEY_ENCRYPTION_KEY_PREVIOUS: a };
    const serving = await startServer(transition);
    expect(serving.output()).toMatch(/2 signing key\(s\) are not yet under KEY_ENCRYPTION_KEY/);
    const before = storedKeys(db.file);
    const rewrap = cli(transition, 'keys', 'rewrap');
    expect(rewrap.code, rewrap.stderr).toBe(0);
    expect(JSON.parse(rewrap.stdout)).toMatchObject({ rewrapped: 2, unchanged: 0, encrypted: true });
    const after = storedKeys(db.file);
    expect(after.map((k) => k.kid)).toEqual(before.map((k) => k.kid));
    for (const [i, key] of after.entries()) expect(key.private_jwk).not.toBe(before[i]!.private_jwk);
    // The running instance still refreshes (same keys, new wrapping), and a second rewrap finds nothing to do.
    const refreshed = await postToStore(serving.url, API_KEY, '/auth/refresh-token', pair);
    expect(refreshed.status).toBe(200);
    pair = refreshed.body.content;
    expect(JSON.parse(cli(transition, 'keys', 'rewrap').stdout)).toMatchObject({
      rewrapped: 0,
      unchanged: 2,
    });
    await serving.stop();

    // Done: the new key alone opens them; the old one alone no longer does.
    const onlyB = await startServer({ ...base, KEY_ENCRYPTION_KEY: b });
    expect(onlyB.output()).not.toMatch(/not yet under KEY_ENCRYPTION_KEY/);
    expect((await postToStore(onlyB.url, API_KEY, '/auth/refresh-token', pair)).status).toBe(200);
    await onlyB.stop();
    expect(await refusedStart({ ...base, KEY_ENCRYPTION_KEY: a })).toMatch(/wrong KEY_ENCRYPTION_KEY/);
  });

  it('encrypts the keys of a database that had none, through KEY_ENCRYPTION_KEY_PREVIOUS=unencrypted', async () => {
    const db = freshDatabase();
    const a = kek();
    const base = { DATABASE_URL: db.url, API_KEY, ...UNLIMITED };
    const plain = await startServer({ ...base, NODE_ENV: 'production' });
    // Loud in production: the keys are readable by anyone with the file.
    expect(plain.output()).toMatch(/WARNING: KEY_ENCRYPTION_KEY is not set: every private signing key/);
    const pair = (await postToStore(plain.url, API_KEY, '/auth/anonymous')).body.content;
    await plain.stop();
    expect(storedKeys(db.file).every((k) => k.private_jwk.startsWith('{'))).toBe(true);

    // With the key set, a plain key is refused: whoever can write the database could add one.
    expect(await refusedStart({ ...base, KEY_ENCRYPTION_KEY: a })).toMatch(
      /stored unencrypted while KEY_ENCRYPTION_KEY is set: run "storefront-auth keys rewrap"/,
    );
    const transition = { ...base, KEY_ENCRYPTION_KEY: a, KEY_ENCRYPTION_KEY_PREVIOUS: 'unencrypted' };
    const rewrap = cli(transition, 'keys', 'rewrap');
    expect(rewrap.code, rewrap.stderr).toBe(0);
    expect(JSON.parse(rewrap.stdout)).toMatchObject({ rewrapped: 2 });
    expect(storedKeys(db.file).some((k) => k.private_jwk.startsWith('{'))).toBe(false);

    const encrypted = await startServer({ ...base, KEY_ENCRYPTION_KEY: a, NODE_ENV: 'production' });
    expect(encrypted.output()).not.toMatch(/WARNING/);
    expect((await postToStore(encrypted.url, API_KEY, '/auth/refresh-token', pair)).status).toBe(200);
    await encrypted.stop();
  });

  it('narrows a database file an older version left readable by others', async () => {
    const db = freshDatabase();
    const first = await startServer({ DATABASE_URL: db.url, API_KEY });
    await first.stop();
    const { chmodSync } = await import('node:fs');
    chmodSync(db.file, 0o644);
    const again = await startServer({ DATABASE_URL: db.url, API_KEY });
    expect(mode(db.file).toString(8)).toBe('600');
    for (const file of [`${db.file}-wal`, `${db.file}-shm`]) expect(mode(file).toString(8), file).toBe('600');
    await again.stop();
  });

  it('warns at start when OTP debug is on', async () => {
    const db = freshDatabase();
    const server = await startServer({ DATABASE_URL: db.url, API_KEY, OTP_DEBUG: 'true' });
    expect(server.output()).toMatch(
      /WARNING: OTP_DEBUG is on: requests with \\"x-debug-mode: true\\" get one-time passwords of store \\"demo\\"/,
    );
    await server.stop();
    const quiet = await startServer({ DATABASE_URL: db.url, API_KEY });
    expect(quiet.output()).not.toMatch(/OTP_DEBUG/);
    await quiet.stop();
  });

  it('binds each wrapped key to its row: moved to another kid or relabelled, it does not open', () => {
    const wrap = new KeyWrap({ keyEncryptionKey: kek() });
    const access = wrap.seal(generateSigningKey('demo', 'access', 0));
    const refresh = wrap.seal(generateSigningKey('demo', 'refresh', 0));
    expect(loadKey(access, wrap).publicJwk).toBeDefined();
    expect(() => wrap.open({ ...refresh, kid: access.kid })).toThrow(KeyWrapError);
    expect(() => wrap.open({ ...refresh, use: 'access', alg: 'ES256' })).toThrow(/holds another key/);
    expect(() => wrap.open({ ...access, storeId: 'other' })).toThrow(/holds another key/);
    // A flipped bit in the ciphertext fails the GCM tag.
    const parts = access.privateJwk.split('.');
    const ct = Buffer.from(parts[3]!, 'base64url');
    ct[0]! ^= 1;
    parts[3] = ct.toString('base64url');
    expect(() => wrap.open({ ...access, privateJwk: parts.join('.') })).toThrow(/integrity check/);
  });
});
