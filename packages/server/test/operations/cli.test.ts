import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEFAULT_AUDIENCE } from '../../src/tokens/issue.js';
import { describeWithPostgres, freshSchema } from '../helpers/postgres.js';
import { CLI_ENTRY, type ServerProcess, startServer } from '../helpers/process.js';

/**
 * A bound for a hung process, not a speed expectation: each step below runs a few CLI processes
 * (one node start each), and a busy machine may take long over every one of them.
 */
const STEP = 120_000;

function cli(databaseUrl: string, ...args: string[]) {
  const run = spawnSync(process.execPath, [CLI_ENTRY, ...args], {
    env: { PATH: process.env.PATH, DATABASE_URL: databaseUrl },
    encoding: 'utf8',
    timeout: STEP,
  });
  return { code: run.status, stdout: run.stdout, stderr: run.stderr, json: () => JSON.parse(run.stdout) };
}

async function post(url: string, path: string, headers: Record<string, string>, body?: object) {
  const res = await fetch(`${url}/api/v1/shop/storefront${path}`, {
    method: 'POST',
    headers: { ...headers, ...(body ? { 'content-type': 'application/json' } : {}) },
    ...(body ? { body: JSON.stringify(body) } : {}),
  });
  return { status: res.status, body: await res.json() };
}

const FAILURES = [
  [['api-key', 'list', 'nope'], 1, /no store "nope"/],
  [['keys', 'rotate', 'nope'], 1, /no store "nope"/],
  [['sessions', 'list'], 2, /--store or --user/],
  [['frobnicate'], 2, /unknown command/],
  [['purge', '--batch', 'many'], 2, /whole number/],
] as const;

/**
 * Every command end to end against a real database, beside a running server on it. The steps
 * share the database and run in order; each has its own timeout, so no step waits on the
 * processes of another.
 */
function cliSuite(database: () => Promise<{ url: string; done(): Promise<void> }>) {
  let db: { url: string; done(): Promise<void> };
  let apiKey: string;
  beforeAll(async () => {
    db = await database();
  }, STEP);
  afterAll(() => db?.done());

  it(
    'migrates, creates a store with its first public key, refuses it twice, and lists it',
    () => {
      expect(cli(db.url, 'migrate').code).toBe(0);
      const created = cli(db.url, 'store', 'create', 'shop', '--json');
      expect(created.code).toBe(0);
      apiKey = created.json().api_key as string;
      expect(apiKey).toMatch(/^pk_/);
      expect(cli(db.url, 'store', 'create', 'shop').code).toBe(1);
      expect(
        cli(db.url, 'store', 'list', '--json')
          .json()
          .map((s: { id: string }) => s.id),
      ).toContain('shop');
    },
    STEP,
  );

  describe('beside a running server', () => {
    let server: ServerProcess;
    beforeAll(async () => {
      server = await startServer({
        DATABASE_URL: db.url,
        STORE_ID: 'shop',
        API_KEY: 'unused-key-0123456789',
        PURGE_INTERVAL: '0',
      });
    }, STEP);
    afterAll(() => server?.stop(), STEP);

    it(
      'lists sessions without their tokens and revokes one: its refresh answers SESSION_REVOKED',
      async () => {
        const anon = await post(server.url, '/auth/anonymous', { 'x-api-key': apiKey });
        expect(anon.status).toBe(200);
        const { refresh_token, user } = anon.body.content;

        const sessions = cli(db.url, 'sessions', 'list', '--user', user.id, '--json');
        expect(sessions.code).toBe(0);
        expect(sessions.json()).toHaveLength(1);
        expect(sessions.stdout).not.toContain(refresh_token.split('.')[2]);
        const sid = sessions.json()[0].id as string;
        expect(
          cli(db.url, 'sessions', 'list', '--store', 'shop', '--json')
            .json()
            .map((s: { id: string }) => s.id),
        ).toContain(sid);
        expect(cli(db.url, 'sessions', 'revoke', sid).code).toBe(0);
        expect((await post(server.url, '/auth/refresh-token', {}, { refresh_token })).body.code).toBe(
          'SESSION_REVOKED',
        );
        expect(cli(db.url, 'sessions', 'revoke', sid).code).toBe(1);
      },
      STEP,
    );

    it(
      'revokes every session of a user',
      async () => {
        const second = (await post(server.url, '/auth/anonymous', { 'x-api-key': apiKey })).body.content;
        expect(cli(db.url, 'sessions', 'revoke', '--user', second.user.id, '--json').json()).toEqual({
          revoked: 1,
        });
        expect(
          (await post(server.url, '/auth/refresh-token', {}, { refresh_token: second.refresh_token })).body
            .code,
        ).toBe('SESSION_REVOKED');
      },
      STEP,
    );

    it(
      'creates a secret key, lists keys without them, and a revoked public key stops opening sessions',
      async () => {
        const secret = cli(db.url, 'api-key', 'create', 'shop', '--secret', '--json').json();
        expect(secret.api_key).toMatch(/^sk_/);
        const keys = cli(db.url, 'api-key', 'list', 'shop', '--json').json() as {
          id: string;
          kind: string;
        }[];
        expect(keys.map((k) => k.kind).sort()).toEqual(['public', 'public', 'secret']);
        expect(JSON.stringify(keys)).not.toContain(apiKey);
        // Revoke the store's original public key: it stops opening sessions.
        const keyIds = keys.filter((k) => k.kind === 'public').map((k) => k.id);
        for (const id of keyIds) expect(cli(db.url, 'api-key', 'revoke', 'shop', id).code).toBe(0);
        expect((await post(server.url, '/auth/anonymous', { 'x-api-key': apiKey })).status).toBe(401);
      },
      STEP,
    );

    it(
      'rotates the signing keys and lists them without private parts',
      () => {
        const rotated = cli(db.url, 'keys', 'rotate', 'shop', '--json');
        expect(rotated.code).toBe(0);
        const listed = cli(db.url, 'keys', 'list', 'shop', '--json').json() as {
          kid: string;
          rotated_at: string | null;
        }[];
        expect(listed).toHaveLength(4);
        expect(listed.filter((k) => k.rotated_at)).toHaveLength(2);
        expect(JSON.stringify(listed)).not.toMatch(/"d"|private/);
      },
      STEP,
    );
  });

  it(
    'purges, answering what it removed',
    () => {
      const purged = cli(db.url, 'purge', '--json');
      expect(purged.code).toBe(0);
      expect(Object.keys(purged.json()).sort()).toEqual([
        'anonymous_users',
        'dpop_proofs',
        'otp_backoff',
        'otps',
        'outbox',
        'security_events',
        'sessions',
      ]);
    },
    STEP,
  );

  for (const [args, code, message] of FAILURES) {
    it(
      `exits ${code} with a message: ${args.join(' ')}`,
      () => {
        const run = cli(db.url, ...args);
        expect(run.code, args.join(' ')).toBe(code);
        expect(run.stderr).toMatch(message);
      },
      STEP,
    );
  }
}

const dir = mkdtempSync(join(tmpdir(), 'sfa-cli-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('CLI on SQLite', () => {
  cliSuite(async () => ({ url: `sqlite:${join(dir, 'cli.db')}`, done: async () => {} }));

  it(
    'answers every mistake with a message and the usage line of the command meant',
    () => {
      const url = `sqlite:${join(dir, 'mistakes.db')}`;
      expect(cli(url, 'store', 'create', 'shop').code).toBe(0);
      for (const [args, message, usage] of [
        [['api-key', 'list'], /missing <store-id>/, 'api-key list <store-id>'],
        [['api-key', 'list', 'shop', 'extra'], /unexpected argument "extra"/, 'api-key list <store-id>'],
        [['store', 'list', '--bogus'], /unknown option --bogus/, 'store list'],
        [['sessions', 'list', '--user'], /--user needs a value/, 'sessions list (--store'],
        [
          ['sessions', 'list', '--store', 'shop', '--limit', '0'],
          /--limit takes a whole number from 1/,
          'sessions list',
        ],
        [
          ['sessions', 'list', '--store', 'shop', '--limit', '2.5'],
          /--limit takes a whole number/,
          'sessions list',
        ],
        [['purge', '--batch', '0'], /--batch takes a whole number from 1/, 'purge [--batch <n>]'],
        [['keys', 'rotate', 'shop', '--publish-after', '-1'], /--publish-after/, 'keys rotate <store-id>'],
        [['keys', 'retire', 'some-kid'], /needs --now/, 'keys retire <kid> --now'],
        [['api-key', 'create', 'shop', '--publish-after', '5'], /takes no --publish-after/, 'api-key create'],
        [['store', 'audience'], /missing <store-id>/, 'store audience <store-id> [<aud> | --default]'],
        [
          ['store', 'audience', 'shop', 'aud', '--default'],
          /an audience or --default, not both/,
          'store audience',
        ],
        [['limits', 'show', 'shop', 'extra'], /unexpected argument "extra"/, 'limits show <store-id>'],
        [
          ['limits', 'set', 'shop', 'anonymous'],
          /missing <value>/,
          'limits set <store-id> <name> <n|default>',
        ],
        [['limits', 'set', 'shop', 'nope', '3'], /no limit "nope"/, 'limits set'],
        [['limits', 'set', 'shop', 'anonymous', 'lots'], /anonymous takes a whole number/, 'limits set'],
      ] as const) {
        const run = cli(url, ...args);
        expect(run.code, args.join(' ')).toBe(2);
        expect(run.stderr, args.join(' ')).toMatch(message);
        expect(run.stderr, args.join(' ')).toContain(`usage: storefront-auth ${usage}`);
        // A sentence, not node's parseArgs wording or a stack trace.
        expect(run.stderr).not.toMatch(/ERR_PARSE_ARGS|To specify a positional|\n\s+at /);
      }
      const frob = cli(url, 'frobnicate');
      expect(frob.code).toBe(2);
      expect(frob.stderr).toMatch(/unknown command "frobnicate"\nusage: storefront-auth <command>/);
    },
    STEP,
  );

  it(
    'shows a store audience, sets it, and sets it back to the default',
    () => {
      const url = `sqlite:${join(dir, 'audience.db')}`;
      expect(cli(url, 'store', 'create', 'shop').code).toBe(0);
      const audience = (...args: string[]) => cli(url, 'store', 'audience', 'shop', ...args, '--json').json();
      expect(audience()).toEqual({ store_id: 'shop', audience: DEFAULT_AUDIENCE, default: true });
      expect(audience('https://api.shop.example')).toMatchObject({
        audience: 'https://api.shop.example',
        default: false,
      });
      expect(audience()).toMatchObject({ audience: 'https://api.shop.example', default: false });
      expect(audience('--default')).toEqual({ store_id: 'shop', audience: DEFAULT_AUDIENCE, default: true });
    },
    STEP,
  );

  it(
    'shows whether a store requires DPoP-bound sessions, turns it on and off, and refuses other words',
    () => {
      const url = `sqlite:${join(dir, 'require-dpop.db')}`;
      expect(cli(url, 'store', 'create', 'shop').code).toBe(0);
      const requireDpop = (...args: string[]) => cli(url, 'store', 'require-dpop', 'shop', ...args, '--json');
      expect(requireDpop().json()).toEqual({ store_id: 'shop', require_dpop: false });
      expect(requireDpop('on').json()).toEqual({ store_id: 'shop', require_dpop: true });
      expect(requireDpop().json()).toEqual({ store_id: 'shop', require_dpop: true });
      // The audience, set through the same settings record, is left as it was.
      expect(cli(url, 'store', 'audience', 'shop', '--json').json()).toMatchObject({ default: true });
      expect(requireDpop('off').json()).toEqual({ store_id: 'shop', require_dpop: false });
      const wrong = requireDpop('yes');
      expect(wrong.code).toBe(2);
      expect(wrong.stderr).toMatch(/on or off/);
    },
    STEP,
  );

  it(
    'prints its version, key ids, prefixes and labels, and the database it works on',
    () => {
      const version = cli('sqlite::memory:', '--version');
      expect(version.code).toBe(0);
      const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8'));
      expect(version.stdout.trim()).toBe(`storefront-auth ${pkg.version}`);

      const file = join(dir, 'labels.db');
      const url = `sqlite:${file}`;
      const store = cli(url, 'store', 'create', 'shop', '--json');
      expect(store.stderr).toContain(`database sqlite:${file}`);
      const first = store.json();
      const created = cli(url, 'api-key', 'create', 'shop', '--label', 'mobile app', '--json');
      expect(created.stderr).toContain(`database sqlite:${file}`);
      const key = created.json();
      expect(key).toMatchObject({ store_id: 'shop', kind: 'public', label: 'mobile app' });
      expect(key.id).toEqual(expect.any(String));
      expect(key.prefix).toBe(key.api_key.slice(0, 10));
      const listed = cli(url, 'api-key', 'list', 'shop', '--json').json();
      expect(listed.map((k: { id: string }) => k.id)).toEqual([first.api_key_id, key.id]);
      expect(listed[1]).toMatchObject({ prefix: key.prefix, label: 'mobile app' });
      expect(JSON.stringify(listed)).not.toContain(key.api_key);
      const text = cli(url, 'api-key', 'list', 'shop');
      expect(text.stdout).toContain(`${key.id}\tpublic\t${key.prefix}...\tmobile app`);
      expect(text.stdout).not.toContain(key.api_key);
      // The password of a PostgreSQL URL is never shown.
      const pg = cli('postgres://auth:s3cret@127.0.0.1:1/nowhere', 'store', 'list');
      expect(pg.stderr).toContain('database postgres://auth:***@127.0.0.1:1/nowhere');
      expect(pg.stderr).not.toContain('s3cret');
    },
    STEP,
  );

  it(
    'does not create a second database where none is, and finds the default one from any folder',
    () => {
      const missing = join(dir, 'elsewhere', 'none.db');
      const run = cli(`sqlite:${missing}`, 'store', 'list');
      expect(run.code).toBe(1);
      expect(run.stderr).toMatch(
        /no database at .*none\.db: start the server once or run "storefront-auth migrate"/,
      );
      expect(existsSync(missing)).toBe(false);
      // Without DATABASE_URL, the CLI started in packages/server names the project's data/ folder.
      const project = new URL('../../../../', import.meta.url);
      const fromPackage = spawnSync(process.execPath, [CLI_ENTRY, 'store', 'list', '--json'], {
        cwd: new URL('../..', import.meta.url),
        env: { PATH: process.env.PATH, DATABASE_URL: '' },
        encoding: 'utf8',
      });
      expect(fromPackage.stderr).toContain(
        `database sqlite:${join(project.pathname, 'data', 'storefront-auth.db')}`,
      );
    },
    STEP,
  );

  it(
    'exits quietly when the reader of its output goes away',
    async () => {
      const url = `sqlite:${join(dir, 'pipe.db')}`;
      expect(cli(url, 'store', 'create', 'shop').code).toBe(0);
      // `storefront-auth ... | jq` where jq has already exited: the pipe is closed before the answer.
      const child = spawn(process.execPath, [CLI_ENTRY, 'store', 'list', '--json'], {
        env: { PATH: process.env.PATH, DATABASE_URL: url },
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      child.stdout.destroy();
      let stderr = '';
      child.stderr.on('data', (c) => {
        stderr += c;
      });
      const code = await new Promise<number | null>((resolve) => child.once('exit', resolve));
      expect(stderr).toContain('database sqlite:');
      expect(stderr).not.toMatch(/EPIPE|Error|\n\s+at /);
      expect(code).toBe(0);
    },
    STEP,
  );

  it(
    'refuses a bad DATABASE_URL with a message naming it',
    () => {
      const run = cli('mysql://nowhere', 'store', 'list');
      expect(run.code).toBe(1);
      expect(run.stderr).toMatch(/DATABASE_URL/);
    },
    STEP,
  );
});

describeWithPostgres('CLI on PostgreSQL', (url) => {
  cliSuite(async () => {
    const schema = await freshSchema(url, 'sfa_cli');
    return { url: schema.url, done: () => schema.drop() };
  });
});
