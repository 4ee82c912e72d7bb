/**
 * The in-process gate in front of Bottleneck.
 *
 * A request waits here, holding nothing, while the throttle is paused or while `capacity` requests of this
 * process are already inside Bottleneck. Bottleneck cannot remove a queued job, so keeping its queue short
 * (at most `capacity` per process) is what lets an aborted request leave at once, lets `close()` reject
 * everything still waiting, and keeps a pause from piling jobs up inside the limiter.
 *
 * Retries are admitted before fresh requests: they were already in the queue once and their callers have
 * waited longest.
 */

interface Waiter {
  readonly resolve: () => void;
  readonly reject: (error: unknown) => void;
  readonly tooLong: (waitMs: number) => Error;
  readonly detach: () => void;
}

export interface AdmissionQueueOptions {
  /** How many admitted requests may be outstanding at once. */
  readonly capacity: number;
  /** A request that would have to wait longer than this for a pause to end is rejected instead. */
  readonly maxWaitMs: number;
  /** Monotonic clock in ms. */
  readonly now: () => number;
}

export interface AcquireOptions {
  readonly signal: AbortSignal;
  /** Retries and requests that gave their slot back jump ahead of fresh requests. */
  readonly priority: boolean;
  /** Builds the error for a wait longer than `maxWaitMs` (the queue does not know the request). */
  readonly tooLong: (waitMs: number) => Error;
}

export class AdmissionQueue {
  readonly #capacity: number;
  readonly #maxWaitMs: number;
  readonly #now: () => number;
  readonly #priority: Waiter[] = [];
  readonly #fresh: Waiter[] = [];
  #active = 0;
  #pausedUntil = 0;
  #timer: ReturnType<typeof setTimeout> | undefined;
  #closedWith: Error | undefined;

  constructor(options: AdmissionQueueOptions) {
    this.#capacity = options.capacity;
    this.#maxWaitMs = options.maxWaitMs;
    this.#now = options.now;
  }

  /** Requests waiting to be admitted. */
  get waiting(): number {
    return this.#priority.length + this.#fresh.length;
  }

  /** Milliseconds until the current pause ends, 0 when not paused. */
  pauseRemainingMs(): number {
    return Math.max(0, this.#pausedUntil - this.#now());
  }

  /** Monotonic time at which the current pause ends (0 when never paused). */
  get pausedUntil(): number {
    return this.#pausedUntil;
  }

  /** Resolves when the caller may enter the limiter; the caller must `release()` afterwards. */
  acquire(options: AcquireOptions): Promise<void> {
    if (this.#closedWith) return Promise.reject(this.#closedWith);
    if (options.signal.aborted) return Promise.reject(options.signal.reason);
    const wait = this.pauseRemainingMs();
    if (wait > this.#maxWaitMs) return Promise.reject(options.tooLong(wait));
    const nobodyAhead = this.#priority.length === 0 && (options.priority || this.#fresh.length === 0);
    if (wait === 0 && nobodyAhead && this.#active < this.#capacity) {
      this.#active++;
      return Promise.resolve();
    }
    return new Promise<void>((resolve, reject) => {
      const { signal } = options;
      const onAbort = (): void => {
        this.#remove(waiter);
        reject(signal.reason);
      };
      const waiter: Waiter = {
        resolve,
        reject,
        tooLong: options.tooLong,
        detach: () => signal.removeEventListener('abort', onAbort),
      };
      signal.addEventListener('abort', onAbort, { once: true });
      (options.priority ? this.#priority : this.#fresh).push(waiter);
      this.#pump();
    });
  }

  release(): void {
    this.#active = Math.max(0, this.#active - 1);
    this.#pump();
  }

  /**
   * Pauses admissions until `until` (monotonic ms). A pause only ever grows: a shorter one arriving later
   * must not let requests out before an earlier, longer one ends. Returns whether the pause was extended.
   */
  pause(until: number): boolean {
    if (this.#closedWith || until <= this.#pausedUntil) return false;
    this.#pausedUntil = until;
    const wait = this.pauseRemainingMs();
    if (wait > this.#maxWaitMs) {
      for (const waiter of [...this.#priority, ...this.#fresh]) {
        this.#remove(waiter);
        waiter.reject(waiter.tooLong(wait));
      }
    }
    this.#pump();
    return true;
  }

  /** Rejects every waiter with `error` and refuses new ones; clears the wake-up timer. */
  close(error: Error): void {
    this.#closedWith = error;
    this.#clearTimer();
    for (const waiter of [...this.#priority, ...this.#fresh]) {
      this.#remove(waiter);
      waiter.reject(error);
    }
  }

  #remove(waiter: Waiter): void {
    waiter.detach();
    for (const list of [this.#priority, this.#fresh]) {
      const index = list.indexOf(waiter);
      if (index >= 0) list.splice(index, 1);
    }
  }

  #pump(): void {
    if (this.#closedWith) return;
    const wait = this.pauseRemainingMs();
    if (wait > 0) {
      this.#armTimer(wait);
      return;
    }
    while (this.#active < this.#capacity) {
      const waiter = this.#priority.shift() ?? this.#fresh.shift();
      if (!waiter) break;
      waiter.detach();
      this.#active++;
      waiter.resolve();
    }
    if (this.waiting === 0) this.#clearTimer();
  }

  /**
   * One timer, and only while someone waits for a pause to end: an idle paused throttle keeps nothing
   * scheduled. When the timer fires `#pump` re-reads the clock, so a timer that fires a little early (or a
   * pause extended meanwhile) just re-arms it: nobody is let out before the pause ends.
   */
  #armTimer(wait: number): void {
    if (this.#timer !== undefined || this.waiting === 0) return;
    this.#timer = setTimeout(() => {
      this.#timer = undefined;
      this.#pump();
    }, Math.ceil(wait));
  }

  #clearTimer(): void {
    if (this.#timer === undefined) return;
    clearTimeout(this.#timer);
    this.#timer = undefined;
  }
}
