/**
 * Every abuse limit, declared once: the config reads each from its variable (with its default),
 * the CLI sets it per store by its name, and docs/production.md shows this table (a test checks).
 * A new limit is one row here.
 */

/** Who a limit counts. `address` limits give a declared front end a budget (see `frontendBudgetFactor`). */
export type LimitScope = 'address' | 'identifier' | 'session' | 'code' | 'front end';

export interface LimitSpec {
  readonly env: string;
  readonly default: number;
  /** Fixed window the count runs in, ms; absent for a limit that is not counted in windows. */
  readonly windowMs?: number;
  readonly scope: LimitScope;
  /** Smallest value; `0` where 0 turns the limit off. */
  readonly minimum: number;
  /** What the limit protects (Markdown, one sentence or two). */
  readonly protects: string;
}

export const LIMITS = {
  anonymous: {
    env: 'ANONYMOUS_RATE_LIMIT',
    default: 60,
    windowMs: 60_000,
    scope: 'address',
    minimum: 0,
    protects: 'New anonymous sessions: each one is a user and a session row, so a flood fills storage.',
  },
  refreshPerSession: {
    env: 'REFRESH_RATE_LIMIT',
    default: 60,
    windowMs: 60_000,
    scope: 'session',
    minimum: 0,
    protects:
      'Refreshes of one session (counted after the signature check): a stolen or looping client cannot spin one session. The session stays.',
  },
  refreshPerAddress: {
    env: 'REFRESH_IP_RATE_LIMIT',
    default: 1200,
    windowMs: 60_000,
    scope: 'address',
    minimum: 0,
    protects:
      'Refreshes from one address, all sessions together: signature checks and database writes under a flood of made-up tokens.',
  },
  otpPerIdentifier: {
    env: 'OTP_IDENTIFIER_RATE_LIMIT',
    default: 5,
    windowMs: 10 * 60_000,
    scope: 'identifier',
    minimum: 0,
    protects: "One email or phone: its owner's inbox, and the cost of each SMS.",
  },
  otpPerAddress: {
    env: 'OTP_IP_RATE_LIMIT',
    default: 20,
    windowMs: 10 * 60_000,
    scope: 'address',
    minimum: 0,
    protects:
      'Codes requested from one address, whatever the identifier: checked first, so a refused client charges no per-identifier key.',
  },
  otpAttempts: {
    env: 'OTP_MAX_ATTEMPTS',
    default: 5,
    scope: 'code',
    minimum: 1,
    protects: 'Guesses at one six-digit code; after the last the code is dead, even the right one.',
  },
  loginPerIdentifier: {
    env: 'LOGIN_IDENTIFIER_RATE_LIMIT',
    default: 10,
    windowMs: 10 * 60_000,
    scope: 'identifier',
    minimum: 0,
    protects: 'Password guesses at one email or phone, from anywhere.',
  },
  loginPerAddress: {
    env: 'LOGIN_IP_RATE_LIMIT',
    default: 30,
    windowMs: 10 * 60_000,
    scope: 'address',
    minimum: 0,
    protects:
      'Password logins from one address, all accounts together, counted before the password is checked: one address cannot spray a password over many accounts, each costing an argon2id verification.',
  },
  otpBackoffMax: {
    env: 'OTP_BACKOFF_MAX',
    default: 3600,
    scope: 'code',
    minimum: 0,
    protects:
      'Longest wait, in seconds, between code verifications for one email or phone (or one address) once its free failures are spent (10 per email or phone, 20 per address); the wait doubles from a minute up to this, and a right code resets it. Bounds code guessing over time, not per window.',
  },
  frontendBudgetFactor: {
    env: 'FRONTEND_BUDGET_FACTOR',
    default: 50,
    scope: 'front end',
    minimum: 1,
    protects:
      "A declared front end (`TRUSTED_FRONTENDS`) that forwards no shopper address gets this many times each per-address limit: one budget for many shoppers, never one shopper's allowance.",
  },
} as const satisfies Record<string, LimitSpec>;

export type LimitName = keyof typeof LIMITS;
export type AddressLimit = {
  [N in LimitName]: (typeof LIMITS)[N]['scope'] extends 'address' ? N : never;
}[LimitName];

/** The value of every limit: the config's, or a store's own where it set one. */
export type LimitValues = { readonly [N in LimitName]: number };

export const LIMIT_NAMES = Object.keys(LIMITS) as LimitName[];

export function isLimitName(name: string): name is LimitName {
  return Object.hasOwn(LIMITS, name);
}

/** A store's overrides over the configured values; unknown names (a later version's) are ignored. */
export function withOverrides(base: LimitValues, overrides: Readonly<Record<string, number>>): LimitValues {
  const merged: Record<string, number> = { ...base };
  for (const [name, value] of Object.entries(overrides)) if (isLimitName(name)) merged[name] = value;
  return Object.freeze(merged) as LimitValues;
}

/** Largest value of any limit (it is stored as a 32-bit integer). */
export const LIMIT_MAXIMUM = 1_000_000_000;

/** Why a value is refused for a limit, or null when it is fine. */
export function limitValueProblem(name: LimitName, value: number): string | null {
  const { minimum } = LIMITS[name];
  if (!Number.isSafeInteger(value) || value < minimum || value > LIMIT_MAXIMUM)
    return `${name} takes a whole number from ${minimum} to ${LIMIT_MAXIMUM}`;
  return null;
}

function windowText(ms: number | undefined): string {
  if (ms === undefined) return '-';
  return ms % 60_000 === 0 ? `${ms / 60_000} min` : `${ms / 1000} s`;
}

/** The table docs/production.md shows, one row per limit. */
export function limitsTable(): string {
  const rows = LIMIT_NAMES.map((name) => {
    const spec: LimitSpec = LIMITS[name];
    const off = spec.minimum === 0 ? ' `0` turns it off.' : '';
    return `| \`${name}\` | \`${spec.env}\` | ${spec.default} | ${windowText(spec.windowMs)} | ${spec.scope} | ${spec.protects}${off} |`;
  });
  return [
    '| Limit (CLI name) | Variable | Default | Window | Per | What it protects |',
    '|---|---|---|---|---|---|',
    ...rows,
  ].join('\n');
}
