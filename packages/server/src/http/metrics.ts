import client from 'prom-client';
import type { OtpSender } from '../accounts/delivery/contract.js';
import type { Clock } from '../clock.js';
import { AppError } from '../errors/codes.js';
import type { Database } from '../storage/contract.js';
import type { OperatorStore } from '../storage/operator.js';

/** How long the active-sessions count is reused between scrapes: it is a COUNT over sessions. */
const ACTIVE_SESSIONS_CACHE_MS = 30_000;

/**
 * The Prometheus metrics of one app, in a registry of its own (tests build many apps in one
 * process). Scraped at GET /metrics.
 */
export class Metrics {
  readonly registry = new client.Registry();

  /** Every refresh, by outcome: `rotated`, `replayed` (grace window), or the error code. */
  readonly refreshes = new client.Counter({
    name: 'storefront_auth_refresh_total',
    help: 'POST /auth/refresh-token answers, by outcome (rotated, replayed, or the error code)',
    labelNames: ['outcome'] as const,
    registers: [this.registry],
  });

  readonly reuseDetections = new client.Counter({
    name: 'storefront_auth_reuse_detected_total',
    help: 'Refresh-token reuse detections (each revoked a session), by store',
    labelNames: ['store'] as const,
    registers: [this.registry],
  });

  /** OTP deliveries from the outbox, by outcome: `delivered`, `retrying` (one try failed), `failed` (given up). */
  readonly otpDeliveries = new client.Counter({
    name: 'storefront_auth_otp_deliveries_total',
    help: 'OTP delivery tries from the outbox, by outcome (delivered, retrying, failed)',
    labelNames: ['outcome'] as const,
    registers: [this.registry],
  });

  /** Password and OTP logins, by method and outcome (`success` or the error code). */
  readonly logins = new client.Counter({
    name: 'storefront_auth_login_total',
    help: 'Logins, by method (password, otp) and outcome (success or the error code)',
    labelNames: ['method', 'outcome'] as const,
    registers: [this.registry],
  });

  readonly otpSends = new client.Counter({
    name: 'storefront_auth_otp_sent_total',
    help: 'One-time passwords handed to the sender, by channel, action and outcome (sent, failed)',
    labelNames: ['channel', 'action', 'outcome'] as const,
    registers: [this.registry],
  });

  readonly otpVerifications = new client.Counter({
    name: 'storefront_auth_otp_verification_total',
    help: 'POST /auth/verify-otp answers, by action and outcome (verified or the error code)',
    labelNames: ['action', 'outcome'] as const,
    registers: [this.registry],
  });

  readonly webhookFailures = new client.Counter({
    name: 'storefront_auth_webhook_delivery_failures_total',
    help: 'Webhook deliveries that failed after their retries, by webhook (otp, security)',
    labelNames: ['webhook'] as const,
    registers: [this.registry],
  });

  /** The sender, counting what it sends and what it fails to (a webhook's failure counted as such). */
  countSends(sender: OtpSender): OtpSender {
    return {
      name: sender.name,
      send: async (message) => {
        const labels = { channel: message.channel, action: message.action };
        try {
          await sender.send(message);
        } catch (error) {
          this.otpSends.inc({ ...labels, outcome: 'failed' });
          if (sender.name === 'webhook') this.webhookFailures.inc({ webhook: 'otp' });
          throw error;
        }
        this.otpSends.inc({ ...labels, outcome: 'sent' });
      },
    };
  }

  readonly requestDuration = new client.Histogram({
    name: 'storefront_auth_http_request_duration_seconds',
    help: 'HTTP request latency, by route pattern, method and status',
    labelNames: ['route', 'method', 'status'] as const,
    buckets: [0.0005, 0.001, 0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
    registers: [this.registry],
  });

  /** Per-series children of requestDuration, so the hot path skips prom-client's label hashing. */
  private readonly durationSeries = new Map<
    string,
    client.Histogram.Internal<'route' | 'method' | 'status'>
  >();

  /** Records one request's latency (seconds) under its route pattern, method and status. */
  observeRequest(route: string, method: string, status: number, seconds: number): void {
    const key = `${method} ${status} ${route}`;
    let series = this.durationSeries.get(key);
    if (!series) {
      series = this.requestDuration.labels(route, method, String(status));
      this.durationSeries.set(key, series);
    }
    series.observe(seconds);
  }

  /** Runs `work`, counting its outcome: `success` (or `successLabel`), else the error's code. */
  async countOutcome<T, L extends string>(
    counter: client.Counter<L | 'outcome'>,
    labels: Record<L, string>,
    work: () => Promise<T>,
    successLabel = 'success',
  ): Promise<T> {
    try {
      const result = await work();
      counter.inc({ ...labels, outcome: successLabel } as Record<L | 'outcome', string>);
      return result;
    } catch (error) {
      const outcome = error instanceof AppError ? error.code : 'INTERNAL_ERROR';
      counter.inc({ ...labels, outcome } as Record<L | 'outcome', string>);
      throw error;
    }
  }

  constructor(db: Database, operator: OperatorStore | undefined, clock: Clock) {
    client.collectDefaultMetrics({ register: this.registry, prefix: 'storefront_auth_' });
    let cached: { value: number; at: number } | undefined;
    if (operator) {
      new client.Gauge({
        name: 'storefront_auth_active_sessions',
        help: `Live, unexpired sessions (counted at most every ${ACTIVE_SESSIONS_CACHE_MS / 1000} s)`,
        registers: [this.registry],
        async collect() {
          const now = clock.now();
          if (!cached || now - cached.at > ACTIVE_SESSIONS_CACHE_MS) {
            cached = { value: await operator.countActiveSessions(now).catch(() => Number.NaN), at: now };
          }
          this.set(cached.value);
        },
      });
    }
    const poolStats = db.poolStats?.bind(db);
    if (poolStats) {
      new client.Gauge({
        name: 'storefront_auth_db_pool_connections',
        help: 'PostgreSQL pool connections, by state (total, idle, waiting requests)',
        labelNames: ['state'] as const,
        registers: [this.registry],
        collect() {
          const pool = poolStats();
          this.set({ state: 'total' }, pool.total);
          this.set({ state: 'idle' }, pool.idle);
          this.set({ state: 'waiting' }, pool.waiting);
        },
      });
    }
  }
}
