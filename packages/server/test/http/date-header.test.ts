import { afterEach, describe, expect, it } from 'vitest';
import { makeTestApp, type TestApp } from '../helpers/app.js';

let t: TestApp | undefined;
afterEach(async () => {
  await t?.close();
  t = undefined;
});

// Clients correct their DPoP proofs' iat from the Date header (RFC 9449 §11.1), so it must be the
// time of the clock that checks them, whatever the process's own clock says.
describe('the Date header', () => {
  it("follows the server's clock to the second, within a second and across one", async () => {
    t = await makeTestApp();
    const date = async () => (await t!.app.inject({ method: 'GET', url: '/healthz' })).headers['date'];
    t.clock.ms = Date.UTC(2031, 4, 6, 7, 8, 9, 100);
    expect(await date()).toBe('Tue, 06 May 2031 07:08:09 GMT');
    t.clock.ms += 899;
    expect(await date()).toBe('Tue, 06 May 2031 07:08:09 GMT');
    t.clock.ms += 1;
    expect(await date()).toBe('Tue, 06 May 2031 07:08:10 GMT');
    t.clock.advance(-3600);
    expect(await date()).toBe('Tue, 06 May 2031 06:08:10 GMT');
  });
});
