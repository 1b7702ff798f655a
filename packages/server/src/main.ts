import { buildApp } from './app.js';
import { systemClock } from './clock.js';
import { ConfigError, loadConfig } from './config.js';
import { drain } from './http/drain.js';
import { batchedStdout } from './http/log-destination.js';
import { purge } from './operations/purge.js';
import { checkSigningKeys } from './operations/rewrap-keys.js';
import { startUpWarnings } from './operations/start-up-warnings.js';
import { openDatabase } from './storage/open.js';
import { ensureStore, revokeEarlierEnvApiKeys } from './tenants/bootstrap.js';
import { KeyWrapError, keyWrapFor } from './tokens/key-wrap.js';

async function main(): Promise<void> {
  const config = loadConfig();
  const db = await openDatabase(config);
  let ready = false;
  let draining = false;
  const operator = db.operator();
  const log = batchedStdout();
  const app = await buildApp({
    config,
    db,
    operator,
    isReady: () => ready,
    isDraining: () => draining,
    logStream: log,
  });
  // Requests answer 503 while the database is away; this puts the cause in the log, every few seconds.
  db.onUnavailable = (failure) =>
    app.log.warn({ db_error: failure }, 'database unavailable: answering 503 with Retry-After');

  await db.migrate();
  const keyWrap = keyWrapFor(config);
  // Instances starting together on one PostgreSQL database race to create the store, its keys and
  // API key; the loser of an insert fails on a unique key, and a second pass finds them all there.
  const { created, generatedApiKey, apiKeyId } = await ensureStore(
    db,
    systemClock,
    config.storeId,
    config.apiKey,
    keyWrap,
  ).catch(() => ensureStore(db, systemClock, config.storeId, config.apiKey, keyWrap));
  if (config.apiKey && apiKeyId) {
    const replaced = await revokeEarlierEnvApiKeys(operator, config.storeId, apiKeyId, systemClock.now());
    if (replaced > 0)
      app.log.info(
        { revoked: replaced },
        'API_KEY changed: the key an earlier API_KEY made valid is revoked',
      );
  }
  const keyCheck = await checkSigningKeys(db, operator, keyWrap, systemClock.now());
  for (const warning of startUpWarnings(config, keyCheck)) app.log.warn(`WARNING: ${warning}`);
  if (generatedApiKey) {
    log.flushSync();
    // Shown once, on the terminal rather than in the structured log: the log never holds a key.
    // Before listening, so that whoever waits for "Server listening" or /readyz has it already.
    process.stdout.write(
      `\nCreated store "${config.storeId}". Its API key (shown once, stored only as a hash):\n\n  ${generatedApiKey}\n\n`,
    );
  }
  await app.listen({ port: config.port, host: config.host });
  ready = true;
  app.log.info({ store_id: config.storeId, created }, 'store ready');

  // Scheduled purge, so storage stays bounded when every visitor gets a session. Small batches
  // (operations/purge.ts) keep refreshes flowing while it runs; instances may overlap harmlessly.
  let purging = false;
  const purgeTimer =
    config.purgeInterval > 0
      ? setInterval(async () => {
          if (purging) return;
          purging = true;
          try {
            const counts = await purge(operator, {
              now: Date.now(),
              anonymousIdleMs: config.refreshTokenTtl * 1000,
            });
            app.log.info({ purged: counts }, 'purge done');
          } catch (error) {
            app.log.error({ err: error }, 'purge failed');
          } finally {
            purging = false;
          }
        }, config.purgeInterval * 1000)
      : undefined;
  purgeTimer?.unref();

  // Graceful shutdown: drain (keep answering for SHUTDOWN_DRAIN, each answer closing its
  // connection, /readyz failing), stop accepting, let requests in flight finish (app.close waits for
  // them), then close the database so SQLite checkpoints its WAL.
  let closing = false;
  const shutdown = async (signal: string) => {
    if (closing) return;
    closing = true;
    draining = true;
    app.log.info({ signal, drain_ms: config.shutdownDrain }, 'shutting down');
    clearInterval(purgeTimer);
    await drain(app.server, config.shutdownDrain);
    // app.close() stops accepting, closes the connections idle now and waits for requests in
    // flight. A connection that was busy when it began would then idle until its keep-alive timeout
    // (seconds); closing idle connections as they become idle lets the process exit as soon as the
    // last answer is sent.
    const closed = app.close();
    const sweep = setInterval(() => app.server.closeIdleConnections(), 50);
    await closed;
    clearInterval(sweep);
    await db.close();
    process.exit(0);
  };
  process.on('SIGTERM', () => void shutdown('SIGTERM'));
  process.on('SIGINT', () => void shutdown('SIGINT'));
}

main().catch((error: unknown) => {
  if (error instanceof ConfigError) {
    process.stderr.write(`${error.message}\n`);
  } else if (error instanceof KeyWrapError) {
    process.stderr.write(`storefront-auth failed to start: ${error.message}\n`);
  } else {
    process.stderr.write(
      `storefront-auth failed to start: ${error instanceof Error ? error.stack : String(error)}\n`,
    );
  }
  process.exit(1);
});
