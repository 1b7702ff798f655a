import { afterAll, expect, it } from 'vitest';
import { adminQuery, describeWithPostgres, freshSchema } from '../helpers/postgres.js';
import { killAllServers, startServer } from '../helpers/process.js';
import {
  deliveredOncePerAddress,
  eventually,
  outboxEnv,
  sendLogins,
  switchableReceiver,
} from './outbox-delivery.js';

afterAll(async () => {
  await killAllServers();
});

describeWithPostgres('OTP outbox, two instances on one PostgreSQL database', (url) => {
  it('100 sends over both with the webhook down, one instance SIGKILLed, webhook up: every message delivered exactly once', {
    timeout: 240_000,
  }, async () => {
    const schema = await freshSchema(url, 'sfa_outbox');
    const receiver = await switchableReceiver();
    try {
      const env = outboxEnv(schema.url, receiver.url);
      const a = await startServer(env, 'a');
      const b = await startServer(env, 'b');
      await sendLogins([a.url, b.url], 100);
      await eventually(() => receiver.refused() > 0, 'the workers tried the receiver while it was down');
      a.child.kill('SIGKILL');
      const pending = async () =>
        Number(
          (
            await adminQuery<{ n: string }>(
              url,
              `SELECT count(*) AS n FROM ${schema.schema}.outbox WHERE done_at IS NULL`,
            )
          )[0]!.n,
        );
      expect(await pending()).toBe(100);
      receiver.setUp(true);
      // b delivers its own and a's, the ones a held in flight once their lease ends; a restarted joins in.
      const a2 = await startServer(env, 'a-restarted');
      await eventually(async () => (await pending()) === 0, 'every queued message done');
      expect(deliveredOncePerAddress(receiver.accepted, 100)).toBe(true);
      await b.stop();
      await a2.stop();
    } finally {
      await receiver.close();
      await schema.drop();
    }
  });
});
