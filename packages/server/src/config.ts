import { Ajv, type ErrorObject } from 'ajv';

/** One setting: the variable it is read from, its JSON schema (with its default), its meaning. */
interface Option {
  readonly env: string;
  readonly schema: {
    readonly type: 'integer' | 'string' | 'boolean';
    readonly default?: unknown;
    readonly enum?: readonly string[];
    readonly [rule: string]: unknown;
  };
  /** What the variable means, for the README's launch contract (Markdown). */
  readonly doc: string;
  /** Shown as the default when the schema has none (`unset` otherwise). */
  readonly shownDefault?: string;
}

/**
 * Every setting, declared once: the type of `Config`, the validation, the variable each field is
 * read from, the defaults and the README's launch contract (`launchContractTable`) all come from
 * this table.
 */
const OPTIONS = {
  port: {
    env: 'PORT',
    schema: { type: 'integer', minimum: 0, maximum: 65535, default: 8080 },
    doc: 'TCP port.',
  },
  host: {
    env: 'HOST',
    schema: { type: 'string', minLength: 1, default: '127.0.0.1' },
    doc: 'Interface to bind (`0.0.0.0` in a container).',
  },
  databaseUrl: {
    env: 'DATABASE_URL',
    schema: {
      type: 'string',
      pattern: '^(sqlite:.+|postgres(ql)?://.+)$',
      default: 'sqlite:./data/storefront-auth.db',
    },
    doc: '`sqlite:<relative or /absolute path>` (the folder is created) or `postgres://...`.',
  },
  storeId: {
    env: 'STORE_ID',
    schema: { type: 'string', pattern: '^[a-z0-9][a-z0-9_-]{0,62}$', default: 'demo' },
    doc: 'The store created on start when missing.',
  },
  apiKey: {
    env: 'API_KEY',
    schema: { type: 'string', minLength: 16, maxLength: 256, pattern: '^[\\x21-\\x7e]+$' },
    doc: 'A public API key made valid for `STORE_ID`. When unset on the first start, one is generated and printed once; only its hash is stored.',
    shownDefault: 'generated',
  },
  accessTokenTtl: {
    env: 'ACCESS_TOKEN_TTL',
    schema: { type: 'integer', minimum: 1, maximum: 86400, default: 900 },
    doc: 'Access-token lifetime, seconds.',
  },
  refreshTokenTtl: {
    env: 'REFRESH_TOKEN_TTL',
    schema: { type: 'integer', minimum: 1, maximum: 31536000, default: 2592000 },
    doc: 'Idle lifetime of a session (30 days): a refresh token dies this long after it was issued; every refresh slides it.',
  },
  sessionMaxAge: {
    env: 'SESSION_MAX_AGE',
    schema: { type: 'integer', minimum: 1, maximum: 157680000, default: 7776000 },
    doc: 'Absolute lifetime of a session (90 days), never extended.',
  },
  refreshReuseGrace: {
    env: 'REFRESH_REUSE_GRACE',
    schema: { type: 'integer', minimum: 0, maximum: 300, default: 30 },
    doc: 'Seconds during which the just-replaced refresh token gets the same successor again; `0` disables.',
  },
  logLevel: {
    env: 'LOG_LEVEL',
    schema: {
      type: 'string',
      enum: ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'],
      default: 'info',
    },
    doc: '`fatal`, `error`, `warn`, `info`, `debug`, `trace` or `silent`.',
  },
  issuer: {
    env: 'ISSUER',
    schema: { type: 'string', minLength: 1, maxLength: 200, default: 'storefront-auth' },
    doc: "Prefix of every token's `iss`; the store id is appended (`storefront-auth/demo`).",
  },
  sqliteSynchronous: {
    env: 'SQLITE_SYNCHRONOUS',
    schema: { type: 'string', enum: ['NORMAL', 'FULL'], default: 'NORMAL' },
    doc: '`NORMAL` or `FULL`; see [docs/storage.md](docs/storage.md).',
  },
  anonymousRateLimit: {
    env: 'ANONYMOUS_RATE_LIMIT',
    schema: { type: 'integer', minimum: 0, default: 60 },
    doc: 'New anonymous sessions per client address per minute; `0` disables.',
  },
  refreshRateLimit: {
    env: 'REFRESH_RATE_LIMIT',
    schema: { type: 'integer', minimum: 0, default: 60 },
    doc: 'Refreshes per session per minute (counted after the signature check); `0` disables. Past it: 429 `RATE_LIMITED` with `Retry-After`, and the session stays.',
  },
  refreshIpRateLimit: {
    env: 'REFRESH_IP_RATE_LIMIT',
    schema: { type: 'integer', minimum: 0, default: 1200 },
    doc: 'Refreshes per client address per minute, all sessions together; `0` disables. Generous because a server-side-rendering front end refreshes for many shoppers from one address.',
  },
  loginIpRateLimit: {
    env: 'LOGIN_IP_RATE_LIMIT',
    schema: { type: 'integer', minimum: 0, default: 30 },
    doc: 'Password logins per client address per 10 minutes, all accounts together, counted before the password is checked; `0` disables. Stops one address from spraying a password over many accounts.',
  },
  otpBackoffMax: {
    env: 'OTP_BACKOFF_MAX',
    schema: { type: 'integer', minimum: 0, maximum: 86400, default: 3600 },
    doc: 'Longest wait, seconds, between code verifications for one email or phone (or one client address) once its free allowance of failures is spent; the wait doubles from a minute up to this. A right code resets it. `0` disables the back-off.',
  },
  trustProxy: {
    env: 'TRUST_PROXY',
    schema: { type: 'boolean', default: false },
    doc: 'Trust `X-Forwarded-For` (behind a load balancer) for per-address limits.',
  },
  corsOrigins: {
    env: 'CORS_ORIGINS',
    schema: {
      type: 'string',
      pattern: '^(\\*|https?://[^,\\s]+(,\\s*https?://[^,\\s]+)*)$',
      default: '*',
    },
    doc: 'Origins allowed to call from a browser: `*` or a comma-separated list. `*` is safe because no credential is ambient (tokens travel in headers and bodies, never cookies).',
  },
  databasePoolSize: {
    env: 'DATABASE_POOL_SIZE',
    schema: { type: 'integer', minimum: 1, maximum: 1000, default: 10 },
    doc: 'PostgreSQL: most connections per instance (see [docs/production.md](docs/production.md)).',
  },
  databaseStatementTimeout: {
    env: 'DATABASE_STATEMENT_TIMEOUT',
    schema: { type: 'integer', minimum: 0, maximum: 600000, default: 5000 },
    doc: 'PostgreSQL: statement timeout, ms; `0` disables.',
  },
  redisUrl: {
    env: 'REDIS_URL',
    schema: { type: 'string', pattern: '^rediss?://.+$' },
    doc: '`redis://...` (or `rediss://`) shared by every instance for rate limits; unset: counted in-process.',
  },
  otpWebhookUrl: {
    env: 'OTP_WEBHOOK_URL',
    schema: { type: 'string', pattern: '^https?://.+' },
    doc: 'Where one-time passwords are POSTed for delivery (needs `OTP_WEBHOOK_SECRET`). Unset: a log sender that delivers nothing (development).',
  },
  otpWebhookSecret: {
    env: 'OTP_WEBHOOK_SECRET',
    schema: { type: 'string', minLength: 16, maxLength: 512 },
    doc: 'The HMAC key that signs what is POSTed to `OTP_WEBHOOK_URL`.',
  },
  otpDebug: {
    env: 'OTP_DEBUG',
    schema: { type: 'boolean', default: false },
    doc: 'Development only: lets `x-debug-mode: true` return OTPs in responses for `STORE_ID`. Refused when `NODE_ENV=production`.',
  },
  nodeEnv: {
    env: 'NODE_ENV',
    schema: { type: 'string', default: 'development' },
    doc: '`production` refuses `OTP_DEBUG` and warns at start when OTPs go to the log sender.',
  },
  purgeInterval: {
    env: 'PURGE_INTERVAL',
    schema: { type: 'integer', minimum: 0, maximum: 604800, default: 3600 },
    doc: 'Seconds between scheduled purges (expired sessions, abandoned anonymous users, dead OTPs); `0` disables.',
  },
  metricsEnabled: {
    env: 'METRICS_ENABLED',
    schema: { type: 'boolean', default: true },
    doc: 'Serve Prometheus metrics at `GET /metrics` (keep that path off the public internet).',
  },
  securityWebhookUrl: {
    env: 'SECURITY_WEBHOOK_URL',
    schema: { type: 'string', pattern: '^https?://.+' },
    doc: 'Where security events are POSTed (needs `SECURITY_WEBHOOK_SECRET`); unset: logged only.',
  },
  securityWebhookSecret: {
    env: 'SECURITY_WEBHOOK_SECRET',
    schema: { type: 'string', minLength: 16, maxLength: 512 },
    doc: 'The HMAC key that signs what is POSTed to `SECURITY_WEBHOOK_URL`.',
  },
} as const satisfies Record<string, Option>;

type Options = typeof OPTIONS;
type Field = keyof Options;

type ValueOf<S> = S extends { enum: readonly (infer E)[] }
  ? E
  : S extends { type: 'integer' }
    ? number
    : S extends { type: 'boolean' }
      ? boolean
      : string;

/** Each field as the schema yields it: a variable without a default may be unset. */
type Values = {
  readonly [F in Field]: Options[F]['schema'] extends { default: unknown }
    ? ValueOf<Options[F]['schema']>
    : ValueOf<Options[F]['schema']> | undefined;
};

/** Configuration, read once from the environment at start-up, validated, then frozen. */
export type Config = Readonly<Omit<Values, 'corsOrigins'> & { corsOrigins: '*' | string[] }>;

const FIELDS = Object.keys(OPTIONS) as Field[];

/** Every variable the server reads; the README's launch contract documents each (a test checks). */
export const CONFIG_VARIABLES: readonly string[] = FIELDS.map((field) => OPTIONS[field].env);

const validate = new Ajv({ coerceTypes: true, useDefaults: true, allErrors: true }).compile<Values>({
  type: 'object',
  properties: Object.fromEntries(FIELDS.map((field) => [field, OPTIONS[field].schema])),
  // A webhook without its signing secret would send unsigned payloads: refuse the pair half set.
  dependencies: {
    otpWebhookUrl: ['otpWebhookSecret'],
    securityWebhookUrl: ['securityWebhookSecret'],
  },
});

export class ConfigError extends Error {
  override name = 'ConfigError';
}

function variableOf(field: unknown): string {
  return typeof field === 'string' && field in OPTIONS ? OPTIONS[field as Field].env : String(field);
}

/** One finding, named by its variable. Never echoes the value: API_KEY is a secret. */
function problem(error: ErrorObject): string {
  if (error.keyword === 'dependencies') {
    return `${variableOf(error.params['missingProperty'])} is required when ${variableOf(error.params['property'])} is set`;
  }
  return `${variableOf(error.instancePath.replace(/^\//, ''))} ${error.message}`;
}

/** Reads and validates the configuration; throws a ConfigError naming every bad variable. */
export function loadConfig(env: NodeJS.ProcessEnv = process.env): Config {
  const input: Record<string, unknown> = {};
  for (const field of FIELDS) {
    const value = env[OPTIONS[field].env];
    if (value !== undefined && value !== '') input[field] = value.trim();
  }
  if (!validate(input)) {
    throw new ConfigError(`Invalid configuration: ${(validate.errors ?? []).map(problem).join('; ')}`);
  }
  if (input.otpDebug && input.nodeEnv === 'production') {
    throw new ConfigError(
      'Invalid configuration: OTP_DEBUG=true is refused when NODE_ENV=production (it lets responses carry OTPs)',
    );
  }
  const unset = Object.fromEntries(FIELDS.map((field) => [field, undefined]));
  return Object.freeze({
    ...unset,
    ...input,
    corsOrigins:
      input.corsOrigins === '*'
        ? '*'
        : input.corsOrigins.split(',').map((origin) => origin.trim().replace(/\/$/, '')),
  });
}

/** The README's launch-contract table, one row per variable, from `OPTIONS`. */
export function launchContractTable(): string {
  const rows = FIELDS.map((field) => {
    const option: Option = OPTIONS[field];
    const fallback =
      option.schema.default !== undefined
        ? `\`${String(option.schema.default)}\``
        : (option.shownDefault ?? 'unset');
    return `| \`${option.env}\` | ${fallback} | ${option.doc} |`;
  });
  return ['| Variable | Default | Meaning |', '|---|---|---|', ...rows].join('\n');
}
