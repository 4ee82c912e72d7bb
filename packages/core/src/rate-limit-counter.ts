/**
 * The counting rule of every rate-limit budget, for counters kept in process memory: fixed windows, taken all
 * together or not at all. Synchronous from the first read to the last write, so it is atomic within a process and
 * costs no promise per request. (The Redis store runs the same rule as one Lua script, atomic across processes.)
 */

/** `points` units of a counter allowing `quota` units per fixed window of `windowMs`, counted under `key`. */
export interface CounterCharge {
  readonly key: string;
  readonly quota: number;
  readonly windowMs: number;
  readonly points: number;
}

/**
 * A counter as a decision saw it: its count (after this request's units when admitted, before them when refused)
 * and the milliseconds left in its window (a counter without a running window reports a whole window).
 */
export interface CounterState {
  count: number;
  ttlMs: number;
}

interface Window {
  count: number;
  resetAt: number;
}

/** Ended windows are forgotten at most this often, so counters of callers long gone do not pile up. */
export const COUNTER_SWEEP_MS = 10_000;

/**
 * Fixed-window counters. A counter's window starts with the first unit it admits and lasts `windowMs`; a request is
 * admitted when every counter it charges has room for its points, and only then are they all incremented — so a
 * request refused by one budget spends nothing from any other, and the admitted units of a window never exceed
 * its quota. Time is the caller's (`now`, ms): the rule reads no clock.
 */
export class FixedWindowCounters {
  private readonly windows = new Map<string, Window>();
  private nextSweep = 0;

  /** Counters with a window that has not been swept yet (ended windows may linger up to COUNTER_SWEEP_MS). */
  get size(): number {
    return this.windows.size;
  }

  /**
   * Takes every charge, or none. Charges must name distinct counters (merge repeats first). Returns whether the
   * request was admitted and, per charge in order, the counter's state.
   */
  consumeAll(
    charges: readonly CounterCharge[],
    now: number,
  ): { admitted: boolean; counters: CounterState[] } {
    this.sweep(now);
    const found: (Window | undefined)[] = [];
    const counters: CounterState[] = [];
    let admitted = true;
    for (const charge of charges) {
      const window = this.windows.get(charge.key);
      const running = window !== undefined && window.resetAt > now;
      found.push(running ? window : undefined);
      const state = running
        ? { count: window.count, ttlMs: window.resetAt - now }
        : { count: 0, ttlMs: charge.windowMs };
      if (state.count + charge.points > charge.quota) admitted = false;
      counters.push(state);
    }
    if (!admitted) return { admitted, counters };
    charges.forEach((charge, i) => {
      const state = counters[i] as CounterState;
      state.count += charge.points;
      const window = found[i];
      if (window) window.count = state.count;
      else this.windows.set(charge.key, { count: state.count, resetAt: now + state.ttlMs });
    });
    return { admitted, counters };
  }

  private sweep(now: number): void {
    if (now < this.nextSweep) return;
    this.nextSweep = now + COUNTER_SWEEP_MS;
    for (const [key, window] of this.windows) if (window.resetAt <= now) this.windows.delete(key);
  }
}
