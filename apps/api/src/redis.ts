import { Redis } from 'ioredis';
import type { Logger } from './logger.ts';

/**
 * A Redis connection for shared rate-limit counters. Commands fail fast while it is down (no offline queue, one
 * retry) so the limiter falls back to memory at once instead of stalling requests; it keeps reconnecting.
 */
export function connectRedis(url: string, logger: Logger): Redis {
  const redis = new Redis(url, {
    enableOfflineQueue: false,
    maxRetriesPerRequest: 1,
    connectTimeout: 2_000,
    retryStrategy: (attempt) => Math.min(attempt * 200, 2_000),
  });
  // ioredis emits 'error' on every failed reconnect; the limiter logs state changes, so this stays at debug.
  redis.on('error', (error: Error) => logger.debug({ err: error.message }, 'redis error'));
  return redis;
}
