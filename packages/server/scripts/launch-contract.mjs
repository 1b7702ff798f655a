// Rewrites the README's launch-contract table from the config schema (run after `npm run build`).
import { readFileSync, writeFileSync } from 'node:fs';
import { launchContractTable } from '../dist/config.js';

const START = '<!-- launch-contract:start -->';
const END = '<!-- launch-contract:end -->';
const path = new URL('../../../README.md', import.meta.url);
const readme = readFileSync(path, 'utf8');
const from = readme.indexOf(START);
const to = readme.indexOf(END);
if (from < 0 || to < from) throw new Error(`README.md has no ${START} ... ${END} block`);
writeFileSync(path, `${readme.slice(0, from + START.length)}\n${launchContractTable()}\n${readme.slice(to)}`);
