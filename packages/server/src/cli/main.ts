#!/usr/bin/env node
import { parseArgs } from 'node:util';
import pino from 'pino';
import { systemClock } from '../clock.js';
import { limitValuesOf, loadConfig } from '../config.js';
import { securityEventSink } from '../events/security.js';
import type { SecurityEvent } from '../model.js';
import { purge } from '../operations/purge.js';
import { rotateSigningKeys } from '../operations/rotate-keys.js';
import { isLimitName, LIMIT_NAMES, limitValueProblem } from '../ratelimit/limits.js';
import { emitSecurityEvent } from '../sessions/events.js';
import type { Database } from '../storage/contract.js';
import { openDatabase } from '../storage/open.js';
import type { OperatorStore } from '../storage/operator.js';
import { ensureApiKey, ensureStore, newApiKey } from '../tenants/bootstrap.js';
import { DEFAULT_AUDIENCE } from '../tokens/issue.js';

const USAGE = `usage: storefront-auth <command> [options]     (DATABASE_URL and the server's variables apply)

  migrate                                   apply pending migrations
  store create <store-id>                   create a store (prints its first API key once)
  store list
  store audience <store-id> [<aud> | --default]   show or set the aud of the store's access tokens
  api-key create <store-id> [--secret]      a new public key (or secret key: revoke, introspect); shown once
  api-key list <store-id>
  api-key revoke <store-id> <key-id>
  keys rotate <store-id> [--publish-after <s>]   new signing keys; old ones verify until their tokens expire
  keys list <store-id>
  sessions list (--store <id> | --user <id>) [--all] [--limit <n>]
  sessions revoke (<session-id> | --user <user-id>)
  purge [--batch <n>]                       delete expired sessions, abandoned anonymous users, dead OTPs
  limits show <store-id>                    every limit: its value for the store, and where it comes from
  limits set <store-id> <name> <n|default>  the store's own value of one limit (running servers see it within a minute)

  --json    machine-readable output`;

class UsageError extends Error {}

interface Context {
  /** Stores a security event, logs it (stderr) and posts it to the webhook when one is configured. */
  emit(event: SecurityEvent): Promise<void>;
  db: Database;
  operator: OperatorStore;
  config: ReturnType<typeof loadConfig>;
  now: number;
}

type Output = { text: string; json: unknown };

const iso = (ms: number | null) => (ms === null ? '-' : new Date(ms).toISOString());

function need(value: string | undefined, what: string): string {
  if (!value) throw new UsageError(`missing ${what}`);
  return value;
}

async function requireStore(ctx: Context, storeId: string): Promise<void> {
  if (!(await ctx.db.getStore(storeId))) throw new Error(`no store "${storeId}"`);
}

function positiveInt(value: string | undefined, fallback: number, name: string): number {
  if (value === undefined) return fallback;
  const n = Number(value);
  if (!Number.isSafeInteger(n) || n < 0) throw new UsageError(`--${name} takes a whole number`);
  return n;
}

async function run(
  args: string[],
  options: Record<string, string | boolean | undefined>,
  ctx: Context,
): Promise<Output> {
  const [command, sub, a, b] = args;
  const { db, operator, now } = ctx;
  switch (`${command} ${sub ?? ''}`.trim()) {
    case 'migrate':
      return { text: 'migrations applied', json: { migrated: true } };
    case 'store create': {
      const id = need(a, 'store id');
      if (!/^[a-z0-9][a-z0-9_-]{0,62}$/.test(id))
        throw new UsageError('a store id is 1-63 of a-z, 0-9, _ and -');
      const result = await ensureStore(db, systemClock, id, undefined);
      if (!result.created) throw new Error(`store "${id}" already exists`);
      return {
        text: `created store "${id}"\nAPI key (shown once): ${result.generatedApiKey}`,
        json: { store_id: id, api_key: result.generatedApiKey },
      };
    }
    case 'store list': {
      const stores = await operator.listStores();
      return {
        text: stores.map((s) => `${s.id}\tcreated ${iso(s.createdAt)}`).join('\n') || '(no stores)',
        json: stores.map((s) => ({ id: s.id, name: s.name, created_at: iso(s.createdAt) })),
      };
    }
    case 'store audience': {
      const storeId = need(a, 'store id');
      await requireStore(ctx, storeId);
      const settings = await db.getStoreSettings(storeId);
      if (b !== undefined || options['default']) {
        if (b !== undefined && (b.length === 0 || b.length > 255))
          throw new UsageError('an audience is 1-255 characters');
        settings.audience = b ?? null;
        await db.setStoreSettings(storeId, settings);
      }
      const audience = settings.audience ?? DEFAULT_AUDIENCE;
      // Servers re-read a store within a minute, so tokens carry the new aud soon, not at once.
      return {
        text: `store "${storeId}" access tokens carry aud "${audience}"${settings.audience ? '' : ' (the default)'}`,
        json: { store_id: storeId, audience, default: settings.audience === null },
      };
    }
    case 'api-key create': {
      const storeId = need(a, 'store id');
      await requireStore(ctx, storeId);
      const kind = options['secret'] ? 'secret' : 'public';
      const key = newApiKey(kind);
      await ensureApiKey(db, storeId, key, now, kind);
      return {
        text: `${kind} API key for "${storeId}" (shown once): ${key}`,
        json: { store_id: storeId, kind, api_key: key },
      };
    }
    case 'api-key list': {
      const storeId = need(a, 'store id');
      await requireStore(ctx, storeId);
      const keys = await operator.listApiKeys(storeId);
      const rows = keys.map((k) => ({
        id: k.id,
        kind: k.kind,
        created_at: iso(k.createdAt),
        revoked_at: k.revokedAt && iso(k.revokedAt),
      }));
      return {
        text: rows
          .map(
            (k) =>
              `${k.id}\t${k.kind}\tcreated ${k.created_at}${k.revoked_at ? `\trevoked ${k.revoked_at}` : ''}`,
          )
          .join('\n'),
        json: rows,
      };
    }
    case 'api-key revoke': {
      const storeId = need(a, 'store id');
      const keyId = need(b, 'key id');
      await requireStore(ctx, storeId);
      if (!(await operator.revokeApiKey(storeId, keyId, now)))
        throw new Error(`no live API key "${keyId}" in store "${storeId}"`);
      return { text: `revoked API key ${keyId}`, json: { revoked: keyId } };
    }
    case 'keys rotate': {
      const storeId = need(a, 'store id');
      const result = await rotateSigningKeys(db, operator, storeId, {
        now,
        publishAfter: positiveInt(options['publish-after'] as string | undefined, 300, 'publish-after'),
        accessTokenTtl: ctx.config.accessTokenTtl,
        refreshTokenTtl: ctx.config.refreshTokenTtl,
      });
      return {
        text: `new keys ${result.kids.join(', ')} sign from ${iso(result.rotateAt)}; old access key retires ${iso(result.retireAt.access)}, old refresh key ${iso(result.retireAt.refresh)}`,
        json: {
          kids: result.kids,
          signs_from: iso(result.rotateAt),
          retire_access: iso(result.retireAt.access),
          retire_refresh: iso(result.retireAt.refresh),
        },
      };
    }
    case 'keys list': {
      const storeId = need(a, 'store id');
      await requireStore(ctx, storeId);
      // Never the private parts: only what identifies a key and its life.
      const keys = (await db.listSigningKeys(storeId)).map((k) => ({
        kid: k.kid,
        use: k.use,
        alg: k.alg,
        created_at: iso(k.createdAt),
        rotated_at: k.rotatedAt && iso(k.rotatedAt),
        retired_at: k.retiredAt && iso(k.retiredAt),
      }));
      return {
        text: keys
          .map(
            (k) =>
              `${k.kid}\t${k.use}\t${k.alg}\tcreated ${k.created_at}\trotated ${k.rotated_at ?? '-'}\tretires ${k.retired_at ?? '-'}`,
          )
          .join('\n'),
        json: keys,
      };
    }
    case 'sessions list': {
      const storeId = options['store'] as string | undefined;
      const userId = options['user'] as string | undefined;
      if (!storeId && !userId) throw new UsageError('sessions list needs --store or --user');
      const sessions = await operator.listSessions({
        ...(storeId ? { storeId } : {}),
        ...(userId ? { userId } : {}),
        all: Boolean(options['all']),
        now,
        limit: positiveInt(options['limit'] as string | undefined, 100, 'limit'),
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
    }
    case 'sessions revoke': {
      const userId = options['user'] as string | undefined;
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
      const sid = need(a, 'session id (or --user)');
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
    }
    case 'limits show': {
      const storeId = need(a, 'store id');
      await requireStore(ctx, storeId);
      const own = await db.getStoreLimits(storeId);
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
    }
    case 'limits set': {
      const storeId = need(a, 'store id');
      const name = need(b, 'limit name');
      const raw = need(args[4], 'value (a whole number, or "default")');
      if (!isLimitName(name)) throw new UsageError(`no limit "${name}"; limits: ${LIMIT_NAMES.join(', ')}`);
      await requireStore(ctx, storeId);
      if (raw === 'default') {
        await db.setStoreLimit(storeId, name, null);
        return {
          text: `${name} of store "${storeId}" follows the configuration again`,
          json: { name, value: null },
        };
      }
      const value = /^\d+$/.test(raw) ? Number(raw) : Number.NaN;
      const problem = limitValueProblem(name, value);
      if (problem) throw new UsageError(problem);
      await db.setStoreLimit(storeId, name, value);
      return { text: `${name} of store "${storeId}" is ${value}`, json: { name, value } };
    }
    case 'purge': {
      const counts = await purge(operator, {
        now,
        anonymousIdleMs: ctx.config.refreshTokenTtl * 1000,
        batchSize: positiveInt(options['batch'] as string | undefined, 500, 'batch') || 500,
      });
      return {
        text: Object.entries(counts)
          .map(([k, n]) => `${k}: ${n} deleted`)
          .join('\n'),
        json: counts,
      };
    }
    default:
      throw new UsageError(command ? `unknown command "${args.join(' ')}"` : 'no command');
  }
}

async function main(argv: string[]): Promise<number> {
  let parsed: ReturnType<typeof parseArgs>;
  try {
    parsed = parseArgs({
      args: argv,
      allowPositionals: true,
      options: {
        json: { type: 'boolean' },
        secret: { type: 'boolean' },
        all: { type: 'boolean' },
        default: { type: 'boolean' },
        user: { type: 'string' },
        store: { type: 'string' },
        limit: { type: 'string' },
        batch: { type: 'string' },
        'publish-after': { type: 'string' },
        help: { type: 'boolean', short: 'h' },
      },
    });
  } catch (error) {
    process.stderr.write(`storefront-auth: ${(error as Error).message}\n${USAGE}\n`);
    return 2;
  }
  if (parsed.values['help'] || parsed.positionals.length === 0) {
    process.stdout.write(`${USAGE}\n`);
    return parsed.values['help'] ? 0 : 2;
  }
  const json = Boolean(parsed.values['json']);
  let db: Database | undefined;
  try {
    const config = loadConfig();
    db = await openDatabase(config);
    await db.migrate();
    const values = parsed.values as Record<string, string | boolean | undefined>;
    const open = db;
    const sink = securityEventSink(
      pino({ level: 'warn' }, pino.destination(2)),
      config.securityWebhookUrl && config.securityWebhookSecret
        ? { url: config.securityWebhookUrl, secret: config.securityWebhookSecret }
        : undefined,
    );
    const out = await run(parsed.positionals, values, {
      emit: (event) => emitSecurityEvent({ db: open, onSecurityEvent: sink }, event),
      db,
      operator: db.operator(),
      config,
      now: systemClock.now(),
    });
    process.stdout.write(`${json ? JSON.stringify(out.json, null, 2) : out.text}\n`);
    return 0;
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    if (json) process.stderr.write(`${JSON.stringify({ error: message })}\n`);
    else
      process.stderr.write(`storefront-auth: ${message}${error instanceof UsageError ? `\n${USAGE}` : ''}\n`);
    // 2: the command was wrong; 1: it was right but failed (bad configuration, unknown store, ...).
    return error instanceof UsageError ? 2 : 1;
  } finally {
    await db?.close();
  }
}

process.exitCode = await main(process.argv.slice(2));
