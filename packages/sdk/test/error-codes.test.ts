import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { expect, it } from 'vitest';
import { SDK_ERROR_CODES, SERVER_ERROR_CODES, SESSION_ENDING_CODES } from '../src/index.js';

const doc = readFileSync(fileURLToPath(new URL('../../../docs/errors.md', import.meta.url)), 'utf8');
const readme = readFileSync(fileURLToPath(new URL('../README.md', import.meta.url)), 'utf8');

it('knows every code of the server registry (docs/errors.md) and no other', () => {
  const documented = [...doc.matchAll(/^\| `([A-Z_]+)` \|/gm)].map((m) => m[1]);
  expect([...SERVER_ERROR_CODES].sort()).toEqual(documented.sort());
});

it('ends the session on exactly the codes docs/errors.md says end it', () => {
  const section = doc.slice(doc.indexOf('## What a client should do'));
  const firstBullet = section.split('\n- ')[1] ?? '';
  const ending = [...firstBullet.split(':')[0]!.matchAll(/`([A-Z_]+)`/g)].map((m) => m[1]);
  expect([...SESSION_ENDING_CODES].sort()).toEqual(ending.sort());
});

it('documents every code in the README', () => {
  for (const code of [...SERVER_ERROR_CODES, ...SDK_ERROR_CODES]) expect(readme).toContain(`\`${code}\``);
});
