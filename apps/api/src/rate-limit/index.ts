import type { Orm } from '@crowdee/db';
import type { Redis } from 'ioredis';
import type { Config } from '../config.ts';
import type { Logger } from '../logger.ts';
import { OverrideCache } from './override-cache.ts';
import type { RateLimiting } from './rate-limit.middleware.ts';
import { RateLimitStore } from './rate-limit.store.ts';

export { type CallResolver, restCallResolver, trpcCallResolver } from './call-resolver.ts';
export type { RateLimiting } from './rate-limit.middleware.ts';
export { publicRateLimit, rateLimit, resolveCalls, resolvedProcedures } from './rate-limit.middleware.ts';
export { RateLimitStore } from './rate-limit.store.ts';

export interface RateLimitingOptions {
  config: Config;
  logger: Logger;
  orm: Orm;
  redis?: Redis;
  clock?: () => Date;
  /** How often overrides are re-read from the database. */
  overrideRefreshMs?: number;
}

/** Builds the limiter (null when RATE_LIMITS=off) and loads the overrides before the first request. */
export async function createRateLimiting(options: RateLimitingOptions): Promise<RateLimiting | null> {
  if (!options.config.rateLimits.enabled) return null;
  const overrides = new OverrideCache(options.orm, options.logger, options.overrideRefreshMs ?? 5_000);
  await overrides.start();
  return {
    store: new RateLimitStore(options.logger, options.redis, options.config.rateLimits.namespace),
    overrides,
    policies: options.config.rateLimits.policies,
    clock: options.clock ?? (() => new Date()),
  };
}

/** Stops re-reading overrides and listening to Redis; disconnects Redis when this process owns it. */
export function stopRateLimiting(limits: RateLimiting | null, redis?: Redis): void {
  limits?.overrides.stop();
  limits?.store.detach();
  redis?.disconnect();
}
