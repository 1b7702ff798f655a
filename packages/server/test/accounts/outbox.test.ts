import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, describe, expect, it } from 'vitest';
import { killAllServers, startServer } from '../helpers/process.js';
import {
  deliveredOncePerAddress,
  eventually,
  outboxEnv,
  sendLogins,
  switchableReceiver,
} from './outbox-delivery.js';

const dirs: string[] = [];
afterAll(async () => {
  await killAllServers();
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

describe('OTP outbox on a SQLite file, real processes', () => {
  it('100 sends with the webhook down, SIGKILL, restart, webhook up: every message delivered exactly once', {
    timeout: 240_000,
  }, async () => {
    const dir = mkdtempSync(join(tmpdir(), 'sfa-outbox-'));
    dirs.push(dir);
    const receiver = await switchableReceiver();
    try {
      const env = outboxEnv(`sqlite:${join(dir, 'auth.db')}`, receiver.url);
      const first = await startServer(env, 'first');
      // Each request answers at once, though the receiver is down.
      await sendLogins([first.url], 100);
      await eventually(() => receiver.refused() > 0, 'the worker tried the receiver while it was down');
      first.child.kill('SIGKILL');
      await new Promise((r) =>
        first.child.exitCode !== null || first.child.signalCode ? r(null) : first.child.once('exit', r),
      );
      const file = new Database(join(dir, 'auth.db'), { readonly: true });
      const queued = file.prepare('SELECT count(*) AS n FROM outbox WHERE done_at IS NULL');
      expect((queued.get() as { n: number }).n).toBe(100);
      expect(receiver.accepted).toHaveLength(0);

      receiver.setUp(true);
      const second = await startServer(env, 'second');
      await eventually(() => (queued.get() as { n: number }).n === 0, 'every queued message done');
      expect(deliveredOncePerAddress(receiver.accepted, 100)).toBe(true);
      const outcomes = file.prepare('SELECT outcome, count(*) AS n FROM outbox GROUP BY outcome').all();
      expect(outcomes).toEqual([{ outcome: 'delivered', n: 100 }]);
      // Delivered rows no longer hold the codes.
      expect(file.prepare("SELECT count(*) AS n FROM outbox WHERE payload <> '{}'").get()).toEqual({ n: 0 });
      const metrics = await (await fetch(`${second.url}/metrics`)).text();
      expect(metrics).toContain('storefront_auth_otp_deliveries_total{outcome="delivered"} 100');
      file.close();
      await second.stop();
    } finally {
      await receiver.close();
    }
  });
});
