#!/usr/bin/env node
// `npm start`: compiles the server only when a source is newer than its last build, then runs it
// in this process (so signals reach the server itself). A clean clone is built once by `npm ci`
// (the root package's prepare script), so a first start does not compile either.
import { execFileSync } from 'node:child_process';
import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const server = join(root, 'packages/server');
const main = join(server, 'dist/main.js');

/** Newest modification time under `path` (a file or a folder), ms; 0 when missing. */
function newest(path) {
  let stat;
  try {
    stat = statSync(path);
  } catch {
    return 0;
  }
  if (!stat.isDirectory()) return stat.mtimeMs;
  let latest = stat.mtimeMs;
  for (const entry of readdirSync(path)) latest = Math.max(latest, newest(join(path, entry)));
  return latest;
}

const built = Math.min(newest(main), newest(join(server, 'tsconfig.tsbuildinfo')));
const sources = Math.max(
  newest(join(server, 'src')),
  newest(join(server, 'tsconfig.json')),
  newest(join(root, 'tsconfig.base.json')),
);
if (built === 0 || sources > built) {
  process.stderr.write('storefront-auth: compiling the server (sources changed since the last build)\n');
  execFileSync(process.execPath, [join(root, 'node_modules/typescript/bin/tsc'), '-b', server], {
    stdio: 'inherit',
  });
}
await import(main);
