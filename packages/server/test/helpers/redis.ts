import { describe, it } from 'vitest';

/**
 * Where the Redis tests run: TEST_REDIS_URL (e.g. redis://127.0.0.1:6379). Unset on a developer's
 * machine: skipped, and said so. Unset in CI (CI=true): failed, never silently skipped.
 */
export const REDIS_URL = process.env['TEST_REDIS_URL'] || undefined;
const IN_CI = process.env['CI'] === 'true';

export const REDIS_SKIP_REASON = 'TEST_REDIS_URL is not set (CI=true never skips: it fails instead)';

export function describeWithRedis(title: string, body: (url: string) => void): void {
  if (REDIS_URL) {
    describe(title, () => body(REDIS_URL));
  } else if (IN_CI) {
    describe(title, () => {
      it('has a Redis server to run against', () => {
        throw new Error('CI=true but TEST_REDIS_URL is not set: the Redis suites must run in CI');
      });
    });
  } else {
    process.stderr.write(`\n[storefront-auth] SKIPPED "${title}": ${REDIS_SKIP_REASON}\n`);
    describe.skip(`${title} [SKIPPED: ${REDIS_SKIP_REASON}]`, () => {
      it('needs Redis', () => {});
    });
  }
}
