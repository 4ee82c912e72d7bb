import { afterEach } from 'vitest';
import { createThrottle, type Throttle, type ThrottleOptions } from '../../../src/throttle/index.ts';
import { type Handler, startServer, type TestServer } from './rate-limit-server.ts';

/**
 * Timers never fire early against `performance.now()` in practice, but the two readings are taken in
 * different places (server callback, throttle), so "not earlier than" bounds allow this much.
 */
export const CLOCK_TOLERANCE_MS = 3;

const cleanups: Array<() => Promise<void>> = [];

afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

export async function serve(handler: Handler): Promise<TestServer> {
  const server = await startServer(handler);
  cleanups.push(() => server.close());
  return server;
}

export function throttle(options: ThrottleOptions = {}): Throttle {
  const created = createThrottle(options);
  cleanups.push(() => created.close());
  return created;
}

/** Polls a condition the test cannot await directly (e.g. "the request is now queued"); the deadline only catches hangs. */
export async function until(condition: () => boolean, what: string, timeoutMs = 60_000): Promise<void> {
  const deadline = performance.now() + timeoutMs;
  while (!condition()) {
    if (performance.now() > deadline) throw new Error(`timed out waiting until ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

/** Resolves with the rejection of `promise` (fails the test if it resolves). */
export async function rejectionOf(promise: Promise<unknown>): Promise<unknown> {
  try {
    await promise;
  } catch (error) {
    return error;
  }
  throw new Error('expected the promise to reject');
}

export function deferred<T = void>(): { promise: Promise<T>; resolve: (value: T) => void } {
  let resolve: (value: T) => void = () => undefined;
  const promise = new Promise<T>((r) => {
    resolve = r;
  });
  return { promise, resolve };
}
