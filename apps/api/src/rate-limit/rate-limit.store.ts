import type { RatePolicy } from '@crowdee/core';
import type { Redis } from 'ioredis';
import {
  type RateLimiterAbstract,
  RateLimiterMemory,
  RateLimiterRedis,
  RateLimiterRes,
} from 'rate-limiter-flexible';
import type { Logger } from '../logger.ts';

export interface LimitDecision {
  policy: RatePolicy;
  allowed: boolean;
  remaining: number;
  /** Seconds until the window resets (the `t` of the RateLimit field). */
  resetSeconds: number;
  /** Milliseconds until the caller may try again (0 when allowed). */
  msBeforeNext: number;
}

export type StoreStatus = 'memory' | 'redis' | 'memory-fallback' | 'off';

/**
 * Counters for every policy. In memory by default; with Redis, every API process shares one budget. Each Redis
 * limiter carries a per-process memory limiter as insurance: when Redis fails, counting continues per process
 * (logged, and visible in /healthz) — a store outage never turns into a 429 for everyone, and never touches
 * authentication, which does not depend on this store at all.
 */
export class RateLimitStore {
  private readonly limiters = new Map<string, RateLimiterAbstract>();
  private redisHealthy: boolean;

  constructor(
    private readonly logger: Logger,
    private readonly redis?: Redis,
    private readonly namespace = 'crowdee',
  ) {
    this.redisHealthy = redis?.status === 'ready';
    redis?.on('ready', () => {
      if (!this.redisHealthy)
        logger.info('rate limits: Redis is back; counting is shared across processes again');
      this.redisHealthy = true;
    });
    const down = (reason: string) => {
      if (this.redisHealthy) {
        logger.warn(
          { reason },
          'rate limits: Redis unavailable; falling back to per-process memory counters',
        );
      }
      this.redisHealthy = false;
    };
    redis?.on('error', (error: Error) => down(error.message));
    redis?.on('close', () => down('connection closed'));
    redis?.on('end', () => down('connection ended'));
  }

  /** Stops listening to the Redis connection (before its owner closes it), so shutdown logs no outage. */
  detach(): void {
    this.redis?.removeAllListeners('ready');
    this.redis?.removeAllListeners('close');
    this.redis?.removeAllListeners('end');
    this.redis?.removeAllListeners('error');
    // ioredis must always have an error listener, or a late socket error would crash the process.
    this.redis?.on('error', () => {});
  }

  status(): StoreStatus {
    if (!this.redis) return 'memory';
    return this.redisHealthy && this.redis.status === 'ready' ? 'redis' : 'memory-fallback';
  }

  private limiterFor(policy: RatePolicy): RateLimiterAbstract {
    const id = `${policy.name}:${policy.quota}:${policy.windowSeconds}`;
    let limiter = this.limiters.get(id);
    if (!limiter) {
      const options = {
        points: policy.quota,
        duration: policy.windowSeconds,
        keyPrefix: `${this.namespace}:rl:${id}`,
      };
      const memory = new RateLimiterMemory(options);
      limiter = this.redis
        ? new RateLimiterRedis({
            ...options,
            storeClient: this.redis,
            rejectIfRedisNotReady: true,
            insuranceLimiter: memory,
          })
        : memory;
      this.limiters.set(id, limiter);
    }
    return limiter;
  }

  async consume(policy: RatePolicy, key: string, points: number): Promise<LimitDecision> {
    try {
      const res = await this.limiterFor(policy).consume(key, points);
      return decision(policy, true, res);
    } catch (error) {
      if (error instanceof RateLimiterRes) return decision(policy, false, error);
      // Neither the store nor its insurance could count: let the request through rather than refuse everyone.
      this.logger.error({ err: error }, 'rate limits: counting failed; request allowed');
      return {
        policy,
        allowed: true,
        remaining: policy.quota,
        resetSeconds: policy.windowSeconds,
        msBeforeNext: 0,
      };
    }
  }
}

function decision(policy: RatePolicy, allowed: boolean, res: RateLimiterRes): LimitDecision {
  return {
    policy,
    allowed,
    remaining: Math.max(0, res.remainingPoints),
    resetSeconds: Math.ceil(res.msBeforeNext / 1000),
    msBeforeNext: allowed ? 0 : res.msBeforeNext,
  };
}
