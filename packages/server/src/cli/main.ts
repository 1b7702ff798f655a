#!/usr/bin/env node
import { existsSync, readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import pino from 'pino';
import { systemClock } from '../clock.js';
import { type Config, limitValuesOf, loadConfig } from '../config.js';
import { securityEventSink } from '../events/security.js';
import type { SecurityEvent } from '../model.js';
import { purge } from '../operations/purge.js';
import { retireSigningKey } from '../operations/retire-key.js';
import { rewrapSigningKeys } from '../operations/rewrap-keys.js';
import { rotateSigningKeys } from '../operations/rotate-keys.js';
import { isLimitName, LIMIT_NAMES, limitValueProblem } from '../ratelimit/limits.js';
import { emitSecurityEvent } from '../sessions/events.js';
import type { Database } from '../storage/contract.js';
import { openDatabase, sqlitePathFromUrl } from '../storage/open.js';
import type { OperatorStore } from '../storage/operator.js';
import { ensureApiKey, ensureStore, newApiKey } from '../tenants/bootstrap.js';
import { DEFAULT_AUDIENCE } from '../tokens/issue.js';
import { isWrapped, type KeyWrap, keyWrapFor } from '../tokens/key-wrap.js';

/** A wrong command line: exit 2, with the usage of the command meant. */
class UsageError extends Error {
  constructor(
    message: string,
    readonly command?: CommandSpec,
  ) {
    super(message);
  }
}

interface Context {
  /** Stores a security event, logs it (stderr) and posts it to the webhook when one is configured. */
  emit(event: SecurityEvent): Promise<void>;
  db: Database;
  operator: OperatorStore;
  config: Config;
  wrap: KeyWrap;
  now: number;
}

type Output = { text: string; json: unknown };
type Values = Record<string, string | boolean | undefined>;

interface CommandSpec {
  name: string;
  /** Positional arguments after the command's name, in order; a trailing `?` marks optional ones. */
  args: string[];
  /** Options besides --json and --help. */
  options: string[];
  usage: string;
  /** Opening a SQLite database that does not exist yet is this command's purpose, not a mistake. */
  creates?: boolean;
  run(ctx: Context, args: string[], values: Values): Promise<Output>;
}

const iso = (ms: number | null) => (ms === null ? '-' : new Date(ms).toISOString());

const STORE_ID = /^[a-z0-9][a-z0-9_-]{0,62}$/;

async function requireStore(ctx: Context, storeId: string): Promise<void> {
  if (!(await ctx.db.getStore(storeId))) throw new Error(`no store "${storeId}"`);
}

/** A whole number option within [min, max], or the fallback when it is absent. */
function wholeNumber(values: Values, name: string, fallback: number, min: number, max: number): number {
  const value = values[name];
  if (value === undefined) return fallback;
  const n = typeof value === 'string' && /^\d+$/.test(value) ? Number(value) : Number.NaN;
  if (!Number.isSafeInteger(n) || n < min || n > max)
    throw new UsageError(`--${name} takes a whole number from ${min} to ${max}, not "${String(value)}"`);
  return n;
}

const COMMANDS: CommandSpec[] = [
  {
    name: 'migrate',
    args: [],
    options: [],
    usage: 'migrate',
    creates: true,
    run: async () => ({ text: 'migrations applied', json: { migrated: true } }),
  },
  {
    name: 'store create',
    args: ['store-id'],
    options: [],
    usage: 'store create <store-id>',
    creates: true,
    async run(ctx, [id]) {
      if (!STORE_ID.test(id!)) throw new UsageError('a store id is 1-63 of a-z, 0-9, _ and -');
      const result = await ensureStore(ctx.db, systemClock, id!, undefined, ctx.wrap);
      if (!result.created) throw new Error(`store "${id}" already exists`);
      return {
        text: `created store "${id}"\nAPI key ${result.apiKeyId} (shown once): ${result.generatedApiKey}`,
        json: { store_id: id, api_key_id: result.apiKeyId, api_key: result.generatedApiKey },
      };
    },
  },
  {
    name: 'store list',
    args: [],
    options: [],
    usage: 'store list',
    async run(ctx) {
      const stores = await ctx.operator.listStores();
      return {
        text: stores.map((s) => `${s.id}\tcreated ${iso(s.createdAt)}`).join('\n') || '(no stores)',
        json: stores.map((s) => ({ id: s.id, name: s.name, created_at: iso(s.createdAt) })),
      };
    },
  },
  {
    name: 'store audience',
    args: ['store-id', 'aud?'],
    options: ['default'],
    usage: 'store audience <store-id> [<aud> | --default]',
    async run(ctx, [storeId, aud], values) {
      if (aud !== undefined && values['default'])
        throw new UsageError('store audience takes an audience or --default, not both');
      if (aud !== undefined && (aud.length === 0 || aud.length > 255))
        throw new UsageError('an audience is 1-255 characters');
      await requireStore(ctx, storeId!);
      const settings = await ctx.db.getStoreSettings(storeId!);
      if (aud !== undefined || values['default']) {
        settings.audience = aud ?? null;
        await ctx.db.setStoreSettings(storeId!, settings);
      }
      const audience = settings.audience ?? DEFAULT_AUDIENCE;
      // Servers re-read a store every KEY_RELOAD_INTERVAL, so tokens carry the new aud soon, not at once.
      return {
        text: `store "${storeId}" access tokens carry aud "${audience}"${settings.audience ? '' : ' (the default)'}`,
        json: { store_id: storeId, audience, default: settings.audience === null },
      };
    },
  },
  {
    name: 'store require-dpop',
    args: ['store-id', 'on-off?'],
    options: [],
    usage: 'store require-dpop <store-id> [on | off]',
    async run(ctx, [storeId, onOff]) {
      if (onOff !== undefined && onOff !== 'on' && onOff !== 'off')
        throw new UsageError('store require-dpop takes on or off');
      await requireStore(ctx, storeId!);
      const settings = await ctx.db.getStoreSettings(storeId!);
      if (onOff !== undefined) {
        settings.requireDpop = onOff === 'on';
        await ctx.db.setStoreSettings(storeId!, settings);
      }
      // Like the audience, servers see the change within KEY_RELOAD_INTERVAL.
      return {
        text: `store "${storeId}" ${settings.requireDpop ? 'requires' : 'does not require'} DPoP-bound new sessions`,
        json: { store_id: storeId, require_dpop: settings.requireDpop },
      };
    },
  },
  {
    name: 'api-key create',
    args: ['store-id'],
    options: ['secret', 'label'],
    usage: 'api-key create <store-id> [--secret] [--label <text>]',
    async run(ctx, [storeId], values) {
      await requireStore(ctx, storeId!);
      const kind = values['secret'] ? 'secret' : 'public';
      const label = values['label'] as string | undefined;
      if (label !== undefined && !/^[\x20-\x7e]{1,100}$/.test(label))
        throw new UsageError('--label takes 1-100 printable characters');
      const key = newApiKey(kind);
      const record = await ensureApiKey(ctx.db, storeId!, key, ctx.now, kind, label);
      return {
        text: `${kind} API key ${record.id} for "${storeId}" (shown once): ${key}`,
        json: {
          store_id: storeId,
          id: record.id,
          kind,
          prefix: record.prefix,
          label: record.label ?? null,
          api_key: key,
        },
      };
    },
  },
  {
    name: 'api-key list',
    args: ['store-id'],
    options: [],
    usage: 'api-key list <store-id>',
    async run(ctx, [storeId]) {
      await requireStore(ctx, storeId!);
      const rows = (await ctx.operator.listApiKeys(storeId!)).map((k) => ({
        id: k.id,
        kind: k.kind,
        // Keys made before prefixes were kept show none: only their hash was ever stored.
        prefix: k.prefix ?? null,
        label: k.label ?? null,
        created_at: iso(k.createdAt),
        revoked_at: k.revokedAt && iso(k.revokedAt),
      }));
      return {
        text:
          rows
            .map(
              (k) =>
                `${k.id}\t${k.kind}\t${k.prefix ? `${k.prefix}...` : '-'}\t${k.label ?? '-'}\tcreated ${k.created_at}${k.revoked_at ? `\trevoked ${k.revoked_at}` : ''}`,
            )
            .join('\n') || '(no API keys)',
        json: rows,
      };
    },
  },
  {
    name: 'api-key revoke',
    args: ['store-id', 'key-id'],
    options: [],
    usage: 'api-key revoke <store-id> <key-id>',
    async run(ctx, [storeId, keyId]) {
      await requireStore(ctx, storeId!);
      if (!(await ctx.operator.revokeApiKey(storeId!, keyId!, ctx.now)))
        throw new Error(`no live API key "${keyId}" in store "${storeId}"`);
      return { text: `revoked API key ${keyId}`, json: { revoked: keyId } };
    },
  },
  {
    name: 'keys rotate',
    args: ['store-id'],
    options: ['publish-after'],
    usage: 'keys rotate <store-id> [--publish-after <seconds>]',
    async run(ctx, [storeId], values) {
      const result = await rotateSigningKeys(ctx.db, ctx.operator, storeId!, {
        now: ctx.now,
        publishAfter: wholeNumber(values, 'publish-after', 300, 0, 86400),
        accessTokenTtl: ctx.config.accessTokenTtl,
        refreshTokenTtl: ctx.config.refreshTokenTtl,
        wrap: ctx.wrap,
      });
      const pending = result.superseded.length
        ? `\na rotation was pending: this one replaces it, so ${result.superseded.join(', ')} will never sign`
        : '';
      return {
        text: `new keys ${result.kids.join(', ')} sign from ${iso(result.rotateAt)}; the keys signing now stop then, the old access key retires ${iso(result.retireAt.access)}, the old refresh key ${iso(result.retireAt.refresh)}${pending}`,
        json: {
          kids: result.kids,
          signs_from: iso(result.rotateAt),
          retire_access: iso(result.retireAt.access),
          retire_refresh: iso(result.retireAt.refresh),
          superseded: result.superseded,
        },
      };
    },
  },
  {
    name: 'keys retire',
    args: ['kid'],
    options: ['now'],
    usage: 'keys retire <kid> --now',
    async run(ctx, [kid], values) {
      if (!values['now'])
        throw new UsageError(
          'keys retire needs --now (it ends the key at once; keys rotate retires keys on schedule)',
        );
      let storeId: string | undefined;
      for (const s of await ctx.operator.listStores())
        if ((await ctx.db.listSigningKeys(s.id)).some((k) => k.kid === kid)) storeId = s.id;
      if (!storeId) throw new Error(`no signing key "${kid}"`);
      const result = await retireSigningKey(ctx.db, ctx.operator, storeId, kid!, {
        now: ctx.now,
        wrap: ctx.wrap,
      });
      const reload = ctx.config.keyReloadInterval;
      return {
        text:
          `retired ${result.retired.use} key ${kid} of store "${storeId}": nothing it signed verifies on an instance once it reloads its keys (within ${reload} s)` +
          (result.replacement ? `\nnew ${result.retired.use} key ${result.replacement} signs from now` : ''),
        json: {
          retired: kid,
          store_id: storeId,
          use: result.retired.use,
          replacement: result.replacement ?? null,
          instances_reload_within_seconds: reload,
        },
      };
    },
  },
  {
    name: 'keys rewrap',
    args: [],
    options: [],
    usage: 'keys rewrap',
    async run(ctx) {
      const result = await rewrapSigningKeys(ctx.db, ctx.operator, ctx.wrap, ctx.now);
      const under = ctx.wrap.encrypts ? 'KEY_ENCRYPTION_KEY' : 'no encryption (KEY_ENCRYPTION_KEY is unset)';
      return {
        text:
          `${result.rewrapped} signing key(s) now stored under ${under}; ${result.unchanged} already were` +
          (result.skippedRetired.length
            ? `\nleft as they were (retired, and no configured key opens them): ${result.skippedRetired.join(', ')}`
            : ''),
        json: {
          rewrapped: result.rewrapped,
          unchanged: result.unchanged,
          skipped_retired: result.skippedRetired,
          encrypted: ctx.wrap.encrypts,
        },
      };
    },
  },
  {
    name: 'keys list',
    args: ['store-id'],
    options: [],
    usage: 'keys list <store-id>',
    async run(ctx, [storeId]) {
      await requireStore(ctx, storeId!);
      // Never the private parts: only what identifies a key and its life.
      const keys = (await ctx.db.listSigningKeys(storeId!)).map((k) => ({
        kid: k.kid,
        use: k.use,
        alg: k.alg,
        encrypted: isWrapped(k.privateJwk),
        created_at: iso(k.createdAt),
        rotated_at: k.rotatedAt && iso(k.rotatedAt),
        retired_at: k.retiredAt && iso(k.retiredAt),
      }));
      return {
        text: keys
          .map(
            (k) =>
              `${k.kid}\t${k.use}\t${k.alg}\t${k.encrypted ? 'encrypted' : 'plain'}\tcreated ${k.created_at}\trotated ${k.rotated_at ?? '-'}\tretires ${k.retired_at ?? '-'}`,
          )
          .join('\n'),
        json: keys,
      };
    },
  },
  {
    name: 'sessions list',
    args: [],
    options: ['store', 'user', 'all', 'limit'],
    usage: 'sessions list (--store <id> | --user <id>) [--all] [--limit <n>]',
    async run(ctx, _args, values) {
      const storeId = values['store'] as string | undefined;
      const userId = values['user'] as string | undefined;
      if (!storeId && !userId) throw new UsageError('sessions list needs --store or --user');
      const sessions = await ctx.operator.listSessions({
        ...(storeId ? { storeId } : {}),
        ...(userId ? { userId } : {}),
        all: Boolean(values['all']),
        now: ctx.now,
        limit: wholeNumber(values, 'limit', 100, 1, 100_000),
      });
      const rows = sessions.map((s) => ({
        id: s.id,
        store_id: s.storeId,
        user_id: s.userId,
        generation: s.generation,
        created_at: iso(s.createdAt),
        last_refresh: iso(s.rotatedAt),
        idle_expires_at: iso(s.idleExpiresAt),
        absolute_expires_at: iso(s.absoluteExpiresAt),
        revoked: s.revokedReason,
      }));
      return {
        text:
          rows
            .map(
              (s) =>
                `${s.id}\tuser ${s.user_id}\tgen ${s.generation}\tlast refresh ${s.last_refresh}${s.revoked ? `\trevoked (${s.revoked})` : ''}`,
            )
            .join('\n') || '(no sessions)',
        json: rows,
      };
    },
  },
  {
    name: 'sessions revoke',
    args: ['session-id?'],
    options: ['user'],
    usage: 'sessions revoke (<session-id> | --user <user-id>)',
    async run(ctx, [sid], values) {
      const { db, now } = ctx;
      const userId = values['user'] as string | undefined;
      if (userId && sid) throw new UsageError('sessions revoke takes a session id or --user, not both');
      if (userId) {
        const user = await db.getUser(userId);
        if (!user) throw new Error(`no user "${userId}"`);
        const n = await db.revokeUserSessions(userId, 'admin', now);
        await ctx.emit({
          storeId: user.storeId,
          type: 'sessions_revoked',
          sessionId: null,
          userId,
          detail: { via: 'cli', sessions_revoked: n },
          createdAt: now,
        });
        return { text: `revoked ${n} session(s) of user ${userId}`, json: { revoked: n } };
      }
      if (!sid) throw new UsageError('missing session id (or --user)');
      const found = await db.getSession(sid);
      if (!found || !(await db.revokeSession(sid, 'admin', now))) throw new Error(`no live session "${sid}"`);
      await ctx.emit({
        storeId: found.session.storeId,
        type: 'session_revoked',
        sessionId: sid,
        userId: found.user.id,
        detail: { via: 'cli', reason: 'admin' },
        createdAt: now,
      });
      return { text: `revoked session ${sid}`, json: { revoked: 1 } };
    },
  },
  {
    name: 'limits show',
    args: ['store-id'],
    options: [],
    usage: 'limits show <store-id>',
    async run(ctx, [storeId]) {
      await requireStore(ctx, storeId!);
      const own = await ctx.db.getStoreLimits(storeId!);
      const configured = limitValuesOf(ctx.config);
      const rows = LIMIT_NAMES.map((name) => ({
        name,
        value: own[name] ?? configured[name],
        source: name in own ? 'store' : 'config',
      }));
      return {
        text: rows.map((r) => `${r.name}\t${r.value}\t(${r.source})`).join('\n'),
        json: rows,
      };
    },
  },
  {
    name: 'limits set',
    args: ['store-id', 'name', 'value'],
    options: [],
    usage: 'limits set <store-id> <name> <n|default>',
    async run(ctx, [storeId, name, raw]) {
      if (!isLimitName(name!)) throw new UsageError(`no limit "${name}"; limits: ${LIMIT_NAMES.join(', ')}`);
      await requireStore(ctx, storeId!);
      if (raw === 'default') {
        await ctx.db.setStoreLimit(storeId!, name, null);
        return {
          text: `${name} of store "${storeId}" follows the configuration again`,
          json: { name, value: null },
        };
      }
      const value = /^\d+$/.test(raw!) ? Number(raw) : Number.NaN;
      const problem = limitValueProblem(name, value);
      if (problem) throw new UsageError(problem);
      await ctx.db.setStoreLimit(storeId!, name, value);
      return { text: `${name} of store "${storeId}" is ${value}`, json: { name, value } };
    },
  },
  {
    name: 'purge',
    args: [],
    options: ['batch'],
    usage: 'purge [--batch <n>]',
    async run(ctx, _args, values) {
      const counts = await purge(ctx.operator, {
        now: ctx.now,
        anonymousIdleMs: ctx.config.refreshTokenTtl * 1000,
        batchSize: wholeNumber(values, 'batch', 500, 1, 100_000),
      });
      return {
        text: Object.entries(counts)
          .map(([k, n]) => `${k}: ${n} deleted`)
          .join('\n'),
        json: counts,
      };
    },
  },
];

const SUMMARIES: Record<string, string> = {
  migrate: 'apply pending migrations',
  'store create': 'create a store (prints its first API key once)',
  'api-key create': 'a new public key (or secret key: revoke, introspect); shown once',
  'keys rotate': 'new signing keys; old ones verify until their tokens expire',
  'keys retire': 'end a (compromised) key at once; a successor signs if needed',
  'keys rewrap': 'store every signing key again under KEY_ENCRYPTION_KEY',
  'store audience': "show or set the aud of the store's access tokens",
  'store require-dpop': 'show or set whether new sessions must be DPoP-bound (RFC 9449)',
  purge: 'delete expired sessions, abandoned anonymous users, dead OTPs, old deliveries and events',
  'limits show': 'every limit: its value for the store, and where it comes from',
  'limits set': "the store's own value of one limit (servers see it within KEY_RELOAD_INTERVAL)",
};

const USAGE = `usage: storefront-auth <command> [options]     (DATABASE_URL and the server's variables apply)

${COMMANDS.map((c) => `  ${c.usage.padEnd(66)}${SUMMARIES[c.name] ?? ''}`.trimEnd()).join('\n')}

  --json       machine-readable output on stdout (errors as {"error": ...} on stderr)
  --version    the version of storefront-auth`;

const usageOf = (command: CommandSpec | undefined) =>
  command ? `usage: storefront-auth ${command.usage} [--json]` : USAGE;

const OPTIONS = {
  json: { type: 'boolean' },
  secret: { type: 'boolean' },
  all: { type: 'boolean' },
  now: { type: 'boolean' },
  default: { type: 'boolean' },
  user: { type: 'string' },
  store: { type: 'string' },
  limit: { type: 'string' },
  batch: { type: 'string' },
  label: { type: 'string' },
  'publish-after': { type: 'string' },
  help: { type: 'boolean', short: 'h' },
  version: { type: 'boolean', short: 'v' },
} as const;

/** The command the first words name (for the usage line of a mistake), or undefined. */
function commandNamed(words: string[]): CommandSpec | undefined {
  const [first, second] = words;
  return COMMANDS.find((c) => c.name === `${first} ${second}`) ?? COMMANDS.find((c) => c.name === first);
}

/** Turns node's parseArgs messages into one short sentence. */
function parseArgsMessage(error: Error & { code?: string }): string {
  const option = /'(-[^']*)'/.exec(error.message)?.[1];
  switch (error.code) {
    case 'ERR_PARSE_ARGS_UNKNOWN_OPTION':
      return `unknown option ${option ?? ''}`.trim();
    case 'ERR_PARSE_ARGS_INVALID_OPTION_VALUE':
      return /argument missing/.test(error.message)
        ? `${option?.split(' ')[0] ?? 'an option'} needs a value`
        : `${option?.split(' ')[0] ?? 'an option'} takes no value`;
    default:
      return error.message;
  }
}

function version(): string {
  const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8'));
  return String(pkg.version);
}

/** Where the command works, without a password: said on every run, so a wrong database shows. */
function describeDatabase(url: string): string {
  const path = sqlitePathFromUrl(url);
  if (path) return `sqlite:${path}`;
  try {
    const parsed = new URL(url);
    if (parsed.password) parsed.password = '***';
    return parsed.toString();
  } catch {
    return 'postgres (unparsable URL)';
  }
}

interface Parsed {
  command: CommandSpec;
  args: string[];
  values: Values;
}

function parse(argv: string[]): Parsed | 'help' | 'version' {
  let parsed: { values: Values; positionals: string[] };
  try {
    parsed = parseArgs({ args: argv, allowPositionals: true, strict: true, options: OPTIONS });
  } catch (error) {
    const words = argv.filter((a) => !a.startsWith('-'));
    throw new UsageError(parseArgsMessage(error as Error), commandNamed(words));
  }
  const { values, positionals } = parsed;
  if (values['version']) return 'version';
  const command = commandNamed(positionals);
  if (values['help'] && !command) return 'help';
  if (!command) {
    throw new UsageError(positionals.length ? `unknown command "${positionals.join(' ')}"` : 'no command');
  }
  if (values['help']) throw new UsageError('', command);
  const args = positionals.slice(command.name.split(' ').length);
  const required = command.args.filter((a) => !a.endsWith('?'));
  if (args.length < required.length) throw new UsageError(`missing <${required[args.length]}>`, command);
  if (args.length > command.args.length)
    throw new UsageError(`unexpected argument "${args[command.args.length]}"`, command);
  for (const name of Object.keys(values)) {
    if (name !== 'json' && !command.options.includes(name))
      throw new UsageError(`${command.name} takes no --${name}`, command);
  }
  return { command, args, values };
}

async function main(argv: string[]): Promise<number> {
  const json = argv.includes('--json');
  const fail = (message: string, usage?: string) => {
    if (json) process.stderr.write(`${JSON.stringify({ error: message })}\n`);
    else process.stderr.write(`storefront-auth: ${message}${usage ? `\n${usage}` : ''}\n`);
  };
  let parsed: Parsed;
  try {
    const result = parse(argv);
    if (result === 'version') {
      process.stdout.write(`storefront-auth ${version()}\n`);
      return 0;
    }
    if (result === 'help') {
      process.stdout.write(`${USAGE}\n`);
      return 0;
    }
    parsed = result;
  } catch (error) {
    const usage = error as UsageError;
    if (!usage.message) {
      process.stdout.write(`${usageOf(usage.command)}\n`);
      return 0;
    }
    fail(usage.message, usageOf(usage.command));
    return 2;
  }

  let db: Database | undefined;
  try {
    const config = loadConfig();
    const database = describeDatabase(config.databaseUrl);
    // Every run says where it works, on stderr so that stdout stays the answer alone.
    process.stderr.write(`storefront-auth: database ${database}\n`);
    const path = sqlitePathFromUrl(config.databaseUrl);
    if (path && path !== ':memory:' && !existsSync(path) && !parsed.command.creates) {
      throw new Error(
        `no database at ${path}: start the server once or run "storefront-auth migrate" (or set DATABASE_URL)`,
      );
    }
    db = await openDatabase(config);
    await db.migrate();
    const open = db;
    const sink = securityEventSink(
      pino({ level: 'warn' }, pino.destination(2)),
      config.securityWebhookUrl && config.securityWebhookSecret
        ? { url: config.securityWebhookUrl, secret: config.securityWebhookSecret }
        : undefined,
    );
    const out = await parsed.command.run(
      {
        emit: (event) => emitSecurityEvent({ db: open, onSecurityEvent: sink }, event),
        db,
        operator: db.operator(),
        config,
        wrap: keyWrapFor(config),
        now: systemClock.now(),
      },
      parsed.args,
      parsed.values,
    );
    process.stdout.write(`${json ? JSON.stringify(out.json, null, 2) : out.text}\n`);
    return 0;
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    if (error instanceof UsageError) {
      fail(message, usageOf(error.command ?? parsed.command));
      return 2;
    }
    // 1: the command was right but failed (bad configuration, unknown store, ...).
    fail(message);
    return 1;
  } finally {
    await db?.close();
  }
}

// A reader that closes early (`| head`, `| jq` failing) is not an error worth a stack trace.
for (const stream of [process.stdout, process.stderr]) {
  stream.on('error', (error: NodeJS.ErrnoException) => {
    if (error.code === 'EPIPE') process.exit(process.exitCode ?? 0);
    throw error;
  });
}

process.exitCode = await main(process.argv.slice(2));
