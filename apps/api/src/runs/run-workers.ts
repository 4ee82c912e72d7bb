import type { Orm } from '@crowdee/db';
import type { Config } from '../config.ts';
import type { Logger } from '../logger.ts';
import { RUN_RETRY_LIMIT, type RunQueue } from './run-queue.ts';
import { markRunFailed, processRun } from './run-worker.ts';

export interface RunWorkersDeps {
  config: Config;
  orm: Orm;
  logger: Logger;
  clock: () => Date;
  runQueue: RunQueue;
}

/**
 * Starts this process's run workers on the queue. A run that stops because the process is shutting down throws,
 * so pg-boss hands it out again (to this process after a restart, or to another worker) and it resumes.
 */
export async function startRunWorkers(deps: RunWorkersDeps): Promise<void> {
  const { chunkSize, concurrency } = deps.config.runs;
  await deps.runQueue.work(concurrency, async ({ runId }, signal, attempt) => {
    try {
      const outcome = await processRun(deps, runId, { chunkSize, signal });
      if (outcome === 'interrupted')
        throw new Error('The worker stopped before the run ended; it is queued again.');
      deps.logger.info({ runId, outcome }, 'run worked');
    } catch (error) {
      deps.logger.warn({ err: error, runId, attempt }, 'run attempt ended early');
      if (attempt >= RUN_RETRY_LIMIT)
        await markRunFailed(deps, runId, 'Every attempt to work the run failed.');
      throw error;
    }
  });
}
