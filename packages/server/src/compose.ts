import type { FastifyBaseLogger } from 'fastify';
import type { CustomerContext } from './accounts/context.js';
import type { OtpSender } from './accounts/delivery/contract.js';
import { logSender } from './accounts/delivery/log.js';
import { deliveryFailedEvent, OutboxWorker } from './accounts/delivery/outbox.js';
import { webhookSender } from './accounts/delivery/webhook.js';
import { argon2Hasher, type PasswordHasher } from './accounts/passwords.js';
import { type Clock, systemClock } from './clock.js';
import { type Config, limitValuesOf } from './config.js';
import { securityEventSink } from './events/security.js';
import { AddressModel } from './http/client-address.js';
import { Metrics } from './http/metrics.js';
import type { Services } from './http/services.js';
import type { RateLimiter } from './ratelimit/contract.js';
import { MemoryRateLimiter } from './ratelimit/memory.js';
import { RedisRateLimiter } from './ratelimit/redis.js';
import type { SessionContext } from './sessions/context.js';
import { emitSecurityEvent } from './sessions/events.js';
import type { Database } from './storage/contract.js';
import type { OperatorStore } from './storage/operator.js';
import { TenantDirectory } from './tenants/directory.js';
import { databaseReplayStore, redisReplayStore } from './tokens/dpop-replay.js';
import { keyWrapFor } from './tokens/key-wrap.js';
import type { WebhookOptions } from './util/webhook.js';

/** What the contexts are built from: the validated config, the database, and what tests replace. */
export interface ComposeOptions {
  config: Config;
  db: Database;
  clock?: Clock;
  /** Readiness probe; defaults to always ready (the caller migrated before building). */
  isReady?: () => boolean;
  /** True once shutdown has begun: /readyz fails so balancers take the instance out of rotation. */
  isDraining?: () => boolean;
  /** Operator side of the database (active-sessions metric); `db.operator()` in main. */
  operator?: OperatorStore;
  /** Replaces argon2 (tests that count hashing). */
  hasher?: PasswordHasher;
  /** Replaces the OTP sender the config chooses. */
  sender?: OtpSender;
  /** The trust model, when the caller built it already (the app does, for Fastify's request.ip). */
  addresses?: AddressModel;
}

export interface Composition {
  services: Services;
  /** Releases what the contexts hold open (the Redis connection). */
  close(): Promise<void>;
}

/** Builds every context the routes are handed, from the validated config; reads no environment. */
export function compose(options: ComposeOptions, log: FastifyBaseLogger): Composition {
  const { config, db } = options;
  const clock = options.clock ?? systemClock;
  const metrics = new Metrics(db, options.operator, clock);
  const limiter = rateLimiterFor(config, clock, log);
  const sessions: SessionContext = {
    db,
    clock,
    policy: {
      accessTokenTtl: config.accessTokenTtl,
      refreshTokenTtl: config.refreshTokenTtl,
      sessionMaxAge: config.sessionMaxAge,
      refreshReuseGrace: config.refreshReuseGrace,
      maxSessionsPerUser: config.maxSessionsPerUser,
    },
    rateLimiter: limiter.rateLimiter,
    onSecurityEvent: securityEventSink(
      log,
      securityWebhook(config),
      (event) => {
        if (event.type === 'refresh_token_reused') metrics.reuseDetections.inc({ store: event.storeId });
      },
      () => metrics.webhookFailures.inc({ webhook: 'security' }),
    ),
  };
  const customers = customerContext(options, sessions, limiter.rateLimiter, metrics, log);
  const outbox = outboxWorker(options, customers, metrics, log);
  customers.outbox = outbox;
  outbox.start();
  return {
    services: {
      config,
      sessions,
      customers,
      directory: new TenantDirectory(db, clock, config.issuer, limitValuesOf(config), {
        wrap: keyWrapFor(config),
        reloadMs: config.keyReloadInterval * 1000,
      }),
      addresses: options.addresses ?? new AddressModel(config.trustProxy, config.trustedFrontends),
      rateLimiter: limiter.rateLimiter,
      isReady: options.isReady ?? (() => true),
      isDraining: options.isDraining ?? (() => false),
      metrics,
      dpopReplay:
        limiter.rateLimiter instanceof RedisRateLimiter
          ? redisReplayStore(limiter.rateLimiter.redis, databaseReplayStore(db), clock.now)
          : databaseReplayStore(db),
      ...(options.operator ? { operator: options.operator } : {}),
    },
    async close() {
      await outbox.stop();
      await limiter.close();
    },
  };
}

/** The outbox worker of this instance: every delivery outcome is a metric and a log line, a give-up also a security event. */
function outboxWorker(
  options: ComposeOptions,
  customers: CustomerContext,
  metrics: Metrics,
  log: FastifyBaseLogger,
): OutboxWorker {
  return new OutboxWorker({
    db: customers.db,
    sender: customers.sender,
    clock: customers.clock,
    ...(options.isReady ? { isReady: options.isReady } : {}),
    events: {
      delivered: () => metrics.otpDeliveries.inc({ outcome: 'delivered' }),
      retrying: (message, reason, retryAt) => {
        metrics.otpDeliveries.inc({ outcome: 'retrying' });
        log.warn(
          { otp_delivery: message.id, attempts: message.attempts, reason, retry_at: retryAt },
          'otp delivery failed; retrying',
        );
      },
      failed: (message, reason) => {
        metrics.otpDeliveries.inc({ outcome: 'failed' });
        log.error({ otp_delivery: message.id, attempts: message.attempts, reason }, 'otp delivery given up');
        emitSecurityEvent(customers, deliveryFailedEvent(message, reason, customers.clock.now())).catch(
          () => {},
        );
      },
    },
  });
}

function securityWebhook(config: Config): WebhookOptions | undefined {
  if (!config.securityWebhookUrl || !config.securityWebhookSecret) return undefined;
  return { url: config.securityWebhookUrl, secret: config.securityWebhookSecret };
}

function customerContext(
  options: ComposeOptions,
  sessions: SessionContext,
  rateLimiter: RateLimiter,
  metrics: Metrics,
  log: FastifyBaseLogger,
): CustomerContext {
  const { config } = options;
  const sender = metrics.countSends(
    options.sender ??
      (config.otpWebhookUrl && config.otpWebhookSecret
        ? webhookSender({ url: config.otpWebhookUrl, secret: config.otpWebhookSecret })
        : logSender((fields, message) => log.info(fields, message))),
  );
  if (sender.name === 'log' && config.nodeEnv === 'production') {
    log.warn('OTP_WEBHOOK_URL is not set: OTPs are not delivered to anyone (log sender)');
  }
  return {
    ...sessions,
    hasher: options.hasher ?? argon2Hasher,
    sender,
    rateLimiter,
    otpDebugStoreId: config.otpDebug ? config.storeId : null,
  };
}

/**
 * In-process counters for one instance; with REDIS_URL, counters in Redis shared by every instance
 * (the in-process ones stand in while Redis is unreachable).
 */
function rateLimiterFor(
  config: Config,
  clock: Clock,
  log: FastifyBaseLogger,
): { rateLimiter: RateLimiter; close(): Promise<void> } {
  const memory = new MemoryRateLimiter(clock, { maxKeys: config.rateLimitMaxKeys });
  if (!config.redisUrl) return { rateLimiter: memory, close: async () => {} };
  const redis = new RedisRateLimiter({
    url: config.redisUrl,
    fallback: memory,
    onStateChange: (state) =>
      state === 'down'
        ? log.warn('rate limits: Redis unreachable, counting in this process until it is back')
        : log.info('rate limits: Redis reachable again'),
  });
  return { rateLimiter: redis, close: () => redis.close() };
}
