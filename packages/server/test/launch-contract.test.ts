import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { launchContractTable } from '../src/config.js';

describe("the README's launch contract", () => {
  it('is the table the config schema generates (npm run docs -w packages/server rewrites it)', () => {
    const readme = readFileSync(new URL('../../../README.md', import.meta.url), 'utf8');
    const block = /<!-- launch-contract:start -->\n([\s\S]*?)\n<!-- launch-contract:end -->/.exec(readme);
    expect(block?.[1]).toBe(launchContractTable());
  });
});
