import type { EntityManager } from '@mikro-orm/postgresql';
import type { Logger } from '../logger.ts';
import type { KeyCache } from '../services/key-cache.ts';
import type { ChannelKind, InvalidationChannel } from './channel.ts';
import {
  decodeMessage,
  encodeInvalidation,
  encodePing,
  type Invalidation,
  type InvalidationTarget,
} from './invalidation-event.ts';

/** Heartbeats that may go missing before the channel counts as lost (silent network failures). */
const MISSED_HEARTBEATS = 5;

/**
 * `local`: one process, no channel (tests and tools); `connected`: every node's changes reach us;
 * `connecting` / `degraded`: they may not, so the key cache serves with its short TTL.
 */
export type ChannelState = 'local' | 'connecting' | 'connected' | 'degraded';

export interface InvalidationHealth {
  channel: ChannelKind | 'none';
  state: ChannelState;
  node: string;
  /** How long a cached key may be served right now (ms). */
  keyCacheTtlMs: number;
  /** Times the channel came back after being lost. */
  reconnects: number;
  /** Times the whole key cache was dropped because messages may have been missed. */
  flushes: number;
}

export interface InvalidationBusOptions {
  node: string;
  cache: KeyCache;
  logger: Logger;
  channel?: InvalidationChannel | undefined;
  /** Re-reads the rate-limit overrides (absent when rate limiting is off). */
  refreshRateLimits?: (() => Promise<void>) | undefined;
  /** How often a heartbeat goes round the channel; five missed in a row count as a lost channel. */
  heartbeatMs?: number;
}

/**
 * Applies every verification-affecting change on this node at once and tells the other nodes, and applies
 * what they tell us. While the channel is down the cache cannot trust that it hears about changes, so it is
 * flushed and entries live only the short TTL; when the channel is back it is flushed again (messages sent in
 * between are lost for good) and the normal TTL returns.
 */
export class InvalidationBus {
  private state: ChannelState;
  private reconnects = 0;
  private flushes = 0;
  private everConnected = false;
  private heartbeat: NodeJS.Timeout | undefined;
  private pingSeq = 0;
  private lastPongAt = 0;
  private lastBeatAt = Date.now();
  private readonly heartbeatMs: number;

  constructor(private readonly options: InvalidationBusOptions) {
    this.heartbeatMs = options.heartbeatMs ?? 1_000;
    this.state = options.channel ? 'connecting' : 'local';
    // Until the channel is proven, a change on another node might go unheard.
    if (options.channel) options.cache.setDegraded(true);
  }

  async start(): Promise<void> {
    const channel = this.options.channel;
    if (!channel) return;
    await channel.start({
      message: (payload) => this.onMessage(payload),
      connected: () => this.onConnected(),
      disconnected: (reason) => this.onDisconnected(reason),
    });
    this.heartbeat = setInterval(() => this.beat(), this.heartbeatMs);
    this.heartbeat.unref();
  }

  async stop(): Promise<void> {
    clearInterval(this.heartbeat);
    await this.options.channel?.stop();
  }

  /**
   * Call once the change is committed. This node applies it at once — its very next request sees the change
   * whatever the channel's state — and every other node applies it when the message arrives.
   *
   * Not inside the transaction: `pg_notify` there would be delivered at commit, but this node's own cache must be
   * cleared after the commit too (a request that reloads the key in between would cache the old state), and
   * Redis has no transaction to wait for. The price is a process dying between commit and publish: the other
   * nodes then see the change when their entries expire (30 s at most).
   */
  async publish(em: EntityManager, invalidation: Invalidation): Promise<void> {
    if (em.isInTransaction()) {
      throw new Error(
        `publishInvalidation(${invalidation.cause}) was called inside a transaction: call it after commit`,
      );
    }
    this.apply(invalidation.targets);
    const channel = this.options.channel;
    if (!channel) return;
    const payload = encodeInvalidation(this.options.node, invalidation);
    try {
      await channel.publish(payload, em);
    } catch (error) {
      // The change is committed and applied here; other nodes fall back on their TTL (30 s at most). Loud,
      // because an operator should know a revocation may be late elsewhere.
      this.options.logger.error(
        { err: (error as Error).message, cause: invalidation.cause },
        'invalidation: could not publish; other nodes will see this change when their cache entries expire',
      );
    }
  }

  health(): InvalidationHealth {
    return {
      channel: this.options.channel?.kind ?? 'none',
      state: this.state,
      node: this.options.node,
      keyCacheTtlMs: this.options.cache.currentTtlMs,
      reconnects: this.reconnects,
      flushes: this.flushes,
    };
  }

  private apply(targets: readonly InvalidationTarget[]): void {
    const { cache } = this.options;
    for (const target of targets) {
      switch (target.kind) {
        case 'key':
          cache.invalidateKey(target.keyId);
          break;
        case 'user':
          cache.invalidateUser(target.userId);
          break;
        case 'rate-limits':
          this.refreshRateLimits();
          break;
        case 'everything':
          cache.clear();
          this.refreshRateLimits();
          break;
      }
    }
  }

  private refreshRateLimits(): void {
    this.options
      .refreshRateLimits?.()
      .catch((error: unknown) =>
        this.options.logger.warn({ err: error }, 'invalidation: could not re-read rate-limit overrides'),
      );
  }

  private onMessage(payload: string): void {
    const message = decodeMessage(payload);
    if (!message) {
      this.options.logger.warn(
        { bytes: payload.length },
        'invalidation: dropped a message that does not parse',
      );
      return;
    }
    if (message.type === 'ping') {
      if (message.node === this.options.node) this.lastPongAt = Date.now();
      return;
    }
    // Our own changes were applied when published.
    if (message.node === this.options.node) return;
    this.apply(message.targets);
  }

  private onConnected(): void {
    const { cache, logger } = this.options;
    // Whatever was published while we were not listening is lost: start from the database again.
    cache.clear();
    cache.setDegraded(false);
    if (this.everConnected) {
      this.reconnects++;
      this.flushes++;
      logger.info({ channel: this.options.channel?.kind }, 'invalidation: channel back, key cache flushed');
    }
    this.everConnected = true;
    this.state = 'connected';
    this.lastPongAt = Date.now();
  }

  private onDisconnected(reason: string): void {
    const { cache, logger } = this.options;
    if (this.state === 'degraded') return;
    this.state = 'degraded';
    // Entries loaded before the loss may already have missed a message: drop them, and keep new ones briefly.
    cache.setDegraded(true);
    cache.clear();
    this.flushes++;
    logger.warn(
      { channel: this.options.channel?.kind, reason, ttlMs: cache.currentTtlMs },
      'invalidation: channel lost; key cache flushed, serving with the short TTL until it is back',
    );
  }

  private beat(): void {
    const channel = this.options.channel;
    const now = Date.now();
    const stalled = now - this.lastBeatAt > 2 * this.heartbeatMs;
    this.lastBeatAt = now;
    if (!channel || this.state !== 'connected') return;
    // A late timer means our own event loop was stalled (a loaded machine): the pong may be waiting unread in the
    // socket, so start a fresh window instead of blaming the channel.
    if (stalled) this.lastPongAt = now;
    if (now - this.lastPongAt > MISSED_HEARTBEATS * this.heartbeatMs) {
      channel.reconnect('heartbeat lost');
      return;
    }
    channel.ping(encodePing(this.options.node, this.pingSeq++)).catch((error: unknown) => {
      this.options.logger.debug({ err: (error as Error).message }, 'invalidation: heartbeat failed');
    });
  }
}

/**
 * The one call a service makes after committing a change that affects verification (see
 * `INVALIDATION_CAUSES`): e.g. `await publishInvalidation(deps, em, { cause: 'key.revoked', targets: [{ kind:
 * 'key', keyId }] })`.
 */
export function publishInvalidation(
  deps: { invalidation: InvalidationBus },
  em: EntityManager,
  invalidation: Invalidation,
): Promise<void> {
  return deps.invalidation.publish(em, invalidation);
}
