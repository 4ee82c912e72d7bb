import Bottleneck from 'bottleneck';
import { LocalQuota, type QuotaTracker } from './quota.ts';

/**
 * Where concurrency slots and `minTime` spacing come from: one Bottleneck limiter, kept in memory or shared
 * through Redis. The throttle above it only ever sees this interface.
 */
export interface SlotBackend {
  /** Resolves once the limiter can take jobs (immediately in memory; after connecting in Redis). */
  ready(): Promise<void>;
  /** Runs `task` while holding one slot. */
  run<T>(job: SlotJob, task: () => Promise<T>): Promise<T>;
  /** The server quota as seen by everyone sharing the slots. */
  readonly quota: QuotaTracker;
  /** Drops queued jobs, waits for running ones (the throttle aborts them first), releases timers and sockets. */
  close(): Promise<void>;
}

export interface SlotJob {
  /** Retries and requests that gave their slot back go before fresh ones. */
  readonly priority: boolean;
  /** Builds the error for a datastore that does not become ready in time. */
  readonly unavailable: (waitedMs: number) => Error;
  /** The request's signal: stops waiting for the datastore when it aborts. */
  readonly signal: AbortSignal;
}

export interface LimiterSettings {
  readonly maxConcurrent: number;
  readonly minTime: number;
  readonly onError: (error: unknown) => void;
  /** Monotonic clock in ms. */
  readonly now: () => number;
}

/** Bottleneck priorities run from 0 (first) to 9; 5 is its default. */
const PRIORITY_JOB = 4;
const FRESH_JOB = 5;

export const LIMITER_CLOSED_MESSAGE = 'crowdee throttle closed';

export function bottleneckPriority(job: SlotJob): number {
  return job.priority ? PRIORITY_JOB : FRESH_JOB;
}

/**
 * `limiter.schedule` with one fix: when Bottleneck fails a job because its `expiration` passed, the request
 * may still be running. The expiration exists to free the cluster slot of a process that died; for a live
 * process the slot is freed and the caller still gets the request's own outcome.
 */
export function runJob<T>(
  limiter: Bottleneck,
  options: Bottleneck.JobOptions,
  task: () => Promise<T>,
): Promise<T> {
  let started: Promise<T> | undefined;
  return limiter
    .schedule(options, () => {
      started = task();
      return started;
    })
    .catch((error: unknown) => {
      if (started) return started;
      throw error;
    });
}

/** Stops a limiter: queued jobs are dropped (their callers were already rejected by the throttle). */
export async function stopLimiter(limiter: Bottleneck): Promise<void> {
  await limiter.stop({
    dropWaitingJobs: true,
    dropErrorMessage: LIMITER_CLOSED_MESSAGE,
    enqueueErrorMessage: LIMITER_CLOSED_MESSAGE,
  });
}

export function createLocalBackend(settings: LimiterSettings): SlotBackend {
  const limiter = new Bottleneck({ maxConcurrent: settings.maxConcurrent, minTime: settings.minTime });
  limiter.on('error', settings.onError);
  return {
    ready: () => Promise.resolve(),
    run: (job, task) => runJob(limiter, { priority: bottleneckPriority(job) }, task),
    quota: new LocalQuota(settings.now),
    close: async () => {
      await stopLimiter(limiter);
      await limiter.disconnect();
    },
  };
}
