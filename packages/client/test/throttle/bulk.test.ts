import { describe, expect, it } from 'vitest';
import { type BulkProgress, runBulk } from '../../src/throttle/index.ts';
import { serve, throttle } from './support/harness.ts';
import { rateLimitedHandler } from './support/rate-limit-server.ts';

const tick = (ms = 1): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

describe('runBulk', () => {
  it('records each failure with its index and item and finishes every other item', async () => {
    const items = Array.from({ length: 20 }, (_, i) => `item-${i}`);
    const progress: BulkProgress[] = [];
    let running = 0;
    let maxRunning = 0;

    const summary = await runBulk(
      items,
      async (item, index) => {
        running++;
        maxRunning = Math.max(maxRunning, running);
        await tick();
        running--;
        if (index % 7 === 3) throw new Error(`bad ${item}`);
      },
      { concurrency: 4, onProgress: (p) => progress.push(p) },
    );

    expect(summary.total).toBe(20);
    expect(summary.succeeded).toBe(17);
    expect(summary.failed.map(({ index, item }) => [index, item]).sort()).toEqual([
      [10, 'item-10'],
      [17, 'item-17'],
      [3, 'item-3'],
    ]);
    expect(summary.failed[0]?.error).toBeInstanceOf(Error);
    expect(summary.aborted).toBe(false);
    expect(summary.durationMs).toBeGreaterThan(0);
    expect(maxRunning).toBe(4);
    expect(progress.map((p) => p.done)).toEqual(Array.from({ length: 20 }, (_, i) => i + 1));
    expect(progress.at(-1)).toMatchObject({ done: 20, succeeded: 17, failed: 3, total: 20, etaMs: 0 });
    expect(progress.every((p) => p.ratePerSecond > 0)).toBe(true);
  });

  it('survives a worker that throws synchronously and a progress callback that throws', async () => {
    const summary = await runBulk(
      [1, 2, 3],
      (n) => {
        if (n === 2) throw new Error('sync');
        return Promise.resolve();
      },
      {
        onProgress: () => {
          throw new Error('display broke');
        },
      },
    );

    expect(summary.succeeded).toBe(2);
    expect(summary.failed.map((failure) => failure.index)).toEqual([1]);
  });

  it('stops starting items when aborted and still resolves a summary', async () => {
    const controller = new AbortController();
    const summary = await runBulk(
      Array.from({ length: 100 }, (_, i) => i),
      async (n, _index, signal) => {
        if (n === 10) controller.abort();
        await tick();
        signal.throwIfAborted();
      },
      { concurrency: 2, signal: controller.signal },
    );

    expect(summary.aborted).toBe(true);
    expect(summary.notStarted).toBeGreaterThan(80);
    expect(summary.succeeded + summary.failed.length + summary.notStarted).toBe(100);
  });

  it('reads a lazy iterable as it goes, with the total given separately', async () => {
    let produced = 0;
    function* ids(): Generator<number> {
      for (let i = 0; i < 10; i++) {
        produced++;
        yield i;
      }
    }
    const seenWhenStarting: number[] = [];

    const summary = await runBulk(
      ids(),
      async () => {
        seenWhenStarting.push(produced);
        await tick();
      },
      { concurrency: 2, total: 10, onProgress: (p) => expect(p.total).toBe(10) },
    );

    expect(summary).toMatchObject({ total: 10, succeeded: 10, notStarted: 0 });
    // Never more than `concurrency` items pulled ahead of the work.
    expect(seenWhenStarting.every((pulled, i) => pulled <= i + 2)).toBe(true);
  });
});

describe('bulk run against a tight limit (the product promise)', () => {
  it('finishes every item with at most 1% of 429s', async () => {
    const limit = 50;
    const windowMs = 2000;
    const total = 300;
    const handler = rateLimitedHandler({ limit, windowMs, delayMs: 5 });
    const server = await serve(handler);
    const limiter = throttle({ maxConcurrent: 10 });

    const summary = await runBulk(
      Array.from({ length: total }, (_, i) => i),
      async (i, _index, signal) => {
        const response = await limiter.fetch(`${server.url}/v1/items/${i}`, { signal });
        if (response.status !== 200) throw new Error(`HTTP ${response.status}`);
        await response.arrayBuffer();
      },
      { concurrency: 20 },
    );

    const refused = server.count(429);
    const seconds = summary.durationMs / 1000;
    // The run starts with a fresh window and ends as soon as the last window's quota is used, so the
    // average rate over the run exceeds limit/window; the per-window counts are the honest measure.
    console.log(
      `bulk: ${total} items, ${server.requests.length} requests, ${refused} × 429 ` +
        `(${((refused / server.requests.length) * 100).toFixed(2)}%), ${seconds.toFixed(2)} s ` +
        `(${(summary.durationMs / windowMs).toFixed(2)} windows of ${windowMs} ms), ` +
        `${(total / seconds).toFixed(1)} req/s average vs ${limit / (windowMs / 1000)} req/s allowed, ` +
        `admitted per window ${JSON.stringify([...handler.window.counts.values()])} (limit ${limit}), ` +
        `stats ${JSON.stringify(limiter.stats())}`,
    );

    expect(summary.failed).toEqual([]);
    expect(summary.succeeded).toBe(total);
    expect(refused).toBeLessThanOrEqual(Math.floor(total * 0.01));
    // Counts per window, not durations: every item was admitted exactly once, no window took more than its
    // quota, so the run spread over at least ceil(total / limit) windows however fast or slow the machine is.
    const admitted = [...handler.window.counts.values()];
    expect(admitted.reduce((sum, n) => sum + n, 0)).toBe(total);
    expect(Math.max(...admitted)).toBeLessThanOrEqual(limit);
    expect(admitted.length).toBeGreaterThanOrEqual(Math.ceil(total / limit));
  });
});
