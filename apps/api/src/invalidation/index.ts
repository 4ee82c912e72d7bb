import type { EntityManager } from '@mikro-orm/postgresql';
import { Redis } from 'ioredis';
import type { Config } from '../config.ts';
import type { Logger } from '../logger.ts';
import type { InvalidationChannel } from './channel.ts';
import { encodeInvalidation, type Invalidation } from './invalidation-event.ts';
import { PG_CHANNEL, PostgresChannel } from './postgres-channel.ts';
import { RedisChannel } from './redis-channel.ts';

export type { ChannelKind, InvalidationChannel } from './channel.ts';
export {
  InvalidationBus,
  type InvalidationHealth,
  publishInvalidation,
} from './invalidation-bus.ts';
export {
  INVALIDATION_CAUSES,
  type Invalidation,
  type InvalidationCause,
  type InvalidationTarget,
} from './invalidation-event.ts';
export { LISTENER_APPLICATION_NAME, PG_CHANNEL } from './postgres-channel.ts';

/** The configured channel: PostgreSQL (always there) unless INVALIDATION_CHANNEL=redis and Redis is connected. */
export function createInvalidationChannel(
  config: Pick<Config, 'invalidationChannel' | 'redisUrl' | 'rateLimits'>,
  databaseUrl: string,
  redis: Redis | undefined,
  logger: Logger,
): InvalidationChannel {
  if (config.invalidationChannel === 'redis' && config.redisUrl && redis) {
    return new RedisChannel(config.redisUrl, redis, `${config.rateLimits.namespace}:invalidation`, logger);
  }
  return new PostgresChannel(databaseUrl, logger);
}

/**
 * For processes that are not API nodes (the operator CLI): sends one invalidation on the configured channel so
 * running servers apply it at once. `em` must be the one that committed the change.
 */
export async function announceInvalidation(
  config: Pick<Config, 'invalidationChannel' | 'redisUrl' | 'rateLimits'>,
  em: EntityManager,
  source: string,
  invalidation: Invalidation,
): Promise<void> {
  const payload = encodeInvalidation(source, invalidation);
  if (config.invalidationChannel === 'redis' && config.redisUrl) {
    const redis = new Redis(config.redisUrl, { maxRetriesPerRequest: 1, connectTimeout: 2_000 });
    try {
      await redis.publish(`${config.rateLimits.namespace}:invalidation`, payload);
    } finally {
      redis.disconnect();
    }
    return;
  }
  await em.getConnection().execute('select pg_notify(?, ?)', [PG_CHANNEL, payload]);
}
