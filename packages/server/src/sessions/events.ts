import type { SecurityEvent } from '../model.js';
import type { SessionContext } from './context.js';

/** Stores a security event, then hands it to the context's listener (log line, webhook, metrics). */
export async function emitSecurityEvent(
  ctx: Pick<SessionContext, 'db' | 'onSecurityEvent'>,
  event: SecurityEvent,
): Promise<void> {
  await ctx.db.recordSecurityEvent(event);
  ctx.onSecurityEvent(event);
}
