import { join } from 'node:path';
import { openDatabase, type RunningPostgres, startEmbeddedPostgres } from '@crowdee/db';
import { createApp } from './app.ts';
import type { Config } from './config.ts';
import { createDeps, stopDeps } from './deps.ts';
import { listen } from './http/listen.ts';
import { createInvalidationChannel } from './invalidation/index.ts';
import type { Logger } from './logger.ts';
import { createRateLimiting } from './rate-limit/index.ts';
import { connectRedis } from './redis.ts';
import { startRunWorkers } from './runs/run-workers.ts';
import { resolveSecretsKey } from './secrets-key.ts';
import { startStaleKeySweeper } from './services/stale-keys.service.ts';

export interface RunningServer {
  url: string;
  close(): Promise<void>;
}

/**
 * Boots the product: the database (DATABASE_URL, or the embedded PostgreSQL under DATA_DIR), migrations, the HTTP
 * server. `close()` shuts down in order: stop accepting, drain in-flight requests, close the database, stop the
 * embedded server.
 */
export async function startServer(config: Config, logger: Logger): Promise<RunningServer> {
  let embedded: RunningPostgres | undefined;
  let url = config.databaseUrl;
  if (!url) {
    const dataDir = join(config.dataDir, 'postgres');
    logger.info({ dataDir }, 'starting the embedded PostgreSQL (set DATABASE_URL to use your own server)');
    embedded = await startEmbeddedPostgres({
      dataDir,
      // Its output reaches this process only when it is logged; otherwise it goes to postgres.log in dataDir.
      ...(logger.isLevelEnabled('debug')
        ? { log: (line: string) => logger.debug({ postgres: line }, 'postgres') }
        : {}),
      notice: (line) => logger.warn(line),
    });
    url = embedded.url;
  }
  const orm = await openDatabase({ url, log: (message) => logger.debug({ orm: message }, 'mikro-orm') });
  const redis = config.redisUrl ? connectRedis(config.redisUrl, logger) : undefined;
  const limits = await createRateLimiting({ config, logger, orm, ...(redis ? { redis } : {}) });
  // Links in mails point at PUBLIC_URL, or else at the address we listen on (known once listening).
  let listening = `http://localhost:${config.port}`;
  const secretsKey = await resolveSecretsKey(config, logger);
  const deps = createDeps(config, logger, orm, {
    limits,
    secretsKey,
    invalidationChannel: createInvalidationChannel(config, url, redis, logger),
    appUrl: () => listening,
  });
  await deps.invalidation.start();
  deps.usage.start();
  const app = createApp(deps);
  const sweeper =
    config.staleKeySweepIntervalMs === null
      ? null
      : startStaleKeySweeper(deps, config.staleKeySweepIntervalMs);

  const { server, url: base } = await listen(app, config.port, config.host);
  if (config.runs.workers === 'in-process') await startRunWorkers(deps);
  listening = base.replace(/\/\/(0\.0\.0\.0|\[::\]):/, '//localhost:');
  logger.info(
    config.mail.smtpUrl
      ? 'mail goes through SMTP_URL'
      : `no SMTP_URL: mail is written as .eml files to ${config.mail.dir} and its link logged`,
  );
  logger.info(
    {
      url: base,
      database: embedded ? 'embedded' : 'DATABASE_URL',
      invalidation: deps.invalidation.health().channel,
      workers: config.runs.workers,
      node: deps.invalidation.health().node,
    },
    'Crowdee API listening',
  );

  let closing: Promise<void> | undefined;
  return {
    url: base,
    close() {
      closing ??= (async () => {
        await new Promise<void>((resolve) => {
          server.close(() => resolve());
          server.closeIdleConnections();
          // Requests still running after 10 s are cut: a deploy must not hang on one slow client.
          setTimeout(() => server.closeAllConnections(), 10_000).unref();
        });
        await sweeper?.stop();
        // In-flight requests are answered by now: their counts go out in this last flush.
        await stopDeps(deps, redis);
        await orm.close();
        await embedded?.stop();
        logger.info('shut down cleanly');
      })();
      return closing;
    },
  };
}
