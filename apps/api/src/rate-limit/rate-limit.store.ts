import { type CounterCharge, type CounterState, FixedWindowCounters, type RatePolicy } from '@crowdee/core';
import type { Redis } from 'ioredis';
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

/** Units of one policy's budget, counted under `key` (e.g. `user:<id>`, `ip:<bucket>`, `signin:<ip>:<email>`). */
export interface Charge {
  policy: RatePolicy;
  key: string;
  points: number;
}

export type StoreStatus = 'memory' | 'redis' | 'memory-fallback' | 'off';

export interface ConsumeResult {
  allowed: boolean;
  decisions: LimitDecision[];
}

/**
 * Checks every counter, and increments them only when all of them admit the request: a refused request costs
 * nothing anywhere, and two concurrent requests can never both see a unit that only one of them may take. One
 * script, so Redis runs it atomically. Windows are fixed: a counter's first unit starts its window. The same rule as
 * packages/core's FixedWindowCounters, which counts in memory (rate-limit.store.test.ts runs both on the same cases).
 * KEYS: counters. ARGV: per counter quota, window in ms, points (in KEYS order). Returns
 * [admitted, count1, ttl1, count2, ttl2, ...] with counts after the increment when admitted.
 */
const CONSUME_ALL_LUA = `
local n = #KEYS
local counts = {}
local ttls = {}
local admitted = 1
for i = 1, n do
  local count = tonumber(redis.call('GET', KEYS[i]) or '0')
  local ttl = redis.call('PTTL', KEYS[i])
  if ttl < 0 then
    count = 0
    ttl = tonumber(ARGV[n + i])
  end
  counts[i] = count
  ttls[i] = ttl
  if count + tonumber(ARGV[2 * n + i]) > tonumber(ARGV[i]) then admitted = 0 end
end
local out = { admitted }
for i = 1, n do
  if admitted == 1 then
    if counts[i] == 0 then
      redis.call('SET', KEYS[i], ARGV[2 * n + i], 'PX', ARGV[n + i])
      counts[i] = tonumber(ARGV[2 * n + i])
    else
      counts[i] = redis.call('INCRBY', KEYS[i], ARGV[2 * n + i])
    end
  end
  out[2 * i] = counts[i]
  out[2 * i + 1] = ttls[i]
end
return out
`;

interface ConsumeAllCommand {
  crowdeeConsumeAll(numKeys: number, ...args: (string | number)[]): Promise<number[]>;
}

/**
 * Counters for every policy. In memory by default; with Redis, every API process shares one budget. While Redis
 * fails, counting continues per process (logged, and visible in /healthz) — a store outage never turns into a 429
 * for everyone, and never touches authentication, which does not depend on this store at all.
 */
export class RateLimitStore {
  /** Per-process counters: the store without Redis, and the fallback while Redis is down. */
  private readonly memory = new FixedWindowCounters();
  private readonly prefix: string;
  private redisHealthy: boolean;

  constructor(
    private readonly logger: Logger,
    private readonly redis?: Redis,
    namespace = 'crowdee',
  ) {
    this.prefix = `${namespace}:rl:`;
    this.redisHealthy = redis?.status === 'ready';
    redis?.defineCommand('crowdeeConsumeAll', { lua: CONSUME_ALL_LUA });
    redis?.on('ready', () => {
      if (!this.redisHealthy)
        logger.info('rate limits: Redis is back; counting is shared across processes again');
      this.redisHealthy = true;
    });
    redis?.on('error', (error: Error) => this.down(error.message));
    redis?.on('close', () => this.down('connection closed'));
    redis?.on('end', () => this.down('connection ended'));
  }

  private down(reason: string): void {
    if (this.redisHealthy) {
      this.logger.warn(
        { reason },
        'rate limits: Redis unavailable; falling back to per-process memory counters',
      );
    }
    this.redisHealthy = false;
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

  /**
   * Takes every charge of one request, or none of them: a request refused by one budget spends no other.
   * Charges must name distinct counters (the caller merges repeats).
   */
  async consumeAll(charges: readonly Charge[]): Promise<ConsumeResult> {
    if (this.redis && this.status() === 'redis') {
      try {
        const [allowed, counted] = await this.consumeInRedis(this.redis, charges);
        return decisionsOf(charges, allowed, counted);
      } catch (error) {
        this.logger.warn(
          { err: error },
          'rate limits: Redis failed to count; this request counted in memory',
        );
      }
    }
    return this.consumeInMemory(charges);
  }

  /**
   * The same, decided at once when the counters are in this process (no Redis, or Redis down): no promise, no
   * turn of the event loop. Undefined when Redis must be asked (then call `consumeAll`).
   */
  consumeNow(charges: readonly Charge[]): ConsumeResult | undefined {
    if (this.redis && this.status() === 'redis') return undefined;
    return this.consumeInMemory(charges);
  }

  private consumeInMemory(charges: readonly Charge[]): ConsumeResult {
    const counters: CounterCharge[] = [];
    for (const c of charges)
      counters.push({
        key: this.counterKey(c),
        quota: c.policy.quota,
        windowMs: c.policy.windowSeconds * 1000,
        points: c.points,
      });
    const { admitted, counters: counted } = this.memory.consumeAll(counters, Date.now());
    return decisionsOf(charges, admitted, counted);
  }

  /** A counter per policy name, key and window: a new quota (an override) keeps counting the same window. */
  private counterKey(c: Charge): string {
    return `${this.prefix}${c.policy.name}:${c.policy.windowSeconds}:${c.key}`;
  }

  private async consumeInRedis(redis: Redis, charges: readonly Charge[]): Promise<[boolean, CounterState[]]> {
    const keys = charges.map((c) => this.counterKey(c));
    const args = [
      ...charges.map((c) => c.policy.quota),
      ...charges.map((c) => c.policy.windowSeconds * 1000),
      ...charges.map((c) => c.points),
    ];
    const out = await (redis as unknown as ConsumeAllCommand).crowdeeConsumeAll(
      keys.length,
      ...keys,
      ...args,
    );
    const counted = keys.map((_, i) => ({ count: Number(out[2 * i + 1]), ttlMs: Number(out[2 * i + 2]) }));
    return [out[0] === 1, counted];
  }
}

/** Per charge: whether its budget refused, what remains and when its window resets. */
function decisionsOf(
  charges: readonly Charge[],
  allowed: boolean,
  counted: readonly CounterState[],
): ConsumeResult {
  const decisions = charges.map((c, i): LimitDecision => {
    const { count, ttlMs } = counted[i] ?? { count: 0, ttlMs: 0 };
    const violated = !allowed && count + c.points > c.policy.quota;
    return {
      policy: c.policy,
      allowed: !violated,
      remaining: Math.max(0, c.policy.quota - count),
      resetSeconds: Math.ceil(ttlMs / 1000),
      msBeforeNext: violated ? ttlMs : 0,
    };
  });
  return { allowed, decisions };
}
