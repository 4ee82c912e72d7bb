import type { RatePolicy, RateTier } from '@crowdee/core';
import type { OverrideCache } from './override-cache.ts';
import type { RateLimitStore } from './rate-limit.store.ts';

/** The limiter's state, built once per process by createRateLimiting (null when RATE_LIMITS=off). */
export interface RateLimiting {
  store: RateLimitStore;
  overrides: OverrideCache;
  policies: Record<RateTier, RatePolicy>;
  clock: () => Date;
}
