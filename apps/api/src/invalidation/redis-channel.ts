import type { EntityManager } from '@mikro-orm/postgresql';
import { Redis } from 'ioredis';
import type { Logger } from '../logger.ts';
import type { ChannelHandlers, InvalidationChannel } from './channel.ts';

/**
 * Redis pub/sub: a subscriber connection of its own (a subscribed connection can do nothing else) and the
 * shared command connection to publish. Redis keeps no message for an absent subscriber, exactly like NOTIFY,
 * so the same rule applies: lost subscription → flush and short TTL until it is back.
 */
export class RedisChannel implements InvalidationChannel {
  readonly kind = 'redis' as const;
  private subscriber: Redis | undefined;
  private subscribed = false;

  constructor(
    private readonly url: string,
    private readonly publisher: Redis,
    private readonly channel: string,
    private readonly logger: Logger,
  ) {}

  async start(handlers: ChannelHandlers): Promise<void> {
    const sub = new Redis(this.url, {
      connectionName: 'crowdee-invalidation-subscriber',
      // We subscribe ourselves on every `ready`, so we know when the subscription (not just the socket) is back.
      autoResubscribe: false,
      enableOfflineQueue: false,
      maxRetriesPerRequest: 1,
      connectTimeout: 2_000,
      retryStrategy: (attempt) => Math.min(attempt * 100, 2_000),
    });
    this.subscriber = sub;
    sub.on('message', (channel: string, payload: string) => {
      if (channel === this.channel) handlers.message(payload);
    });
    sub.on('error', (error: Error) => this.logger.debug({ err: error.message }, 'invalidation: redis error'));
    const down = (reason: string) => {
      if (!this.subscribed) return;
      this.subscribed = false;
      handlers.disconnected(reason);
    };
    sub.on('close', () => down('connection closed'));
    sub.on('end', () => down('connection ended'));
    const subscribe = async () => {
      try {
        await sub.subscribe(this.channel);
        this.subscribed = true;
        handlers.connected();
      } catch (error) {
        this.logger.warn({ err: (error as Error).message }, 'invalidation: could not subscribe on Redis');
        sub.disconnect(true);
      }
    };
    sub.on('ready', () => void subscribe());
    if (sub.status === 'ready') await subscribe();
    else
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, 2_000);
        timer.unref();
        sub.once('ready', () => {
          clearTimeout(timer);
          // Let the subscribe above run first, so `start` returns with the subscription in place.
          setImmediate(resolve);
        });
      });
  }

  async publish(payload: string, _em: EntityManager): Promise<void> {
    await this.publisher.publish(this.channel, payload);
  }

  async ping(payload: string): Promise<void> {
    await this.publisher.publish(this.channel, payload);
  }

  reconnect(_reason: string): void {
    this.subscriber?.disconnect(true);
  }

  async stop(): Promise<void> {
    const sub = this.subscriber;
    this.subscriber = undefined;
    if (!sub) return;
    sub.removeAllListeners();
    sub.on('error', () => {});
    sub.disconnect();
  }
}
