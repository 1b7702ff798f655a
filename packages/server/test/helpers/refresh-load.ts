import type { FastifyInstance } from 'fastify';
import { expect } from 'vitest';
import { anonymous, refresh } from './app.js';
import { adminQuery } from './postgres.js';

const claims = (token: string) => JSON.parse(Buffer.from(token.split('.')[1]!, 'base64url').toString());
export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export interface RefreshLoad {
  /** Anything but a 200 or a 503 SERVICE_UNAVAILABLE with Retry-After: 1, and any forked pair. */
  unexpected: string[];
  /** How many 503 SERVICE_UNAVAILABLE answers the clients met. */
  unavailable: number;
  /** How many refreshes succeeded once `chaos` had set the phase 'back'. */
  servedAfter: number;
  /** Each client's last refresh token. */
  finals: string[];
}

/**
 * `clients` anonymous sessions each refreshing in a loop for at least `ms` while `chaos` runs
 * alongside and names the phase (for the messages; 'back' counts the refreshes served after the
 * outage). A 503 SERVICE_UNAVAILABLE with Retry-After is retried with the same token after 20 ms
 * (what Retry-After asks, shortened). However slowly the machine runs the chaos, each client goes
 * on until the chaos is over and one of its refreshes was served after it, giving up only after
 * `AFTER_CHAOS_TRIES` answers without one.
 */
/** Answers after the chaos a client waits for a 200 before it stops (the assertions then fail). */
const AFTER_CHAOS_TRIES = 1000;

export async function refreshUnderChaos(
  app: FastifyInstance,
  ms: number,
  chaos: (setPhase: (phase: string) => void) => Promise<void>,
  clients = 12,
): Promise<RefreshLoad> {
  const tokens: string[] = [];
  for (let i = 0; i < clients; i++) tokens.push((await anonymous(app)).body.content.refresh_token);

  const issued = new Map<string, string>();
  const unexpected: string[] = [];
  let unavailable = 0;
  let servedAfter = 0;
  let phase = 'before';
  let chaosOver = false;
  const deadline = Date.now() + ms;

  const client = async (start: string) => {
    let token = start;
    let servedBack = false;
    let triesAfter = 0;
    while (!(chaosOver && Date.now() >= deadline && (servedBack || triesAfter >= AFTER_CHAOS_TRIES))) {
      if (chaosOver) triesAfter++;
      const res = await refresh(app, token);
      if (res.status === 200) {
        const next = res.body.content.refresh_token as string;
        const { sid, gen } = claims(next);
        const seen = issued.get(`${sid}/${gen}`);
        if (seen && seen !== next) unexpected.push(`fork at ${sid}/${gen}`);
        issued.set(`${sid}/${gen}`, next);
        token = next;
        if (phase === 'back') {
          servedAfter++;
          servedBack = true;
        }
      } else if (
        res.status === 503 &&
        res.body.code === 'SERVICE_UNAVAILABLE' &&
        res.headers['retry-after'] === '1'
      ) {
        unavailable++;
        await sleep(20);
      } else {
        unexpected.push(`${phase}: ${res.status} ${res.body.code}`);
      }
    }
    return token;
  };

  const chaosDone = chaos((next) => {
    phase = next;
  }).finally(() => {
    chaosOver = true;
  });
  const finals = await Promise.all(tokens.map((token) => client(token)));
  await chaosDone;
  return { unexpected, unavailable, servedAfter, finals };
}

/** Each final token refreshes once more, and its session row in `dbUrl` stands one generation on, unrevoked. */
export async function expectEachRefreshesOnce(app: FastifyInstance, dbUrl: string, finals: string[]) {
  for (const token of finals) {
    expect((await refresh(app, token)).status).toBe(200);
    const [row] = await adminQuery<{ generation: number; revoked_at: number | null }>(
      dbUrl,
      'SELECT generation, revoked_at FROM sessions WHERE id = $1',
      [claims(token).sid],
    );
    expect(row).toEqual({ generation: claims(token).gen + 1, revoked_at: null });
  }
}
