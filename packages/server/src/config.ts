import { fileURLToPath } from 'node:url';
import { Ajv, type ErrorObject } from 'ajv';
import { addressListProblem } from './http/client-address.js';
import { LIMIT_MAXIMUM, LIMITS, type LimitName, type LimitValues } from './ratelimit/limits.js';
import { parseKeyEncryptionKey, UNENCRYPTED } from './tokens/key-wrap.js';

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
  /** Shown as the default instead of the schema's (`unset` when neither is set). */
  readonly shownDefault?: string;
}

/** The limits' rows as settings (their table is in ratelimit/limits.ts, which the CLI and docs read too). */
const LIMIT_OPTIONS = Object.fromEntries(
  Object.entries(LIMITS).map(([name, spec]) => [
    name,
    {
      env: spec.env,
      schema: { type: 'integer', minimum: spec.minimum, maximum: LIMIT_MAXIMUM, default: spec.default },
      doc: `${spec.protects}${spec.minimum === 0 ? ' `0` disables.' : ''} Per store: \`limits set\` (CLI).`,
    },
  ]),
) as {
  readonly [N in LimitName]: {
    env: string;
    schema: { type: 'integer'; minimum: number; maximum: number; default: number };
    doc: string;
  };
};

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
      // In the checkout's folder, not the working directory's: the CLI started from a subfolder
      // (npx in packages/server) finds the server's database instead of creating a second one.
      default: `sqlite:${fileURLToPath(new URL('../../../data/storefront-auth.db', import.meta.url))}`,
    },
    doc: '`sqlite:<relative or /absolute path>` (the folder is created; a relative path is from the working directory) or `postgres://...`. The default is the `data/` folder of the checkout wherever the server or the CLI is started from.',
    shownDefault: '`sqlite:<project>/data/storefront-auth.db`',
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
  maxSessionsPerUser: {
    env: 'MAX_SESSIONS_PER_USER',
    schema: { type: 'integer', minimum: 1, maximum: 100000, default: 100 },
    doc: "Sessions one customer account holds at once (devices, browsers): a sign-in past it revokes the account's oldest session (`revoked_reason` `session_limit`; its next refresh answers SESSION_REVOKED). Bounds what one account can make every later write of it cost.",
  },
  refreshReuseGrace: {
    env: 'REFRESH_REUSE_GRACE',
    schema: { type: 'integer', minimum: 0, maximum: 300, default: 30 },
    doc: 'Seconds during which the just-replaced refresh token gets the same successor again; `0` disables. Every refresh answer says it in the `x-refresh-grace-seconds` header (exposed to browsers by CORS), so a client knows how long it may replay a token whose answer it lost.',
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
  trustProxy: {
    env: 'TRUST_PROXY',
    schema: { type: 'string', pattern: '^[0-9A-Za-z:./,\\s]+$', default: 'false' },
    doc: '`false` (clients connect directly), the number of proxies in front (`1` behind one load balancer), or a comma-separated list of proxy addresses/CIDRs. The client address is the right-most `X-Forwarded-For` entry not added by a trusted proxy; `true` (trust every hop) is refused. See [docs/production.md](docs/production.md).',
  },
  trustedFrontends: {
    env: 'TRUSTED_FRONTENDS',
    schema: { type: 'string', pattern: '^[0-9A-Za-z:./,\\s]*$', default: '' },
    doc: "Comma-separated addresses/CIDRs of the storefront's own servers (server-side rendering). A call from one is not one shopper: per-address limits count the shopper address it appends to `X-Forwarded-For`, or, when it forwards none, the front end's budget (`FRONTEND_BUDGET_FACTOR`).",
    shownDefault: 'none',
  },
  ...LIMIT_OPTIONS,
  rateLimitMaxKeys: {
    env: 'RATE_LIMIT_MAX_KEYS',
    schema: { type: 'integer', minimum: 1000, maximum: 100000000, default: 500000 },
    doc: 'Most rate-limit windows one instance keeps in memory (without Redis, or while Redis is away); past it the window closest to its end is dropped. About 350 bytes of memory each (`npm run bench`).',
  },
  requestTimeout: {
    env: 'REQUEST_TIMEOUT',
    schema: { type: 'integer', minimum: 0, maximum: 3600000, default: 10000 },
    doc: 'Most time a client may take to send one whole request (headers and body), ms; then 408 and the socket is closed. `0` disables.',
  },
  headersTimeout: {
    env: 'HEADERS_TIMEOUT',
    schema: { type: 'integer', minimum: 0, maximum: 3600000, default: 5000 },
    doc: "Most time a client may take to send a request's headers, ms (at most `REQUEST_TIMEOUT` when that is set).",
  },
  keepAliveTimeout: {
    env: 'KEEP_ALIVE_TIMEOUT',
    schema: { type: 'integer', minimum: 1, maximum: 3600000, default: 72000 },
    doc: "How long an idle keep-alive connection stays open, ms. Longer than the load balancer's idle timeout (60 s on most), so the balancer, not this server, closes idle connections.",
  },
  maxConnections: {
    env: 'MAX_CONNECTIONS',
    schema: { type: 'integer', minimum: 0, maximum: 1000000, default: 0 },
    doc: 'Most open connections per instance; more are closed on arrival. `0`: no cap beyond the file-descriptor limit (set it below `ulimit -n`).',
  },
  connectionsCheckInterval: {
    env: 'CONNECTIONS_CHECK_INTERVAL',
    schema: { type: 'integer', minimum: 10, maximum: 60000, default: 1000 },
    doc: 'How often request and headers timeouts are checked, ms: a stalled socket is closed at most this long after its timeout.',
  },
  shutdownDrain: {
    env: 'SHUTDOWN_DRAIN',
    schema: { type: 'integer', minimum: 0, maximum: 600000, default: 1000 },
    doc: "After SIGTERM or SIGINT, how long the instance keeps answering before it stops accepting, ms: `/readyz` answers 503, every answer closes its connection, and a request already on its way is answered instead of reset. Ends early once no connection is open. Set it to the time the balancer takes to stop sending to an instance whose `/readyz` fails, within the orchestrator's grace period.",
  },
  oversizeDiscardLimit: {
    env: 'OVERSIZE_DISCARD_LIMIT',
    schema: { type: 'integer', minimum: 0, maximum: 1073741824, default: 16777216 },
    doc: 'Bytes of an oversized body read and thrown away before the 413 is sent, so the client reads the answer instead of a broken pipe; a larger body is cut off at once.',
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
  profileImageMaxBytes: {
    env: 'PROFILE_IMAGE_MAX_BYTES',
    schema: { type: 'integer', minimum: 1024, maximum: 20971520, default: 2097152 },
    doc: 'Largest profile image accepted, bytes (2 MiB); a larger upload is refused with `IMAGE_TOO_LARGE` and nothing is stored.',
  },
  purgeInterval: {
    env: 'PURGE_INTERVAL',
    schema: { type: 'integer', minimum: 0, maximum: 604800, default: 3600 },
    doc: 'Seconds between scheduled purges (expired sessions, abandoned anonymous users, dead OTPs, old deliveries and events: see Purge below); `0` disables.',
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
  keyEncryptionKey: {
    env: 'KEY_ENCRYPTION_KEY',
    schema: { type: 'string' },
    doc: '32 random bytes, base64 (`openssl rand -base64 32`): every private signing key is stored encrypted with it (AES-256-GCM). Unset: stored in plain text, with a loud warning when `NODE_ENV=production`. See [docs/production.md](docs/production.md#signing-keys-at-rest).',
  },
  keyEncryptionKeyPrevious: {
    env: 'KEY_ENCRYPTION_KEY_PREVIOUS',
    schema: { type: 'string' },
    doc: 'While changing `KEY_ENCRYPTION_KEY`: the old one (or `unencrypted`), still accepted for reading until `keys rewrap` has run.',
  },
  dpopProofMaxAge: {
    env: 'DPOP_PROOF_MAX_AGE',
    schema: { type: 'integer', minimum: 5, maximum: 300, default: 60 },
    doc: "Oldest DPoP proof accepted, seconds after its `iat` (at most 5 s in the future is accepted too); each proof's `jti` is kept this long to refuse its replay. See [docs/dpop.md](docs/dpop.md).",
  },
  dpopNonce: {
    env: 'DPOP_NONCE',
    schema: { type: 'boolean', default: false },
    doc: "Require a server nonce in every DPoP proof (RFC 9449 §8): answers carry `DPoP-Nonce`, a proof without a current one gets `DPOP_NONCE_REQUIRED`. Stateless (an HMAC of the time under the store's refresh key), so every instance accepts every instance's nonce.",
  },
  publicUrl: {
    env: 'PUBLIC_URL',
    schema: { type: 'string', pattern: '^https?://[^/?#]+(/[^?#]*)?$' },
    doc: "The URL clients reach the server at (`https://auth.example.com`, with a path prefix if a proxy adds one): DPoP proofs' `htu` is checked against it plus the request path, and the URLs the server hands out (`profile_image_url`) start with it. Unset: the request's own scheme and `Host` (`X-Forwarded-Proto`/`-Host` from proxies `TRUST_PROXY` trusts).",
  },
  keyReloadInterval: {
    env: 'KEY_RELOAD_INTERVAL',
    schema: { type: 'integer', minimum: 1, maximum: 3600, default: 60 },
    doc: "Seconds an instance trusts a store's signing keys and limits it loaded before reading them again (how soon it sees a rotation, a retired key or `limits set`).",
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
    keyEncryptionKeyPrevious: ['keyEncryptionKey'],
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
  if (input.trustProxy.toLowerCase() === 'true') {
    throw new ConfigError(
      'Invalid configuration: TRUST_PROXY=true is refused: it trusts every X-Forwarded-For hop, so a client picks its own address. Give the number of proxies in front (e.g. 1) or their addresses',
    );
  }
  for (const field of ['trustProxy', 'trustedFrontends'] as const) {
    const value = input[field];
    const found = field === 'trustProxy' && /^(false|\d+)$/i.test(value) ? null : addressListProblem(value);
    if (found) throw new ConfigError(`Invalid configuration: ${OPTIONS[field].env} ${found}`);
  }
  if (input.otpDebug && input.nodeEnv === 'production') {
    throw new ConfigError(
      'Invalid configuration: OTP_DEBUG=true is refused when NODE_ENV=production (it lets responses carry OTPs)',
    );
  }
  for (const field of ['keyEncryptionKey', 'keyEncryptionKeyPrevious'] as const) {
    const value = input[field];
    if (value === undefined || (field === 'keyEncryptionKeyPrevious' && value === UNENCRYPTED)) continue;
    try {
      parseKeyEncryptionKey(value, OPTIONS[field].env);
    } catch (error) {
      throw new ConfigError(`Invalid configuration: ${(error as Error).message}`);
    }
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

/** The configured value of every limit (a store's own overrides come on top, per tenant). */
export function limitValuesOf(config: Config): LimitValues {
  return Object.freeze(
    Object.fromEntries(Object.keys(LIMITS).map((name) => [name, config[name as LimitName]])),
  ) as LimitValues;
}

/** The README's launch-contract table, one row per variable, from `OPTIONS`. */
export function launchContractTable(): string {
  const rows = FIELDS.map((field) => {
    const option: Option = OPTIONS[field];
    const fallback =
      option.shownDefault ??
      (option.schema.default !== undefined && option.schema.default !== ''
        ? `\`${String(option.schema.default)}\``
        : 'unset');
    return `| \`${option.env}\` | ${fallback} | ${option.doc} |`;
  });
  return ['| Variable | Default | Meaning |', '|---|---|---|', ...rows].join('\n');
}
