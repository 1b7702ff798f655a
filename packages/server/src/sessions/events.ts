import type { SecurityEvent } from '../storage/contract.js';
import type { SessionContext } from './context.js';

/** Stores a security event, then hands it to the context's listener (log line, webhook, metrics). */
export async function emitSecurityEvent(
  ctx: Pick<SessionContext, 'store' | 'onSecurityEvent'>,
  event: SecurityEvent,
): Promise<void> {
  await ctx.store.recordSecurityEvent(event);
  ctx.onSecurityEvent(event);
}
