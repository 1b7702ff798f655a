import { describe, expect, it } from 'vitest';
import { randomId, ulid } from '../../src/util/ids.js';

describe('generated ids', () => {
  it('never start with a dash or underscore (the CLI takes them as arguments)', () => {
    for (let i = 0; i < 5000; i++) expect(randomId(12)).toMatch(/^[A-Za-z0-9][A-Za-z0-9_-]{15}$/);
  });

  it('user ids are ULIDs that sort by creation time', () => {
    const a = ulid(Date.UTC(2026, 0, 1));
    const b = ulid(Date.UTC(2026, 0, 2));
    expect(a).toMatch(/^[0-9A-HJKMNP-TV-Z]{26}$/);
    expect(a < b).toBe(true);
  });
});
