import type { Dialect } from '../rows.js';

/** better-sqlite3: booleans are INTEGER 0/1, JSON is TEXT, parameters are positional `?`. */
export const sqliteDialect: Dialect = {
  boolean: (value) => (value ? 1 : 0),
  readBoolean: (value) => value === 1,
  readJson: (value) => (typeof value === 'string' ? JSON.parse(value) : null),
  param: () => '?',
  skipLocked: '',
  noLimit: '-1',
};
