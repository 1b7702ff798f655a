// Suites here skip only without the server's address, with the reason printed (see below).
import { describe, it } from 'vitest';

const IN_CI = process.env['CI'] === 'true';

/**
 * `describe` for suites that need an outside server (`name`, e.g. PostgreSQL) whose address comes from
 * the environment variable `envVar`: runs with that address, skips with the reason in its title on a
 * developer's machine, or fails in CI (CI=true), because a green run must never mean "they did not run".
 */
export function describeWithServer(
  name: string,
  envVar: string,
  title: string,
  body: (url: string) => void,
): void {
  const url = process.env[envVar] || undefined;
  const skipReason = `${envVar} is not set (CI=true never skips: it fails instead)`;
  if (url) {
    describe(title, () => body(url));
  } else if (IN_CI) {
    describe(title, () => {
      it(`has a ${name} server to run against`, () => {
        throw new Error(`CI=true but ${envVar} is not set: the ${name} suites must run in CI`);
      });
    });
  } else {
    process.stderr.write(`\n[storefront-auth] SKIPPED "${title}": ${skipReason}\n`);
    // Skip reason: no address for the server in this environment (a developer's machine without
    // it). Said on stderr above and in the title; under CI=true the branch above fails instead.
    describe.skip(`${title} [SKIPPED: ${skipReason}]`, () => {
      it.todo(`runs against ${name} once ${envVar} is set`);
    });
  }
}
