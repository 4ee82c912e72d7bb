import { PgBoss } from 'pg-boss';
import type { Logger } from '../logger.ts';

export const RUN_QUEUE = 'verification-runs';
/** Attempts after the first; the last one marks a run that still cannot finish as failed. */
export const RUN_RETRY_LIMIT = 20;

export interface RunJob {
  runId: string;
}

export interface RunQueueOptions {
  databaseUrl: string;
  logger: Logger;
  /**
   * How often a worker proves it is alive while it holds a run (pg-boss's job heartbeat, at least 10 s). A worker
   * killed with SIGKILL stops beating; the job is failed and retried on another worker after this long plus at
   * most `superviseIntervalSeconds`.
   */
  heartbeatSeconds: number;
  superviseIntervalSeconds: number;
}

/**
 * The run queue: pg-boss on the application's own PostgreSQL (schema `pgboss`). A job only names a run; the run's
 * progress lives in our tables, so a job retried after its worker died resumes where the last committed chunk
 * ended. pg-boss is started on first use, so a process that never starts or works a run never touches its schema.
 */
export class RunQueue {
  private readonly options: RunQueueOptions;
  private started: Promise<PgBoss> | undefined;
  private stopped = false;
  /** Aborted when this process stops: its workers end after their current chunk and hand their runs back. */
  private readonly stopping = new AbortController();

  constructor(options: RunQueueOptions) {
    this.options = options;
  }

  private boss(): Promise<PgBoss> {
    if (this.stopped) return Promise.reject(new Error('the run queue is stopped'));
    this.started ??= (async () => {
      const { databaseUrl, logger, heartbeatSeconds, superviseIntervalSeconds } = this.options;
      const boss = new PgBoss({
        connectionString: databaseUrl,
        max: 4,
        superviseIntervalSeconds,
        monitorIntervalSeconds: superviseIntervalSeconds,
        // No cron schedules here: the timekeeper would poll for nothing.
        schedule: false,
      });
      boss.on('error', (error: unknown) => logger.error({ err: error }, 'run queue error'));
      await boss.start();
      await boss.createQueue(RUN_QUEUE, {
        heartbeatSeconds,
        // A run is bounded by its heartbeat, not by a wall-clock limit: the expiry only catches a stuck handler.
        expireInSeconds: 6 * 60 * 60,
        // Each retry resumes from the last committed chunk; a run that keeps failing is marked failed by the worker.
        retryLimit: RUN_RETRY_LIMIT,
        retryDelay: 1,
      });
      return boss;
    })();
    return this.started;
  }

  /** Queues a run. The job carries only the id; a duplicate job for the same run finds nothing left to do. */
  async enqueue(runId: string): Promise<void> {
    const boss = await this.boss();
    await boss.send(RUN_QUEUE, { runId } satisfies RunJob);
  }

  /** Starts `concurrency` workers in this process; each holds one run at a time and checks `signal` per chunk. */
  async work(
    concurrency: number,
    handler: (job: RunJob, signal: AbortSignal, attempt: number) => Promise<void>,
  ): Promise<void> {
    const boss = await this.boss();
    await boss.work<RunJob>(
      RUN_QUEUE,
      { localConcurrency: concurrency, batchSize: 1, pollingIntervalSeconds: 1 },
      async ([job]) => {
        if (job) await handler(job.data, AbortSignal.any([job.signal, this.stopping.signal]), job.retryCount);
      },
    );
  }

  async stop(): Promise<void> {
    this.stopped = true;
    this.stopping.abort();
    const started = this.started;
    if (!started) return;
    const boss = await started.catch(() => undefined);
    // Graceful: a worker finishes its current chunk's transaction, then fails its job so the queue retries it.
    await boss?.stop({ graceful: true, timeout: 10_000 });
  }
}
