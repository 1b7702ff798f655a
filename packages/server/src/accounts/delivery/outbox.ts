import type { Clock } from '../../clock.js';
import type { OtpAction, OutboxMessage, SecurityEvent } from '../../model.js';
import type { Database } from '../../storage/contract.js';
import type { OtpMessage, OtpSender } from './contract.js';

/** What the worker reports; none of it carries a code or an address. */
export interface OutboxEvents {
  delivered(message: OutboxMessage): void;
  /** One try failed; another follows at `retryAt`. */
  retrying(message: OutboxMessage, reason: string, retryAt: number): void;
  /** Given up: the message expired undelivered. */
  failed(message: OutboxMessage, reason: string): void;
}

export interface OutboxWorkerOptions {
  db: Database;
  sender: OtpSender;
  clock: Clock;
  events: OutboxEvents;
  /** Not before the database is migrated. */
  isReady?: () => boolean;
  /** How often the worker looks for due messages, ms (a send in this process also wakes it). @default 250 */
  pollMs?: number;
  /** Messages claimed at once. @default 20 */
  batch?: number;
  /** How long a claim is held before another instance may take the message over, ms. @default 30000 */
  leaseMs?: number;
  /** Longest wait between tries of one message, ms. @default 10000 */
  maxRetryMs?: number;
}

/** What the outbox holds for an OTP: everything its sender needs. */
export function otpOutboxPayload(
  message: Omit<OtpMessage, 'deliveryId' | 'storeId'>,
): Record<string, unknown> {
  return { ...message };
}

function otpMessageOf(m: OutboxMessage): OtpMessage {
  const p = m.payload as unknown as Omit<OtpMessage, 'deliveryId' | 'storeId'>;
  return {
    deliveryId: m.id,
    storeId: m.storeId,
    channel: p.channel,
    action: p.action as OtpAction,
    to: p.to,
    otp: p.otp,
    expiresAt: p.expiresAt,
  };
}

/**
 * Delivers the outbox, on every instance: claims due messages (the database makes sure no two
 * instances claim the same one), hands each to the sender, marks it delivered, or puts it back
 * with a doubling wait, until it expires. A request that queued a message never waits for it, so
 * its answer and its timing are the same whether anything was sent (no account enumeration) and
 * whether the receiver is up. A message claimed by an instance that dies is taken over when its
 * lease ends: delivery is at least once, and receivers dedupe on the delivery id.
 */
export class OutboxWorker {
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;
  private again = false;
  private stopped = false;
  private readonly pollMs: number;
  private readonly batch: number;
  private readonly leaseMs: number;
  private readonly maxRetryMs: number;

  constructor(private readonly options: OutboxWorkerOptions) {
    this.pollMs = options.pollMs ?? 250;
    this.batch = options.batch ?? 20;
    this.leaseMs = options.leaseMs ?? 30_000;
    this.maxRetryMs = options.maxRetryMs ?? 10_000;
  }

  start(): void {
    this.timer = setInterval(() => this.kick(), this.pollMs);
    this.timer.unref();
  }

  /** Looks for due messages now (after a send in this process), or right after the current pass. */
  kick(): void {
    if (this.stopped) return;
    if (this.running) {
      this.again = true;
      return;
    }
    this.running = this.pass().finally(() => {
      this.running = undefined;
      if (this.again) {
        this.again = false;
        this.kick();
      }
    });
  }

  /** Stops claiming; resolves once the pass in flight has settled what it claimed. */
  async stop(): Promise<void> {
    this.stopped = true;
    clearInterval(this.timer);
    await this.running;
  }

  /** Until nothing is due now; a failure of the database ends the pass (the next tick retries). */
  private async pass(): Promise<void> {
    const { db, clock, isReady } = this.options;
    if (isReady && !isReady()) return;
    try {
      for (;;) {
        const now = clock.now();
        const claimed = await db.claimOutbox(now, this.batch, now + this.leaseMs);
        await Promise.all(claimed.map((m) => this.deliver(m)));
        if (claimed.length < this.batch || this.stopped) return;
      }
    } catch {
      // The database is away: the messages stay queued and their leases run out; nothing is lost.
    }
  }

  private async deliver(message: OutboxMessage): Promise<void> {
    const { db, sender, clock, events } = this.options;
    try {
      await sender.send(otpMessageOf(message));
      await db.finishOutbox(message.id, 'delivered', clock.now());
      events.delivered(message);
    } catch (error) {
      const reason = error instanceof Error ? error.message : 'delivery failed';
      const now = clock.now();
      const retryAt = now + Math.min(1000 * 2 ** Math.max(0, message.attempts - 1), this.maxRetryMs);
      if (retryAt >= message.expiresAt) {
        await db.finishOutbox(message.id, 'failed', now);
        events.failed(message, reason);
      } else {
        await db.retryOutbox(message.id, retryAt);
        events.retrying(message, reason, retryAt);
      }
    }
  }
}

/** The security event of a message given up: the storefront learns of it without the customer being told. */
export function deliveryFailedEvent(message: OutboxMessage, reason: string, now: number): SecurityEvent {
  return {
    storeId: message.storeId,
    type: 'otp_delivery_failed',
    sessionId: null,
    userId: null,
    detail: { delivery_id: message.id, attempts: message.attempts, reason },
    createdAt: now,
  };
}
