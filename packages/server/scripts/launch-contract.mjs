// Rewrites the generated tables of the docs (run after `npm run build`): the README's launch
// contract from the config schema, docs/production.md's limits from the limits table.
import { readFileSync, writeFileSync } from 'node:fs';
import { launchContractTable } from '../dist/config.js';
import { limitsTable } from '../dist/ratelimit/limits.js';

function rewrite(file, name, table) {
  const START = `<!-- ${name}:start -->`;
  const END = `<!-- ${name}:end -->`;
  const path = new URL(`../../../${file}`, import.meta.url);
  const text = readFileSync(path, 'utf8');
  const from = text.indexOf(START);
  const to = text.indexOf(END);
  if (from < 0 || to < from) throw new Error(`${file} has no ${START} ... ${END} block`);
  writeFileSync(path, `${text.slice(0, from + START.length)}\n${table}\n${text.slice(to)}`);
}

rewrite('README.md', 'launch-contract', launchContractTable());
rewrite('docs/production.md', 'limits', limitsTable());
