import { createHash } from 'node:crypto';
import Bottleneck from 'bottleneck';
import type { Redis, RedisOptions } from 'ioredis';
import { withTimeout } from './abortable.ts';
import { RedisQuota } from './cluster-quota.ts';
import {
  bottleneckPriority,
  type LimiterSettings,
  runJob,
  type SlotBackend,
  stopLimiter,
} from './limiter-backend.ts';

/**
 * Clustering: every process that uses the same `id` shares one set of slots and `minTime` spacing
 * (Bottleneck's Redis datastore), one pause and one estimate of the server's quota (see cluster-quota.ts).
 */
export interface ThrottleRedisOptions {
  /**
   * An ioredis client, or a `redis://` URL / ioredis options for a client the throttle creates. A client you
   * pass stays yours: the throttle only closes the pub/sub duplicate it makes of it. A client it created is
   * closed by `close()`.
   */
  readonly connection: Redis | RedisOptions | string;
  /**
   * Shared limiter id: letters, digits and `._:-`, at most 200 characters. Derive it from the API key with
   * `limiterIdFor(apiKey)`; never use the key itself, which would end up in Redis key names.
   */
  readonly id: string;
  /**
   * Bottleneck job `expiration`: a slot whose process died mid-request is freed after this long instead of
   * being held forever. Must exceed your slowest request, or slots are freed while requests still run.
   * Default 60 000 ms.
   */
  readonly expirationMs?: number;
  /** The limiter's keys expire after this long without any request. Default 300 000 ms. */
  readonly idleTtlMs?: number;
  /** How long a request waits for Redis to become ready before failing. Default 10 000 ms. */
  readonly readyTimeoutMs?: number;
}

const ID_PATTERN = /^[A-Za-z0-9._:-]{1,200}$/;

/**
 * A stable limiter id for an API key: the first 128 bits of its SHA-256, hex. Keys are high-entropy secrets,
 * so an unsalted hash reveals nothing, and every process using the same key lands on the same limiter.
 */
export function limiterIdFor(apiKey: string): string {
  return `key-${createHash('sha256').update(apiKey, 'utf8').digest('hex').slice(0, 32)}`;
}

export function assertValidLimiterId(id: string): void {
  if (!ID_PATTERN.test(id)) {
    throw new TypeError('redis.id must be 1-200 characters among letters, digits and ._:-');
  }
}

export interface ClusterBackendSettings extends LimiterSettings {
  readonly redis: ThrottleRedisOptions;
}

interface ClusterParts {
  readonly limiter: Bottleneck;
  readonly client: Redis;
  /** The duplicate Bottleneck's IORedisConnection creates for pub/sub: always ours to close. */
  readonly subscriber: Redis | undefined;
  readonly ownsClient: boolean;
}

function isRedisClient(value: unknown): value is Redis {
  return (
    typeof value === 'object' &&
    value !== null &&
    typeof Reflect.get(value, 'duplicate') === 'function' &&
    typeof Reflect.get(value, 'pttl') === 'function'
  );
}

/** Bottleneck keys are `b_<id>_…`; the braces make them one hash slot, as a Redis Cluster requires. */
export function bottleneckIdFor(id: string): string {
  return `crowdee-throttle:{${id}}`;
}

async function buildParts(settings: ClusterBackendSettings): Promise<ClusterParts> {
  // Loaded on demand: scripts that never cluster do not pay for ioredis at start-up.
  const { Redis: RedisClient } = await import('ioredis');
  const { connection } = settings.redis;
  const ownsClient = !isRedisClient(connection);
  let client: Redis;
  if (isRedisClient(connection)) client = connection;
  else if (typeof connection === 'string') client = new RedisClient(connection);
  else client = new RedisClient(connection);

  // Passing `Redis` keeps Bottleneck from `require('ioredis')` itself, which pnpm's strict layout may not
  // resolve from inside the bottleneck package.
  const redisConnection = new Bottleneck.IORedisConnection({ client, Redis: RedisClient });
  redisConnection.on('error', settings.onError);
  const limiter = new Bottleneck({
    id: bottleneckIdFor(settings.redis.id),
    datastore: 'ioredis',
    connection: redisConnection,
    // Other processes may be using the limiter right now: wiping it would hand out their slots twice.
    clearDatastore: false,
    timeout: settings.redis.idleTtlMs ?? 300_000,
    maxConcurrent: settings.maxConcurrent,
    minTime: settings.minTime,
  });
  limiter.on('error', settings.onError);
  // The typings omit it, but IORedisConnection creates its subscriber synchronously; it is needed to close a
  // connection that never became ready.
  const subscriber: unknown = Reflect.get(redisConnection, 'subscriber');
  return { limiter, client, subscriber: isRedisClient(subscriber) ? subscriber : undefined, ownsClient };
}

function positive(name: string, value: number): number {
  if (!Number.isFinite(value) || value <= 0) throw new RangeError(`redis.${name} must be a number > 0`);
  return value;
}

export function createClusterBackend(settings: ClusterBackendSettings): SlotBackend {
  assertValidLimiterId(settings.redis.id);
  const expirationMs = positive('expirationMs', settings.redis.expirationMs ?? 60_000);
  const readyTimeoutMs = positive('readyTimeoutMs', settings.redis.readyTimeoutMs ?? 10_000);
  positive('idleTtlMs', settings.redis.idleTtlMs ?? 300_000);
  const parts = buildParts(settings);
  let isReady = false;
  const ready = parts.then(async ({ limiter }) => {
    await limiter.ready();
    // `init` keeps the settings already stored in Redis; write ours so a changed maxConcurrent or minTime
    // applies now instead of after the keys expire. Every process sharing an id should use the same values.
    await limiter.updateSettings({ maxConcurrent: settings.maxConcurrent, minTime: settings.minTime });
    isReady = true;
  });
  ready.catch(settings.onError);

  return {
    ready: () => ready,
    run: async (job, task) => {
      const { limiter } = await parts;
      if (!isReady) {
        await withTimeout(ready, readyTimeoutMs, () => job.unavailable(readyTimeoutMs), job.signal);
      }
      return runJob(limiter, { priority: bottleneckPriority(job), expiration: expirationMs }, task);
    },
    quota: new RedisQuota(
      parts.then((built) => built.client),
      settings.redis.id,
      expirationMs,
      settings.onError,
    ),
    close: async () => {
      const { limiter, client, subscriber, ownsClient } = await parts;
      if (!isReady) {
        // Never connected: stop() and quit() would wait for a connection that may never come.
        subscriber?.disconnect();
        if (ownsClient) client.disconnect();
        return;
      }
      await stopLimiter(limiter);
      // With a shared IORedisConnection this only unsubscribes the limiter; the sockets are closed below.
      await limiter.disconnect(false);
      await subscriber?.quit();
      if (ownsClient) await client.quit();
    },
  };
}
