import { execFile, execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { buildSdk } from './helpers/browser.js';
import { API_KEY, type Stack, startStack } from './helpers/stack.js';

const root = fileURLToPath(new URL('../../../', import.meta.url));
const sdkDir = join(root, 'packages/sdk');
let dir: string;
let stack: Stack;

beforeAll(async () => {
  buildSdk();
  stack = await startStack();
  dir = mkdtempSync(join(tmpdir(), 'sdk-pack-'));
  // --ignore-scripts: the build above already ran (prepack would rebuild concurrently with other files).
  const npm = process.platform === 'win32' ? 'npm.cmd' : 'npm';
  execFileSync(npm, ['pack', '--ignore-scripts', '--pack-destination', dir], { cwd: sdkDir, stdio: 'pipe' });
  const tarball = readdirSync(dir).find((f) => f.endsWith('.tgz'))!;
  const target = join(dir, 'consumer/node_modules/@storefront-auth/sdk');
  mkdirSync(target, { recursive: true });
  execFileSync('tar', ['-xzf', join(dir, tarball), '-C', target, '--strip-components=1']);
});
afterAll(async () => {
  await stack?.close();
  rmSync(dir, { recursive: true, force: true });
});

it('the packed tarball holds the ESM build, its .d.ts, the README, and no sources or tests', () => {
  const listing = execFileSync(
    'tar',
    ['-tzf', join(dir, readdirSync(dir).find((f) => f.endsWith('.tgz'))!)],
    {
      encoding: 'utf8',
    },
  );
  expect(listing).toContain('package/dist/index.js');
  expect(listing).toContain('package/dist/index.d.ts');
  expect(listing).toContain('package/README.md');
  expect(listing).not.toMatch(/package\/(src|test|examples)\//);
});

it('a project that installs the tarball can import it and run the seed example against the server', async () => {
  const consumer = join(dir, 'consumer');
  writeFileSync(join(consumer, 'package.json'), JSON.stringify({ type: 'module', private: true }));
  writeFileSync(
    join(consumer, 'main.ts'),
    `import { createStorefrontSDK, memoryStorage, type ApiResult, type RefreshTokenContent } from '@storefront-auth/sdk';
const sdk = createStorefrontSDK({ baseUrl: process.argv[2]!, apiKey: process.argv[3], tokenStorage: memoryStorage() });
const access = await sdk.session.ensureAccessToken();
const tokens = await sdk.session.getTokens();
const { data, error }: ApiResult<RefreshTokenContent> = await sdk.auth.refreshToken({ refresh_token: tokens!.refresh_token });
if (error) {
  console.log(JSON.stringify({ ok: false, code: error.code }));
} else {
  console.log(JSON.stringify({ ok: typeof access === 'string' && data.refresh_token !== tokens!.refresh_token }));
}
`,
  );
  writeFileSync(
    join(consumer, 'tsconfig.json'),
    JSON.stringify({
      compilerOptions: {
        target: 'ES2022',
        module: 'NodeNext',
        moduleResolution: 'NodeNext',
        strict: true,
        lib: ['ES2022', 'DOM'],
        types: [],
        skipLibCheck: false,
        outDir: 'out',
      },
      files: ['main.ts', 'node.d.ts'],
    }),
  );
  // The SDK needs no @types/node; the consumer script reads process.argv, so declare just that.
  writeFileSync(join(consumer, 'node.d.ts'), 'declare const process: { argv: string[] };\n');
  execFileSync(process.execPath, [join(root, 'node_modules/typescript/bin/tsc'), '-p', consumer], {
    stdio: 'pipe',
  });
  // Asynchronous: the server runs in this process and must keep answering while the consumer runs.
  const { stdout } = await promisify(execFile)(
    process.execPath,
    [join(consumer, 'out/main.js'), stack.baseUrl, API_KEY],
    {
      encoding: 'utf8',
    },
  );
  expect(JSON.parse(stdout.trim())).toEqual({ ok: true });
}, 120_000); // compiles and runs a consumer project: generous for a busy machine, never a timed assertion
