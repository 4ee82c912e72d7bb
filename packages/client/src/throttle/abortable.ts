import { setMaxListeners } from 'node:events';

/**
 * Small abort-aware primitives. Each one removes its listeners and timers as soon as it settles: a
 * long-lived throttle handles many requests, and a listener left on a shared signal, or a timer left running
 * after `close()`, is a leak or a process that will not exit.
 */

/** A signal that aborts when any of the given signals aborts, with that signal's reason. */
export interface LinkedSignal {
  readonly signal: AbortSignal;
  /** Detaches from the source signals; call it once the operation is over. */
  dispose(): void;
}

export function linkSignals(sources: ReadonlyArray<AbortSignal | undefined>): LinkedSignal {
  const controller = new AbortController();
  // Each step of a request (queue, limiter, back-off, the fetch itself) listens to this signal, and a bulk
  // run shares one among all its items: many listeners are by design here, not a leak.
  setMaxListeners(0, controller.signal);
  const detachers: Array<() => void> = [];
  const dispose = (): void => {
    for (const detach of detachers.splice(0)) detach();
  };
  for (const source of sources) {
    if (!source) continue;
    if (source.aborted) {
      controller.abort(source.reason);
      break;
    }
    const onAbort = (): void => {
      controller.abort(source.reason);
      dispose();
    };
    source.addEventListener('abort', onAbort, { once: true });
    detachers.push(() => source.removeEventListener('abort', onAbort));
  }
  if (controller.signal.aborted) dispose();
  return { signal: controller.signal, dispose };
}

/** Waits `ms`; rejects with the signal's reason as soon as it aborts, clearing the timer. */
export function sleep(ms: number, signal: AbortSignal): Promise<void> {
  if (signal.aborted) return Promise.reject(signal.reason);
  return new Promise<void>((resolve, reject) => {
    const onAbort = (): void => {
      clearTimeout(timer);
      reject(signal.reason);
    };
    const timer = setTimeout(
      () => {
        signal.removeEventListener('abort', onAbort);
        resolve();
      },
      Math.max(0, Math.ceil(ms)),
    );
    signal.addEventListener('abort', onAbort, { once: true });
  });
}

/**
 * Settles like `promise`, unless `signal` aborts first: then rejects with its reason at once. The losing
 * promise keeps running but its outcome is observed, so it can never become an unhandled rejection.
 */
export function raceWithSignal<T>(promise: Promise<T>, signal: AbortSignal): Promise<T> {
  if (signal.aborted) {
    promise.catch(() => undefined);
    return Promise.reject(signal.reason);
  }
  return new Promise<T>((resolve, reject) => {
    const onAbort = (): void => reject(signal.reason);
    signal.addEventListener('abort', onAbort, { once: true });
    promise.then(
      (value) => {
        signal.removeEventListener('abort', onAbort);
        resolve(value);
      },
      (error: unknown) => {
        signal.removeEventListener('abort', onAbort);
        reject(error);
      },
    );
  });
}

/**
 * Like `raceWithSignal`, but also gives up after `ms` by rejecting with `onTimeout()`. The timer is cleared
 * whichever way it ends, so an abandoned wait cannot keep the process alive.
 */
export function withTimeout<T>(
  promise: Promise<T>,
  ms: number,
  onTimeout: () => Error,
  signal: AbortSignal,
): Promise<T> {
  if (signal.aborted) {
    promise.catch(() => undefined);
    return Promise.reject(signal.reason);
  }
  return new Promise<T>((resolve, reject) => {
    const finish = (): void => {
      clearTimeout(timer);
      signal.removeEventListener('abort', onAbort);
    };
    const onAbort = (): void => {
      finish();
      reject(signal.reason);
    };
    const timer = setTimeout(() => {
      finish();
      reject(onTimeout());
    }, ms);
    signal.addEventListener('abort', onAbort, { once: true });
    promise.then(
      (value) => {
        finish();
        resolve(value);
      },
      (error: unknown) => {
        finish();
        reject(error);
      },
    );
  });
}
