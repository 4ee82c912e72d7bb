import type { EntityManager } from '@mikro-orm/postgresql';
import pg from 'pg';
import type { Logger } from '../logger.ts';
import type { ChannelHandlers, InvalidationChannel } from './channel.ts';

/** The PostgreSQL channel name; NOTIFY channels are per database, so environments never hear each other. */
export const PG_CHANNEL = 'crowdee_invalidation';
/** How the listener shows up in `pg_stat_activity` (operators, and the test that cuts it, find it by this). */
export const LISTENER_APPLICATION_NAME = 'crowdee-invalidation-listener';

/**
 * LISTEN/NOTIFY on a dedicated connection, not one borrowed from the ORM's pool: a LISTEN lives as long as its
 * session, and a pooled connection would be handed to other requests (and recycled) under it.
 * Publishing goes through the service's own connection with `pg_notify`: called after commit it is sent at once;
 * called inside a transaction PostgreSQL holds it until that transaction commits (and drops it on rollback).
 */
export class PostgresChannel implements InvalidationChannel {
  readonly kind = 'postgres' as const;
  private client: pg.Client | undefined;
  private handlers: ChannelHandlers | undefined;
  private stopped = false;
  private attempt = 0;
  private retryTimer: NodeJS.Timeout | undefined;

  constructor(
    private readonly url: string,
    private readonly logger: Logger,
  ) {}

  async start(handlers: ChannelHandlers): Promise<void> {
    this.handlers = handlers;
    await this.connect();
  }

  async publish(payload: string, em: EntityManager): Promise<void> {
    await em.getConnection().execute('select pg_notify(?, ?)', [PG_CHANNEL, payload]);
  }

  async ping(payload: string): Promise<void> {
    const client = this.client;
    if (!client) throw new Error('not connected');
    await client.query('select pg_notify($1, $2)', [PG_CHANNEL, payload]);
  }

  reconnect(reason: string): void {
    const client = this.client;
    if (!client) return;
    this.lost(client, reason);
    client.end().catch(() => {});
  }

  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.retryTimer);
    const client = this.client;
    this.client = undefined;
    await client?.end().catch(() => {});
  }

  private async connect(): Promise<void> {
    if (this.stopped) return;
    const client = new pg.Client({
      connectionString: this.url,
      application_name: LISTENER_APPLICATION_NAME,
      keepAlive: true,
      connectionTimeoutMillis: 5_000,
    });
    client.on('notification', (n) => {
      if (n.channel === PG_CHANNEL && n.payload !== undefined) this.handlers?.message(n.payload);
    });
    client.on('error', (error: Error) => this.lost(client, error.message));
    client.on('end', () => this.lost(client, 'connection closed'));
    try {
      await client.connect();
      await client.query(`listen ${PG_CHANNEL}`);
    } catch (error) {
      client.end().catch(() => {});
      this.logger.warn({ err: (error as Error).message }, 'invalidation: could not listen on PostgreSQL');
      this.scheduleRetry();
      return;
    }
    if (this.stopped) {
      await client.end().catch(() => {});
      return;
    }
    this.client = client;
    this.attempt = 0;
    this.handlers?.connected();
  }

  private lost(client: pg.Client, reason: string): void {
    if (this.client !== client) return;
    this.client = undefined;
    this.handlers?.disconnected(reason);
    this.scheduleRetry();
  }

  private scheduleRetry(): void {
    if (this.stopped) return;
    clearTimeout(this.retryTimer);
    // Quick first retries (a terminated backend is back in milliseconds), capped at 2 s while the server is down.
    const delay = Math.min(50 * 2 ** this.attempt, 2_000);
    this.attempt++;
    this.retryTimer = setTimeout(() => void this.connect(), delay);
    this.retryTimer.unref();
  }
}
