import { linkSignals } from './abortable.ts';

export interface BulkProgress {
  /** Items finished, successfully or not. */
  readonly done: number;
  readonly succeeded: number;
  readonly failed: number;
  /** Number of items, when known (an array, or `options.total`). */
  readonly total: number | undefined;
  readonly elapsedMs: number;
  /** Items finished per second since the start. */
  readonly ratePerSecond: number;
  /** Estimated time left at the current rate; undefined while the total or the rate is unknown. */
  readonly etaMs: number | undefined;
}

export interface BulkFailure<T> {
  readonly index: number;
  readonly item: T;
  readonly error: unknown;
}

export interface BulkSummary<T> {
  readonly total: number;
  readonly succeeded: number;
  /** Failed items in completion order, each with its index; the others are unaffected. */
  readonly failed: ReadonlyArray<BulkFailure<T>>;
  readonly durationMs: number;
  /** True when `signal` aborted: items not started by then are neither succeeded nor failed. */
  readonly aborted: boolean;
  /** Items never started because of the abort (0 if the input is exhausted). */
  readonly notStarted: number;
}

export interface BulkOptions {
  /**
   * Items in progress at once. Keep it at or a little above the throttle's `maxConcurrent`: the throttle
   * decides the pace, this only bounds how many items wait inside it. Default 16.
   */
  readonly concurrency?: number;
  /** Called after every finished item. Errors thrown here are ignored so they cannot lose items. */
  readonly onProgress?: (progress: BulkProgress) => void;
  /** Stops starting new items and is passed (linked) to the workers of items in progress. */
  readonly signal?: AbortSignal;
  /** Total for progress when `items` is not an array. */
  readonly total?: number;
}

/**
 * Runs `worker` over every item with at most `concurrency` in progress, and always resolves with a summary:
 * a failed item is recorded with its index and never stops the others.
 *
 * Items are pulled one by one as workers free up (a sliding window rather than fixed batches), so one slow
 * item never holds a whole batch back, and a lazy iterable is read only as fast as the work goes.
 *
 * @example
 * const summary = await runBulk(ids, (id, _i, signal) => api.users.get(id, { signal }), {
 *   concurrency: 10,
 *   onProgress: (p) => console.error(`${p.done}/${p.total} ETA ${p.etaMs} ms`),
 * });
 */
export async function runBulk<T>(
  items: Iterable<T>,
  worker: (item: T, index: number, signal: AbortSignal) => Promise<unknown>,
  options: BulkOptions = {},
): Promise<BulkSummary<T>> {
  const concurrency = options.concurrency ?? 16;
  if (!Number.isInteger(concurrency) || concurrency < 1) {
    throw new RangeError('concurrency must be an integer >= 1');
  }
  const total = Array.isArray(items) ? items.length : options.total;
  const startedAt = performance.now();
  const link = linkSignals([options.signal]);
  const iterator = items[Symbol.iterator]();
  const failed: Array<BulkFailure<T>> = [];
  let succeeded = 0;
  let started = 0;
  let exhausted = false;

  const report = (): void => {
    if (!options.onProgress) return;
    const done = succeeded + failed.length;
    const elapsedMs = performance.now() - startedAt;
    const ratePerSecond = elapsedMs > 0 ? (done * 1000) / elapsedMs : 0;
    const etaMs =
      total !== undefined && ratePerSecond > 0 ? ((total - done) * 1000) / ratePerSecond : undefined;
    try {
      options.onProgress({ done, succeeded, failed: failed.length, total, elapsedMs, ratePerSecond, etaMs });
    } catch {
      // A broken progress display must not turn finished items into failures.
    }
  };

  const next = (): { item: T; index: number } | undefined => {
    if (exhausted || link.signal.aborted) return undefined;
    const result = iterator.next();
    if (result.done) {
      exhausted = true;
      return undefined;
    }
    return { item: result.value, index: started++ };
  };

  const lane = async (): Promise<void> => {
    for (let entry = next(); entry; entry = next()) {
      try {
        await worker(entry.item, entry.index, link.signal);
        succeeded++;
      } catch (error) {
        failed.push({ index: entry.index, item: entry.item, error });
      }
      report();
    }
  };

  try {
    await Promise.all(Array.from({ length: concurrency }, lane));
  } finally {
    link.dispose();
  }
  const aborted = options.signal?.aborted ?? false;
  return {
    total: total ?? started,
    succeeded,
    failed,
    durationMs: performance.now() - startedAt,
    aborted,
    notStarted: total === undefined ? 0 : Math.max(0, total - started),
  };
}
