import cors from '@fastify/cors';
import Fastify, { type FastifyInstance } from 'fastify';
import type { DestinationStream } from 'pino';
import { systemClock } from './clock.js';
import { type ComposeOptions, compose } from './compose.js';
import { AppError } from './errors/codes.js';
import { AddressModel } from './http/client-address.js';
import { errorHandler, notFoundHandler } from './http/errors.js';
import { RequestLogController } from './http/logging.js';
import { discardBody } from './http/oversize.js';
import { registerPublicUrl } from './http/public-url.js';
import { registerRoutes } from './routes/index.js';
import { randomId } from './util/ids.js';

export interface AppOptions extends ComposeOptions {
  /** Where logs go (default stdout). Tests pass a stream to read them. */
  logStream?: DestinationStream;
}

function requestIds(): () => string {
  const prefix = randomId(6);
  let n = 0;
  return () => `${prefix}-${(++n).toString(36)}`;
}

/** Request bodies are a token or a few form fields: anything larger is refused early. */
const BODY_LIMIT = 16 * 1024;

/** Builds the HTTP app: route -> session service -> database. Does not listen. */
export async function buildApp(options: AppOptions): Promise<FastifyInstance> {
  const { config } = options;
  const addresses = new AddressModel(config.trustProxy, config.trustedFrontends);
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
    // Slow clients must not hold sockets: a request (headers and body) has REQUEST_TIMEOUT, its
    // headers HEADERS_TIMEOUT, checked every CONNECTIONS_CHECK_INTERVAL; idle keep-alive sockets
    // close after KEEP_ALIVE_TIMEOUT, which outlasts the load balancer's idle timeout so that the
    // balancer never sends on a socket this server is closing.
    requestTimeout: config.requestTimeout,
    keepAliveTimeout: config.keepAliveTimeout,
    http: {
      headersTimeout:
        config.requestTimeout > 0
          ? Math.min(config.headersTimeout, config.requestTimeout)
          : config.headersTimeout,
      connectionsCheckingInterval: config.connectionsCheckInterval,
    },
    // A malformed URL (bad percent-encoding) gets the envelope like every other failure.
    frameworkErrors: (error, request, reply) => errorHandler(error, request, reply),
    // request.ip (what the logs show) follows the same trust model as the per-address limits.
    trustProxy: (address: string, hop: number) => addresses.trusts(address, hop),
    routerOptions: { ignoreDuplicateSlashes: true, ignoreTrailingSlash: true },
    // Validation must not coerce: `{"refresh_token": 123}` is a bad request, not the string "123".
    ajv: { customOptions: { coerceTypes: false, removeAdditional: false, allErrors: false } },
  });

  // Past MAX_CONNECTIONS new sockets are closed on arrival, before they can cost a file descriptor's
  // worth of state each; sockets already open keep working.
  if (config.maxConnections > 0) app.server.maxConnections = config.maxConnections;
  const { services, close } = compose({ ...options, addresses }, app.log);
  app.addHook('onClose', close);

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
      'dpop',
    ],
    exposedHeaders: [
      'x-request-id',
      'retry-after',
      'x-refresh-grace-seconds',
      'dpop-nonce',
      'www-authenticate',
      'date',
    ],
    maxAge: 600,
  });
  app.removeContentTypeParser('text/plain');
  app.setErrorHandler(errorHandler);
  app.setNotFoundHandler(notFoundHandler);

  const clock = options.clock ?? systemClock;
  const httpDate = dateFormatter();
  // Callback hooks rather than async ones: they run on every request, and an async hook costs a
  // promise and a trip through the microtask queue each time for work that is synchronous.
  app.addHook('onRequest', (request, reply, done) => {
    reply.header('x-request-id', request.id);
    // Date by the clock that checks DPoP proofs' iat: clients correct their skew from it (RFC 9449 §11.1).
    reply.header('date', httpDate(clock.now()));
    if (!services.isReady() && request.url !== '/healthz' && request.url !== '/readyz') {
      done(
        new AppError('SERVICE_UNAVAILABLE', 'Starting up; retry shortly.', {
          headers: { 'retry-after': '1' },
        }),
      );
      return;
    }
    done();
  });
  app.addHook('onSend', (request, reply, payload, done) => {
    if (reply.statusCode !== 413) {
      done(null, payload);
      return;
    }
    reply.header('connection', 'close');
    discardBody(request.raw, config.oversizeDiscardLimit).then(() => done(null, payload), done);
  });
  app.addHook('onResponse', (request, reply, done) => {
    // Route patterns, not URLs, so the series stay few whatever clients send.
    services.metrics.observeRequest(
      request.routeOptions.url ?? 'unmatched',
      request.method,
      reply.statusCode,
      reply.elapsedTime / 1000,
    );
    done();
  });
  registerPublicUrl(app, config.publicUrl);
  await registerRoutes(app, services);
  return app;
}

/**
 * The Date header's text (RFC 9110 §5.6.7) for a time, formatted once per second rather than on
 * every answer (about 0.3 us each here).
 */
function dateFormatter(): (ms: number) => string {
  let second = Number.NaN;
  let text = '';
  return (ms) => {
    const s = Math.floor(ms / 1000);
    if (s !== second) {
      second = s;
      text = new Date(s * 1000).toUTCString();
    }
    return text;
  };
}
