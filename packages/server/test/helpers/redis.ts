import { describeWithServer } from './describe-with-server.js';

/**
 * Where the Redis tests run: TEST_REDIS_URL (e.g. redis://127.0.0.1:6379). Unset on a developer's
 * machine: skipped, and said so. Unset in CI (CI=true): failed, never silently skipped.
 */
export function describeWithRedis(title: string, body: (url: string) => void): void {
  describeWithServer('Redis', 'TEST_REDIS_URL', title, body);
}
