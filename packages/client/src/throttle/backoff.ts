/** Exponential back-off settings for transient failures (502/503/504, network errors). */
export interface BackoffOptions {
  /** Cap of the first retry's delay, doubled for each further retry. Default 500 ms. */
  readonly baseMs?: number;
  /** Upper bound of any single delay. Default 20 000 ms. */
  readonly maxMs?: number;
}

export const DEFAULT_BACKOFF: Required<BackoffOptions> = { baseMs: 500, maxMs: 20_000 };

/**
 * "Full jitter" (AWS Architecture Blog, "Exponential Backoff and Jitter"): a uniform draw in
 * [0, min(maxMs, baseMs * 2^retry)). Many clients that failed together (a restarting server drops them
 * all at once) then come back spread over the whole interval instead of in synchronized waves.
 *
 * @param retry - 0 for the first retry.
 * @param random - uniform in [0, 1); injectable so tests can pin the draw.
 */
export function fullJitterDelay(
  retry: number,
  backoff: Required<BackoffOptions>,
  random: () => number = Math.random,
): number {
  const ceiling = Math.min(backoff.maxMs, backoff.baseMs * 2 ** Math.max(0, retry));
  return Math.floor(random() * ceiling);
}
