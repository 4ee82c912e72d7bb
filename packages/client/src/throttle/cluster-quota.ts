import type { Redis } from 'ioredis';
import type { QuotaObservation, QuotaTracker, QuotaWait } from './quota.ts';

/**
 * The quota estimate and pause shared by every process of a cluster, kept in three Redis keys next to
 * Bottleneck's (same `{id}` hash tag, so the scripts also run on a Redis Cluster):
 *
 * - `pause`: exists while the cluster is paused; its TTL is the remaining pause. A TTL rather than
 *   Bottleneck's reservoir: if the process that paused dies, the TTL still ends the pause, whereas a
 *   reservoir set to 0 would stay 0 for everyone. PTTL is relative, so clock skew cannot bend a pause.
 * - `budget`: hash `{ remaining, resetAt }`, the same estimate `RateLimitBudget` keeps in memory, expiring
 *   when the window resets.
 * - `inflight`: sorted set of requests on the wire in any process, scored by when they stop counting (a
 *   crashed process's requests drop out after `expirationMs`).
 *
 * Times inside the scripts come from Redis `TIME`: one clock for all hosts.
 */

const NOW = `
if redis.replicate_commands then redis.replicate_commands() end
local time = redis.call('TIME')
local now = tonumber(time[1]) * 1000 + math.floor(tonumber(time[2]) / 1000)`;

/** KEYS: pause, budget, inflight. ARGV: token, expirationMs. Returns {0,0} go, {1,ms} paused, {2,ms} spent. */
const TAKE_SCRIPT = `${NOW}
local paused = redis.call('PTTL', KEYS[1])
if paused > 0 then return {1, paused} end
local state = redis.call('HMGET', KEYS[2], 'remaining', 'resetAt')
local remaining = tonumber(state[1])
local resetAt = tonumber(state[2])
if remaining ~= nil and resetAt ~= nil and now < resetAt then
  if remaining <= 0 then return {2, resetAt - now} end
  redis.call('HINCRBY', KEYS[2], 'remaining', -1)
end
local expiration = tonumber(ARGV[2])
redis.call('ZADD', KEYS[3], now + expiration, ARGV[1])
redis.call('PEXPIRE', KEYS[3], expiration * 2)
return {0, 0}`;

/**
 * KEYS: budget, inflight. ARGV: token, remaining ('' if unknown), resetMs. The window rules are those of
 * `RateLimitBudget.observe`: a new window resets the estimate, the same window only lowers it.
 */
const SETTLE_SCRIPT = `${NOW}
redis.call('ZREM', KEYS[2], ARGV[1])
redis.call('ZREMRANGEBYSCORE', KEYS[2], '-inf', now)
if ARGV[2] == '' then return 0 end
local estimate = tonumber(ARGV[2]) - redis.call('ZCARD', KEYS[2])
local resetAt = now + tonumber(ARGV[3])
local state = redis.call('HMGET', KEYS[1], 'remaining', 'resetAt')
local oldRemaining = tonumber(state[1])
local oldResetAt = tonumber(state[2])
if oldRemaining ~= nil and oldResetAt ~= nil and now < oldResetAt and resetAt < oldResetAt + 1000 then
  estimate = math.min(oldRemaining, estimate)
  -- the tightest upper bound on the reset (see tighterReset in rate-limit-budget.ts)
  resetAt = math.min(oldResetAt, resetAt)
end
redis.call('HSET', KEYS[1], 'remaining', estimate, 'resetAt', resetAt)
redis.call('PEXPIRE', KEYS[1], math.max(1, resetAt - now))
return 1`;

/** KEYS: pause. ARGV: ms. Extends the pause, never shortens it: the longest Retry-After wins. */
const EXTEND_PAUSE_SCRIPT = `
local wanted = tonumber(ARGV[1])
if redis.call('PTTL', KEYS[1]) < wanted then
  redis.call('SET', KEYS[1], '1', 'PX', wanted)
  return 1
end
return 0`;

export function clusterKeys(id: string): { pause: string; budget: string; inflight: string } {
  const prefix = `crowdee-throttle:{${id}}`;
  return { pause: `${prefix}:pause`, budget: `${prefix}:budget`, inflight: `${prefix}:inflight` };
}

function toWait(reply: unknown): QuotaWait | undefined {
  if (!Array.isArray(reply)) return undefined;
  const [kind, ms]: unknown[] = reply;
  if (typeof ms !== 'number' || ms <= 0) return undefined;
  if (kind === 1) return { waitMs: ms, reason: 'cluster' };
  if (kind === 2) return { waitMs: ms, reason: 'quota-exhausted' };
  return undefined;
}

export class RedisQuota implements QuotaTracker {
  readonly #client: Promise<Redis>;
  readonly #keys: ReturnType<typeof clusterKeys>;
  readonly #expirationMs: number;
  readonly #onError: (error: unknown) => void;

  constructor(client: Promise<Redis>, id: string, expirationMs: number, onError: (error: unknown) => void) {
    this.#client = client;
    // Start-up failures are reported through the limiter's readiness; this copy only must not go unhandled.
    client.catch(() => undefined);
    this.#keys = clusterKeys(id);
    this.#expirationMs = expirationMs;
    this.#onError = onError;
  }

  // Every method fails open: the server still enforces its limit, and a Redis hiccup must not stall or
  // fail requests that the limiter itself already admitted.

  async take(token: string): Promise<QuotaWait | undefined> {
    try {
      const { pause, budget, inflight } = this.#keys;
      const client = await this.#client;
      return toWait(await client.eval(TAKE_SCRIPT, 3, pause, budget, inflight, token, this.#expirationMs));
    } catch (error) {
      this.#onError(error);
      return undefined;
    }
  }

  async settle(token: string, observation: QuotaObservation | undefined): Promise<void> {
    try {
      const client = await this.#client;
      await client.eval(
        SETTLE_SCRIPT,
        2,
        this.#keys.budget,
        this.#keys.inflight,
        token,
        observation ? String(observation.remaining) : '',
        observation ? String(Math.ceil(observation.resetMs)) : '',
      );
    } catch (error) {
      this.#onError(error);
    }
  }

  async sharePause(ms: number): Promise<void> {
    try {
      const client = await this.#client;
      await client.eval(EXTEND_PAUSE_SCRIPT, 1, this.#keys.pause, String(Math.max(1, Math.ceil(ms))));
    } catch (error) {
      this.#onError(error);
    }
  }
}
