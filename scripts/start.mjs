#!/usr/bin/env node
// `npm start`: compiles the server only when a source changed since the last build, then runs it
// in this process (so signals reach the server itself). A clean clone is built once by `npm ci`
// (the root package's prepare script), so its first start does not compile either.
//
// `--stamp` (run by `npm run build`) only records that the build is current. tsc -b does not
// rewrite outputs whose sources changed in time but not in content (a git checkout), so the
// outputs' own times cannot tell; the stamp's can.
import { execFileSync } from 'node:child_process';
import { closeSync, openSync, readdirSync, statSync, utimesSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const server = join(root, 'packages/server');
const stamp = join(server, 'dist/.built');

function markBuilt() {
  closeSync(openSync(stamp, 'a'));
  const now = new Date();
  utimesSync(stamp, now, now);
}

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

if (process.argv.includes('--stamp')) {
  markBuilt();
} else {
  const built = newest(stamp);
  const sources = Math.max(
    newest(join(server, 'src')),
    newest(join(server, 'tsconfig.json')),
    newest(join(root, 'tsconfig.base.json')),
  );
  if (built === 0 || sources > built) {
    process.stderr.write(
      'storefront-auth: compiling the server (its sources changed since the last build)\n',
    );
    execFileSync(process.execPath, [join(root, 'node_modules/typescript/bin/tsc'), '-b', server], {
      stdio: 'inherit',
    });
    markBuilt();
  }
  await import(join(server, 'dist/main.js'));
}
