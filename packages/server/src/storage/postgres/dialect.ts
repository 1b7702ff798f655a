import type { Dialect } from '../rows.js';

/** node-postgres: BOOLEAN and JSONB arrive parsed; parameters are numbered `$n`. */
export const postgresDialect: Dialect = {
  boolean: (value) => value,
  readBoolean: (value) => value === true,
  readJson: (value) => value ?? null,
  param: (n) => `$${n}`,
  skipLocked: ' FOR UPDATE SKIP LOCKED',
  noLimit: 'ALL',
};
