import { RateLimitBudget } from './rate-limit-budget.ts';

/** Why a request that already holds a slot must not be sent yet. */
export interface QuotaWait {
  readonly waitMs: number;
  /** `cluster`: another process paused the limiter; `quota-exhausted`: the window's estimate is spent. */
  readonly reason: 'cluster' | 'quota-exhausted';
}

/** What a response said about the window: `r` and `t` of its `RateLimit` field. */
export interface QuotaObservation {
  readonly remaining: number;
  readonly resetMs: number;
}

/**
 * The server-side quota as seen by this throttle: in memory for one process, in Redis for a cluster, where
 * every process draws from one estimate so that together they stop at the server's limit.
 */
export interface QuotaTracker {
  /**
   * Called holding a slot, right before sending. Resolves undefined when the request may go (one unit of the
   * estimate is taken and the request counts as in flight), or why and how long it must wait instead.
   */
  take(token: string): Promise<QuotaWait | undefined>;
  /** Called exactly once after every successful `take`, with what the response said (if anything). */
  settle(token: string, observation: QuotaObservation | undefined): Promise<void>;
  /** Extends the pause every sharer sees (in memory the throttle's own queue is the only sharer). */
  sharePause(ms: number): Promise<void>;
}

export class LocalQuota implements QuotaTracker {
  readonly #budget = new RateLimitBudget();
  readonly #now: () => number;
  #inFlight = 0;

  constructor(now: () => number) {
    this.#now = now;
  }

  take(): Promise<QuotaWait | undefined> {
    const waitMs = this.#budget.take(this.#now());
    if (waitMs > 0) return Promise.resolve({ waitMs, reason: 'quota-exhausted' });
    this.#inFlight++;
    return Promise.resolve(undefined);
  }

  settle(_token: string, observation: QuotaObservation | undefined): Promise<void> {
    this.#inFlight--;
    if (observation) {
      this.#budget.observe(observation.remaining, observation.resetMs, this.#inFlight, this.#now());
    }
    return Promise.resolve();
  }

  sharePause(): Promise<void> {
    return Promise.resolve();
  }
}
