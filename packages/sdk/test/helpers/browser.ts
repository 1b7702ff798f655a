import { execFileSync, execSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { type BrowserContext, chromium } from 'playwright-core';

const root = fileURLToPath(new URL('../../../../', import.meta.url));

/**
 * The Debian chromium binary, or null with the reason printed. Under CI=true a missing browser is
 * a failure, not a skip: CI installs it, so its absence there is a broken pipeline.
 */
export function findChromium(): string | null {
  let path = '';
  try {
    path = execSync('command -v chromium', { encoding: 'utf8', shell: '/bin/sh' }).trim();
  } catch {
    path = '';
  }
  if (path) return path;
  const reason = 'chromium is not installed (apt-get install -y chromium); skipping the browser tests';
  if (process.env['CI'] === 'true') throw new Error(`CI=true but ${reason.split(';')[0]}`);
  console.warn(`[sdk browser tests] ${reason}`);
  return null;
}

/** Builds the SDK's dist (the browser loads it as plain ESM). One build at a time across test files. */
export function buildSdk(): void {
  execFileSync(
    'flock',
    [
      '/tmp/storefront-auth-sdk-build.lock',
      process.execPath,
      'node_modules/typescript/bin/tsc',
      '-b',
      'packages/sdk',
    ],
    {
      cwd: root,
      stdio: 'pipe',
    },
  );
}

/** A fresh headless Chromium profile; every page in it shares one origin's localStorage and locks. */
export async function launchBrowser(
  executablePath: string,
): Promise<{ context: BrowserContext; close(): Promise<void> }> {
  const profile = mkdtempSync(join(tmpdir(), 'sdk-chromium-'));
  const context = await chromium.launchPersistentContext(profile, {
    executablePath,
    headless: true,
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
    viewport: { width: 900, height: 700 },
  });
  context.setDefaultTimeout(15_000);
  return {
    context,
    async close() {
      await context.close();
      rmSync(profile, { recursive: true, force: true });
    },
  };
}
