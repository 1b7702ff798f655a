import cors from '@fastify/cors';
import Fastify, { type FastifyInstance } from 'fastify';
import type { DestinationStream } from 'pino';
import { type Clock, systemClock } from '../clock.js';
import type { Config } from '../config.js';
import { AppError } from '../errors/codes.js';
import { securityEventSink } from '../events/security.js';
import type { RateLimiter } from '../ratelimit/contract.js';
import { MemoryRateLimiter } from '../ratelimit/memory.js';
import { RedisRateLimiter } from '../ratelimit/redis.js';
import { registerAnonymous } from '../routes/auth/anonymous.js';
import { registerCustomerRoutes } from '../routes/auth/customers.js';
import { registerRefreshToken } from '../routes/auth/refresh-token.js';
import { registerRevokeAndIntrospect } from '../routes/auth/revoke.js';
import { registerHealthAndDocs } from '../routes/health.js';
import type { SessionContext } from '../sessions/context.js';
import type { SessionStore } from '../storage/contract.js';
import type { OperatorStore } from '../storage/operator.js';
import { StoreDirectory } from '../stores/directory.js';
import { keyWrapFor } from '../tokens/key-wrap.js';
import { randomId } from '../util/ids.js';
import type { WebhookOptions } from '../util/webhook.js';
import { errorHandler, notFoundHandler } from './errors.js';
import { RequestLogController } from './logging.js';
import { Metrics } from './metrics.js';
import type { Services } from './services.js';

export interface AppOptions {
  config: Config;
  store: SessionStore;
  clock?: Clock;
  /** Where logs go (default stdout). Tests pass a stream to read them. */
  logStream?: DestinationStream;
  /** Readiness probe; defaults to always ready (the caller migrated before building). */
  isReady?: () => boolean;
  /** Operator side of the store (active-sessions metric); `operatorFor(store)` in main. */
  operator?: OperatorStore;
}

function securityWebhook(config: Config): WebhookOptions | undefined {
  if (!config.securityWebhookUrl || !config.securityWebhookSecret) return undefined;
  return { url: config.securityWebhookUrl, secret: config.securityWebhookSecret };
}

function requestIds(): () => string {
  const prefix = randomId(6);
  let n = 0;
  return () => `${prefix}-${(++n).toString(36)}`;
}

/** Request bodies are a token or a few form fields: anything larger is refused early. */
const BODY_LIMIT = 16 * 1024;

/** Builds the HTTP app: route -> session service -> store. Does not listen. */
export async function buildApp(options: AppOptions): Promise<FastifyInstance> {
  const { config, store } = options;
  const clock = options.clock ?? systemClock;
  const app = Fastify({
    logger: {
      level: config.logLevel,
      // Defence in depth: no serializer here prints headers, but if one ever does, these stay out.
      redact: {
        paths: ['req.headers.authorization', 'req.headers["x-api-key"]', 'req.headers.cookie', 'req.body'],
        censor: '[redacted]',
      },
      ...(options.logStream ? { stream: options.logStream } : {}),
    },
    logController: new RequestLogController(),
    requestIdHeader: 'x-request-id',
    // Unique per process and cheap (a counter after a random prefix): a request id needs to be
    // unique, not secret, and crypto.randomBytes per request cost more than the id is worth.
    genReqId: requestIds(),
    bodyLimit: BODY_LIMIT,
    // A malformed URL (bad percent-encoding) gets the envelope like every other failure.
    frameworkErrors: (error, request, reply) => errorHandler(error, request, reply),
    trustProxy: config.trustProxy,
    routerOptions: { ignoreDuplicateSlashes: true, ignoreTrailingSlash: true },
    // Validation must not coerce: `{"refresh_token": 123}` is a bad request, not the string "123".
    ajv: { customOptions: { coerceTypes: false, removeAdditional: false, allErrors: false } },
  });

  const metrics = new Metrics(store, options.operator, clock);
  const rateLimiter = rateLimiterFor(config, clock, app);
  const sessions: SessionContext = {
    store,
    clock,
    policy: {
      accessTokenTtl: config.accessTokenTtl,
      refreshTokenTtl: config.refreshTokenTtl,
      sessionMaxAge: config.sessionMaxAge,
      refreshReuseGrace: config.refreshReuseGrace,
      refreshRateLimit: config.refreshRateLimit,
    },
    rateLimiter,
    onSecurityEvent: securityEventSink(
      app.log,
      securityWebhook(config),
      (event) => {
        if (event.type === 'refresh_token_reused') metrics.reuseDetections.inc({ store: event.storeId });
      },
      () => metrics.webhookFailures.inc({ webhook: 'security' }),
    ),
  };
  const services: Services = {
    config,
    sessions,
    directory: new StoreDirectory(store, clock, config.issuer, {
      wrap: keyWrapFor(config),
      reloadMs: config.keyReloadInterval * 1000,
    }),
    rateLimiter,
    isReady: options.isReady ?? (() => true),
    metrics,
    ...(options.operator ? { operator: options.operator } : {}),
  };

  await app.register(cors, {
    origin: config.corsOrigins === '*' ? '*' : config.corsOrigins,
    methods: ['GET', 'POST', 'PUT', 'DELETE'],
    allowedHeaders: [
      'content-type',
      'authorization',
      'x-api-key',
      'x-debug-mode',
      'x-customer-group-id',
      'x-request-id',
    ],
    exposedHeaders: ['x-request-id', 'retry-after'],
    maxAge: 600,
  });
  app.removeContentTypeParser('text/plain');
  app.setErrorHandler(errorHandler);
  app.setNotFoundHandler(notFoundHandler);

  app.addHook('onRequest', async (request, reply) => {
    reply.header('x-request-id', request.id);
    if (!services.isReady() && request.url !== '/healthz' && request.url !== '/readyz') {
      throw new AppError('SERVICE_UNAVAILABLE', 'Starting up; retry shortly.', {
        headers: { 'retry-after': '1' },
      });
    }
  });
  app.addHook('onResponse', async (request, reply) => {
    // Route patterns, not URLs, so the series stay few whatever clients send.
    metrics.observeRequest(
      request.routeOptions.url ?? 'unmatched',
      request.method,
      reply.statusCode,
      reply.elapsedTime / 1000,
    );
  });
  registerHealthAndDocs(app, services);
  registerRefreshToken(app, services);
  await registerAnonymous(app, services);
  await registerCustomerRoutes(app, services);
  await registerRevokeAndIntrospect(app, services);
  return app;
}

/**
 * In-process counters for one instance; with REDIS_URL, counters in Redis shared by every instance
 * (the in-process ones stand in while Redis is unreachable).
 */
function rateLimiterFor(config: Config, clock: Clock, app: FastifyInstance): RateLimiter {
  const memory = new MemoryRateLimiter(clock);
  if (!config.redisUrl) return memory;
  const redis = new RedisRateLimiter({
    url: config.redisUrl,
    fallback: memory,
    onStateChange: (state) =>
      state === 'down'
        ? app.log.warn('rate limits: Redis unreachable, counting in this process until it is back')
        : app.log.info('rate limits: Redis reachable again'),
  });
  app.addHook('onClose', () => redis.close());
  return redis;
}
