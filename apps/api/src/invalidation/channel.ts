import type { EntityManager } from '@mikro-orm/postgresql';

export type ChannelKind = 'postgres' | 'redis';

export interface ChannelHandlers {
  message(payload: string): void;
  /** The subscription is (again) in place: every message published from now on will arrive. */
  connected(): void;
  /** The subscription is gone: messages published from now on until `connected` are lost. */
  disconnected(reason: string): void;
}

/** Carries invalidation messages between API nodes. Implementations reconnect on their own, forever. */
export interface InvalidationChannel {
  readonly kind: ChannelKind;
  start(handlers: ChannelHandlers): Promise<void>;
  /** Sends a message to every node. `em` is the service's EntityManager (PostgreSQL sends through it). */
  publish(payload: string, em: EntityManager): Promise<void>;
  /** Sends a heartbeat over the subscribing connection's path, so its own arrival proves the channel works. */
  ping(payload: string): Promise<void>;
  /** Drops the subscription and starts over (the heartbeat stopped coming back). */
  reconnect(reason: string): void;
  stop(): Promise<void>;
}
