import { fileURLToPath } from 'node:url';
import { Ajv } from 'ajv';
import { parseKeyEncryptionKey, UNENCRYPTED } from './tokens/key-wrap.js';

/**
 * Configuration, read once from the environment at start-up, validated, then frozen.
 * Each option is documented here with its default; the README's launch contract lists the same.
 */
export interface Config {
  /** TCP port to listen on. @default 8080 */
  readonly port: number;
  /** Interface to bind. @default 127.0.0.1 */
  readonly host: string;
  /**
   * `sqlite:<path>` (relative to the working directory, or absolute) or `postgres://...`. The
   * default is in the project's folder whatever the working directory, so the CLI run from a
   * subfolder finds the server's database. @default sqlite:<project>/data/storefront-auth.db
   */
  readonly databaseUrl: string;
  /** Store created on start when missing. @default demo */
  readonly storeId: string;
  /** Public API key made valid for `storeId` on start; generated and printed once when unset. */
  readonly apiKey: string | undefined;
  /** Access-token lifetime, seconds. @default 900 */
  readonly accessTokenTtl: number;
  /** Idle lifetime of a session: a refresh token dies this long after its rotation, seconds. @default 2592000 */
  readonly refreshTokenTtl: number;
  /** Absolute lifetime of a session, never extended by refresh, seconds. @default 7776000 */
  readonly sessionMaxAge: number;
  /** Grace window for a just-rotated refresh token, seconds; 0 disables it. @default 30 */
  readonly refreshReuseGrace: number;
  /** pino level. @default info */
  readonly logLevel: 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace' | 'silent';
  /** `iss` prefix of every token; the store id is appended. @default storefront-auth */
  readonly issuer: string;
  /** SQLite `synchronous` pragma (see docs/storage.md for the trade-off). @default NORMAL */
  readonly sqliteSynchronous: 'NORMAL' | 'FULL';
  /** New anonymous sessions allowed per client address per minute; 0 disables the limit. @default 60 */
  readonly anonymousRateLimit: number;
  /** Refreshes allowed per session per minute (a client refreshes every ACCESS_TOKEN_TTL); 0 disables. @default 60 */
  readonly refreshRateLimit: number;
  /**
   * Refreshes allowed per client address per minute, all sessions together; 0 disables. Generous
   * by default: a server-side-rendering front end refreshes for many shoppers from one address.
   * @default 1200
   */
  readonly refreshIpRateLimit: number;
  /** Trust `X-Forwarded-For` from a proxy in front (for per-address limits). @default false */
  readonly trustProxy: boolean;
  /** PostgreSQL only: most connections this process keeps open (see docs/production.md). @default 10 */
  readonly databasePoolSize: number;
  /** PostgreSQL only: server-side statement timeout, milliseconds; 0 disables it. @default 5000 */
  readonly databaseStatementTimeout: number;
  /**
   * `redis://` or `rediss://` URL of a Redis shared by every instance, for rate limits. Unset: limits
   * are counted in this process's memory (right for one instance). @default unset
   */
  readonly redisUrl: string | undefined;
  /** Where OTPs are POSTed for delivery (JSON, HMAC-signed); unset: the log sender, which delivers nothing. */
  readonly otpWebhookUrl: string | undefined;
  /** HMAC-SHA256 key of the webhook's signature header; required with `otpWebhookUrl`. */
  readonly otpWebhookSecret: string | undefined;
  /**
   * Development only: lets `x-debug-mode: true` return OTPs in responses for `storeId`. Refused when
   * NODE_ENV=production. @default false
   */
  readonly otpDebug: boolean;
  /** Where security events (reuse detected, sessions revoked) are POSTed, HMAC-signed; unset: logs only. */
  readonly securityWebhookUrl: string | undefined;
  /** HMAC-SHA256 key of the security webhook's signature header; required with `securityWebhookUrl`. */
  readonly securityWebhookSecret: string | undefined;
  /** Seconds between scheduled purges of expired sessions, abandoned anonymous users and dead OTPs; 0 disables. @default 3600 */
  readonly purgeInterval: number;
  /** Serve Prometheus metrics at GET /metrics (keep that path off the public internet). @default true */
  readonly metricsEnabled: boolean;
  /**
   * Origins allowed to call the API from a browser (CORS): `*`, or a comma-separated list of
   * origins. `*` is safe here because no credential is ambient: tokens travel in headers and
   * bodies, never cookies. @default *
   */
  readonly corsOrigins: '*' | string[];
  /**
   * Base64 of 32 random bytes: wraps every private signing key with AES-256-GCM before it is
   * stored (tokens/key-wrap.ts). Unset: keys are stored as plain JWK, with a warning in production.
   */
  readonly keyEncryptionKey: string | undefined;
  /** The key encryption key being replaced (or `unencrypted`), still read until `keys rewrap` is done. */
  readonly keyEncryptionKeyPrevious: string | undefined;
  /** Seconds a loaded store's signing keys are trusted before they are read again. @default 60 */
  readonly keyReloadInterval: number;
}

const ENV_SCHEMA = {
  type: 'object',
  properties: {
    PORT: { type: 'integer', minimum: 0, maximum: 65535, default: 8080 },
    HOST: { type: 'string', minLength: 1, default: '127.0.0.1' },
    DATABASE_URL: {
      type: 'string',
      pattern: '^(sqlite:.+|postgres(ql)?://.+)$',
      default: `sqlite:${fileURLToPath(new URL('../../../data/storefront-auth.db', import.meta.url))}`,
    },
    STORE_ID: { type: 'string', pattern: '^[a-z0-9][a-z0-9_-]{0,62}$', default: 'demo' },
    API_KEY: { type: 'string', minLength: 16, maxLength: 256, pattern: '^[\\x21-\\x7e]+$' },
    ACCESS_TOKEN_TTL: { type: 'integer', minimum: 1, maximum: 86400, default: 900 },
    REFRESH_TOKEN_TTL: { type: 'integer', minimum: 1, maximum: 31536000, default: 2592000 },
    SESSION_MAX_AGE: { type: 'integer', minimum: 1, maximum: 157680000, default: 7776000 },
    REFRESH_REUSE_GRACE: { type: 'integer', minimum: 0, maximum: 300, default: 30 },
    LOG_LEVEL: {
      type: 'string',
      enum: ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'],
      default: 'info',
    },
    ISSUER: { type: 'string', minLength: 1, maxLength: 200, default: 'storefront-auth' },
    SQLITE_SYNCHRONOUS: { type: 'string', enum: ['NORMAL', 'FULL'], default: 'NORMAL' },
    ANONYMOUS_RATE_LIMIT: { type: 'integer', minimum: 0, default: 60 },
    REFRESH_RATE_LIMIT: { type: 'integer', minimum: 0, default: 60 },
    REFRESH_IP_RATE_LIMIT: { type: 'integer', minimum: 0, default: 1200 },
    TRUST_PROXY: { type: 'boolean', default: false },
    DATABASE_POOL_SIZE: { type: 'integer', minimum: 1, maximum: 1000, default: 10 },
    DATABASE_STATEMENT_TIMEOUT: { type: 'integer', minimum: 0, maximum: 600000, default: 5000 },
    REDIS_URL: { type: 'string', pattern: '^rediss?://.+$' },
    OTP_WEBHOOK_URL: { type: 'string', pattern: '^https?://.+' },
    OTP_WEBHOOK_SECRET: { type: 'string', minLength: 16, maxLength: 512 },
    OTP_DEBUG: { type: 'boolean', default: false },
    SECURITY_WEBHOOK_URL: { type: 'string', pattern: '^https?://.+' },
    SECURITY_WEBHOOK_SECRET: { type: 'string', minLength: 16, maxLength: 512 },
    PURGE_INTERVAL: { type: 'integer', minimum: 0, maximum: 604800, default: 3600 },
    METRICS_ENABLED: { type: 'boolean', default: true },
    CORS_ORIGINS: {
      type: 'string',
      pattern: '^(\\*|https?://[^,\\s]+(,\\s*https?://[^,\\s]+)*)$',
      default: '*',
    },
    KEY_ENCRYPTION_KEY: { type: 'string' },
    KEY_ENCRYPTION_KEY_PREVIOUS: { type: 'string' },
    KEY_RELOAD_INTERVAL: { type: 'integer', minimum: 1, maximum: 3600, default: 60 },
  },
  // A webhook without its signing secret would send unsigned payloads: refuse the pair half set.
  dependencies: {
    OTP_WEBHOOK_URL: ['OTP_WEBHOOK_SECRET'],
    SECURITY_WEBHOOK_URL: ['SECURITY_WEBHOOK_SECRET'],
    KEY_ENCRYPTION_KEY_PREVIOUS: ['KEY_ENCRYPTION_KEY'],
  },
} as const;

/** Every variable the server reads; the README's launch contract documents each (a test checks). */
export const CONFIG_VARIABLES: readonly string[] = Object.keys(ENV_SCHEMA.properties);

const validate = new Ajv({ coerceTypes: true, useDefaults: true, allErrors: true }).compile(ENV_SCHEMA);

export class ConfigError extends Error {
  override name = 'ConfigError';
}

/** Reads and validates the configuration; throws a ConfigError naming every bad variable. */
export function loadConfig(env: NodeJS.ProcessEnv = process.env): Config {
  const raw: Record<string, unknown> = {};
  for (const name of Object.keys(ENV_SCHEMA.properties)) {
    const value = env[name];
    if (value !== undefined && value !== '') raw[name] = value.trim();
  }
  if (!validate(raw)) {
    const problems = (validate.errors ?? []).map((e) => {
      const variable = e.instancePath.replace(/^\//, '') || String(e.params['missingProperty'] ?? '');
      // Never echo the value: API_KEY is a secret.
      return `${variable} ${e.message}`;
    });
    throw new ConfigError(`Invalid configuration: ${problems.join('; ')}`);
  }
  // Validated and defaulted by the schema above: every field now has the type Config says.
  const v = raw as Record<string, unknown>;
  if (v['OTP_WEBHOOK_URL'] !== undefined && v['OTP_WEBHOOK_SECRET'] === undefined) {
    throw new ConfigError(
      'Invalid configuration: OTP_WEBHOOK_SECRET is required when OTP_WEBHOOK_URL is set',
    );
  }
  if (v['OTP_DEBUG'] === true && env['NODE_ENV'] === 'production') {
    throw new ConfigError(
      'Invalid configuration: OTP_DEBUG=true is refused when NODE_ENV=production (it lets responses carry OTPs)',
    );
  }
  for (const variable of ['KEY_ENCRYPTION_KEY', 'KEY_ENCRYPTION_KEY_PREVIOUS']) {
    const value = v[variable];
    if (typeof value !== 'string' || (variable.endsWith('PREVIOUS') && value === UNENCRYPTED)) continue;
    try {
      parseKeyEncryptionKey(value, variable);
    } catch (error) {
      throw new ConfigError(`Invalid configuration: ${(error as Error).message}`);
    }
  }
  return Object.freeze({
    port: v['PORT'],
    host: v['HOST'],
    databaseUrl: v['DATABASE_URL'],
    storeId: v['STORE_ID'],
    apiKey: v['API_KEY'],
    accessTokenTtl: v['ACCESS_TOKEN_TTL'],
    refreshTokenTtl: v['REFRESH_TOKEN_TTL'],
    sessionMaxAge: v['SESSION_MAX_AGE'],
    refreshReuseGrace: v['REFRESH_REUSE_GRACE'],
    logLevel: v['LOG_LEVEL'],
    issuer: v['ISSUER'],
    sqliteSynchronous: v['SQLITE_SYNCHRONOUS'],
    anonymousRateLimit: v['ANONYMOUS_RATE_LIMIT'],
    refreshRateLimit: v['REFRESH_RATE_LIMIT'],
    refreshIpRateLimit: v['REFRESH_IP_RATE_LIMIT'],
    trustProxy: v['TRUST_PROXY'],
    databasePoolSize: v['DATABASE_POOL_SIZE'],
    databaseStatementTimeout: v['DATABASE_STATEMENT_TIMEOUT'],
    redisUrl: v['REDIS_URL'],
    otpWebhookUrl: v['OTP_WEBHOOK_URL'],
    otpWebhookSecret: v['OTP_WEBHOOK_SECRET'],
    otpDebug: v['OTP_DEBUG'],
    securityWebhookUrl: v['SECURITY_WEBHOOK_URL'],
    securityWebhookSecret: v['SECURITY_WEBHOOK_SECRET'],
    purgeInterval: v['PURGE_INTERVAL'],
    metricsEnabled: v['METRICS_ENABLED'],
    corsOrigins:
      v['CORS_ORIGINS'] === '*'
        ? '*'
        : String(v['CORS_ORIGINS'])
            .split(',')
            .map((o) => o.trim().replace(/\/$/, '')),
    keyEncryptionKey: v['KEY_ENCRYPTION_KEY'],
    keyEncryptionKeyPrevious: v['KEY_ENCRYPTION_KEY_PREVIOUS'],
    keyReloadInterval: v['KEY_RELOAD_INTERVAL'],
  }) as unknown as Config;
}
