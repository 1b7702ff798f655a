import fc from 'fast-check';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { createStorefrontSDK, memoryStorage } from '../src/index.js';
import { API_KEY, type Fault, type Stack, serverAccepts, startStack } from './helpers/stack.js';

let stack: Stack;
beforeAll(async () => {
  stack = await startStack();
});
afterAll(() => stack.close());

const faultArb = fc.constantFrom<Fault>(
  { kind: 'drop-after' },
  { kind: 'drop-before' },
  { kind: 'status', status: 503, code: 'SERVICE_UNAVAILABLE' },
  { kind: 'status', status: 429, code: 'RATE_LIMITED', retryAfter: '1' },
);

it('any number of instances and concurrent calls, with lost answers and outages: one rotation, nobody logged out', async () => {
  await fc.assert(
    fc.asyncProperty(
      fc.array(fc.integer({ min: 1, max: 10 }), { minLength: 1, maxLength: 4 }),
      fc.array(faultArb, { maxLength: 3 }),
      async (callsPerInstance, faults) => {
        const storage = memoryStorage();
        const ended: string[] = [];
        const instances = callsPerInstance.map(() =>
          createStorefrontSDK({
            baseUrl: stack.baseUrl,
            apiKey: API_KEY,
            tokenStorage: storage,
            now: stack.t.clock.now,
            sleep: async () => {},
            onSessionEnded: (reason) => {
              ended.push(reason);
            },
          }),
        );
        await instances[0]!.session.ensureAccessToken();
        stack.t.clock.advance(50);
        const seen = stack.seen.refresh;
        const reached = stack.reached.refresh;
        stack.fault('refresh', ...faults);

        const tokens = await Promise.all(
          instances.flatMap((sdk, i) =>
            Array.from({ length: callsPerInstance[i]! }, () => sdk.session.ensureAccessToken()),
          ),
        );

        expect(ended).toEqual([]);
        const final = (await storage.getTokens())!;
        // Every call got the one new access token: nobody kept using, or made, another branch.
        expect(new Set(tokens)).toEqual(new Set([final.access_token]));
        // One rotation; only the faults themselves add attempts, and only lost answers reach the server.
        expect(stack.seen.refresh - seen).toBe(1 + faults.length);
        expect(stack.reached.refresh - reached).toBe(
          1 + faults.filter((f) => f.kind === 'drop-after').length,
        );
        expect(await serverAccepts(stack, final.refresh_token)).toBe(200);
      },
    ),
    { numRuns: 25 },
  );
});
