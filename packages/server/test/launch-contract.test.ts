import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { launchContractTable } from '../src/config.js';
import { LIMIT_NAMES, LIMITS, limitsTable } from '../src/ratelimit/limits.js';

describe("the README's launch contract", () => {
  it('is the table the config schema generates (npm run docs -w packages/server rewrites it)', () => {
    const readme = readFileSync(new URL('../../../README.md', import.meta.url), 'utf8');
    const block = /<!-- launch-contract:start -->\n([\s\S]*?)\n<!-- launch-contract:end -->/.exec(readme);
    expect(block?.[1]).toBe(launchContractTable());
  });
});

describe("docs/production.md's limits", () => {
  it('is the table ratelimit/limits.ts generates, one row per limit (npm run docs -w packages/server rewrites it)', () => {
    const doc = readFileSync(new URL('../../../docs/production.md', import.meta.url), 'utf8');
    const block = /<!-- limits:start -->\n([\s\S]*?)\n<!-- limits:end -->/.exec(doc);
    expect(block?.[1]).toBe(limitsTable());
    for (const name of LIMIT_NAMES) expect(block?.[1]).toContain(`| \`${name}\` | \`${LIMITS[name].env}\` |`);
  });
});
