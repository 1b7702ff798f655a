import { expect, it } from 'vitest';
import type { CustomerContext } from '../../src/accounts/context.js';
import { limitOtpSend } from '../../src/accounts/otp.js';
import { limitValuesOf, loadConfig } from '../../src/config.js';
import { MemoryRateLimiter } from '../../src/ratelimit/memory.js';
import type { Tenant } from '../../src/tenants/directory.js';
import { ManualClock } from '../helpers/app.js';

it('regression: made-up emails from one refused client charge no per-identifier key (the address is checked first)', async () => {
  const limiter = new MemoryRateLimiter(new ManualClock());
  const ctx = { rateLimiter: limiter } as unknown as CustomerContext;
  const tenant = { record: { id: 'demo' }, limits: limitValuesOf(loadConfig({})) } as unknown as Tenant;
  const client = {
    caller: { kind: 'address', address: '192.0.2.1' } as const,
    debug: false,
    bearer: undefined,
  };
  const refused: string[] = [];
  for (let i = 0; i < 5_000; i++) {
    await limitOtpSend(ctx, tenant, { email: `made-up-${i}@example.com` }, client).catch((e) =>
      refused.push(e.code),
    );
  }
  expect(refused).toHaveLength(5_000 - 20);
  expect(new Set(refused)).toEqual(new Set(['RATE_LIMITED']));
  // One window for the address, one per email it was allowed to ask for: not one per email tried.
  expect(limiter.size).toBe(1 + 20);
});
