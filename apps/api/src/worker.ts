import { openDatabase } from '@crowdee/db';
import { loadConfig } from './config.ts';
import { createLogger } from './logger.ts';
import { RunQueue } from './runs/run-queue.ts';
import { startRunWorkers } from './runs/run-workers.ts';

/**
 * A worker process (`pnpm --filter @crowdee/api worker`): works verification runs from the queue on DATABASE_URL,
 * next to or instead of the API's in-process workers (WORKERS=off), for scale. Any number may run at once.
 */
const config = loadConfig();
const logger = createLogger(config);

if (!config.databaseUrl) {
  logger.fatal('A worker process needs DATABASE_URL: the database the API uses, where the run queue lives.');
  process.exit(1);
}

try {
  const orm = await openDatabase({
    url: config.databaseUrl,
    log: (message) => logger.debug({ orm: message }, 'mikro-orm'),
  });
  const runQueue = new RunQueue({
    databaseUrl: config.databaseUrl,
    logger,
    heartbeatSeconds: config.runs.heartbeatSeconds,
    superviseIntervalSeconds: config.runs.superviseIntervalSeconds,
  });
  await startRunWorkers({ config, orm, logger, clock: () => new Date(), runQueue });
  logger.info({ concurrency: config.runs.concurrency, chunkSize: config.runs.chunkSize }, 'run worker ready');
  let stopping = false;
  const shutdown = (signal: string) => {
    if (stopping) return;
    stopping = true;
    logger.info({ signal }, 'run worker stopping');
    runQueue
      .stop()
      .then(() => orm.close())
      .then(
        () => process.exit(0),
        (error: unknown) => {
          logger.error({ err: error }, 'run worker shutdown failed');
          process.exit(1);
        },
      );
  };
  process.on('SIGTERM', () => shutdown('SIGTERM'));
  process.on('SIGINT', () => shutdown('SIGINT'));
} catch (error) {
  logger.fatal({ err: error }, 'run worker could not start');
  process.exitCode = 1;
}
