import type { SessionRecord } from '../model.js';

/** Neither revoked nor past its idle or absolute lifetime at `now`: the only sessions that may hand anything on. */
export function isLive(session: SessionRecord, now: number): boolean {
  return session.revokedAt === null && session.idleExpiresAt > now && session.absoluteExpiresAt > now;
}
