/**
 * A conservative estimate of how many requests the server will still accept in its current window, built
 * from the `RateLimit` field of each response.
 *
 * Reacting only to `r=0` is too late with concurrency: by the time the response that says `r=0` arrives,
 * up to `maxConcurrent - 1` more requests are already on the wire and each of them earns a 429. So every
 * response resets the estimate to `r` minus the requests still in flight (the server may have counted them
 * after this one), each send takes one unit, and once it reaches zero the throttle pauses until the window
 * resets. Within one window the estimate only goes down: responses can arrive out of order, and a stale
 * higher `r` must not hand out units that are already spent.
 */

/** `t` has a resolution of one second, so two resets less than this far apart may be the same window. */
export const RESET_RESOLUTION_MS = 1000;

/**
 * Servers round `t` up to whole seconds, so one response only says the window resets within the second before
 * `receivedAt + t`. Every response of the same window gives such an upper bound, and the smallest one is the
 * tightest: it is never early (each bound is at or after the true reset), and once `t` ticks down between two
 * responses it lies within a few milliseconds of the true reset. Waiting for the largest bound instead (or
 * for a single response's `t`) idles up to a second per window — a quarter of a 4 s window.
 */
export function tighterReset(current: number | undefined, observed: number): number {
  if (
    current === undefined ||
    observed >= current + RESET_RESOLUTION_MS ||
    observed <= current - RESET_RESOLUTION_MS
  ) {
    return observed;
  }
  return Math.min(current, observed);
}

export class RateLimitBudget {
  #remaining: number | undefined;
  #resetAt = 0;

  /**
   * Records one response's `r` and `t`.
   * @param remaining - `r` from the response.
   * @param resetInMs - `t` in milliseconds.
   * @param othersInFlight - requests sent and not yet answered, excluding this one.
   * @param now - monotonic clock in ms when the response arrived.
   */
  observe(remaining: number, resetInMs: number, othersInFlight: number, now: number): void {
    const resetAt = now + resetInMs;
    const estimate = remaining - othersInFlight;
    const newWindow =
      this.#remaining === undefined || now >= this.#resetAt || resetAt >= this.#resetAt + RESET_RESOLUTION_MS;
    if (newWindow) {
      this.#remaining = estimate;
      this.#resetAt = resetAt;
      return;
    }
    this.#remaining = Math.min(this.#remaining ?? estimate, estimate);
    this.#resetAt = tighterReset(this.#resetAt, resetAt);
  }

  /**
   * Takes one unit for a request about to be sent. Returns 0 when it may go, otherwise how many
   * milliseconds remain until the window resets (the caller pauses for that long).
   */
  take(now: number): number {
    if (this.#remaining === undefined) return 0;
    if (now >= this.#resetAt) {
      // The window is over: nothing is known about the next one until a response tells.
      this.#remaining = undefined;
      return 0;
    }
    if (this.#remaining <= 0) return this.#resetAt - now;
    this.#remaining--;
    return 0;
  }
}
