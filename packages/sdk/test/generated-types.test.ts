import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { expect, it } from 'vitest';

const root = fileURLToPath(new URL('../../../', import.meta.url));

it('src/generated/openapi.ts is what openapi-typescript makes of the server’s openapi.json (run `npm run generate -w packages/sdk` when this fails)', () => {
  const dir = mkdtempSync(join(tmpdir(), 'sdk-gen-'));
  try {
    const out = join(dir, 'openapi.ts');
    execFileSync(
      process.execPath,
      [
        join(root, 'node_modules/openapi-typescript/bin/cli.js'),
        join(root, 'packages/server/openapi.json'),
        '-o',
        out,
      ],
      { stdio: 'pipe' },
    );
    const committed = readFileSync(join(root, 'packages/sdk/src/generated/openapi.ts'), 'utf8');
    // Compared as strings, so a failure shows the lines that differ ("-" generated, "+" committed).
    expect(committed).toBe(readFileSync(out, 'utf8'));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
