import {
  RECENT_IPS_MAX,
  type RecentIp,
  type UsageRow,
  type UsageSubject,
  UsageTally,
  usageOutcome,
  usageRetentionCutoff,
} from '@crowdee/core';
import type { Orm } from '@crowdee/db';
import type { Logger } from '../logger.ts';

/** How often the prune of rows past the retention runs (on the flush timer, never on a request). */
const PRUNE_EVERY_MS = 3_600_000;

/**
 * One statement per flush: adds this node's counts to the hourly rows (so several nodes flushing into the same
 * hour add up), records the keys' latest addresses, and trims each key touched to its newest few addresses as of
 * before this flush (so a key keeps at most 2 × RECENT_IPS_MAX rows; reads take the newest RECENT_IPS_MAX). Rows are
 * sent as one JSON parameter and applied in key order, so two nodes flushing at once lock rows in the same order.
 */
const FLUSH_SQL = `
  with counts as (
    insert into usage_hourly as u (subject_kind, subject_id, hour, ok, client_error, rate_limited, server_error)
    select kind, id, hour, ok, client_error, rate_limited, server_error
      from json_to_recordset(?::json)
        as r(kind text, id uuid, hour timestamptz, ok int, client_error int, rate_limited int, server_error int)
     order by kind, id, hour
    on conflict (subject_kind, subject_id, hour) do update
       set ok = u.ok + excluded.ok,
           client_error = u.client_error + excluded.client_error,
           rate_limited = u.rate_limited + excluded.rate_limited,
           server_error = u.server_error + excluded.server_error
    returning 1
  ), seen as (
    insert into api_key_recent_ips as s (api_key_id, ip, last_seen_at)
    select key_id, ip, at from json_to_recordset(?::json) as r(key_id uuid, ip text, at timestamptz)
     order by key_id, ip
    on conflict (api_key_id, ip) do update set last_seen_at = greatest(s.last_seen_at, excluded.last_seen_at)
    returning 1
  ), trimmed as (
    delete from api_key_recent_ips d
     using (select api_key_id, ip,
                   row_number() over (partition by api_key_id order by last_seen_at desc, ip) as n
              from api_key_recent_ips
             where api_key_id in (select (value #>> '{}')::uuid from json_array_elements(?::json))) old
     where d.api_key_id = old.api_key_id and d.ip = old.ip and old.n > ${RECENT_IPS_MAX}
    returning 1
  )
  select (select count(*) from counts)::int as rows`;

export interface UsageRecorderOptions {
  orm: Orm;
  logger: Logger;
  clock: () => Date;
  /** False = nothing is counted (USAGE_COUNTING=off, benchmarks only). */
  enabled: boolean;
  flushMs: number;
}

export interface UsageHealth {
  enabled: boolean;
  flushes: number;
  failedFlushes: number;
  pending: number;
}

/**
 * Usage counting for this process: requests are tallied in memory (no I/O on the request path) and written by
 * `flush`, on a timer and once more at graceful shutdown. A crash loses at most what was counted since the last
 * flush (one interval); a failed flush keeps its counts for the next one.
 */
export class UsageRecorder {
  private readonly tally = new UsageTally();
  private timer: NodeJS.Timeout | undefined;
  private flushing: Promise<void> = Promise.resolve();
  private lastPruneAt = 0;
  private flushes = 0;
  private failedFlushes = 0;

  constructor(private readonly options: UsageRecorderOptions) {}

  get enabled(): boolean {
    return this.options.enabled;
  }

  /** Called once per answered request (its status known). Costs a few map operations. */
  record(subjects: readonly UsageSubject[], status: number, ip: string | null): void {
    if (!this.options.enabled || subjects.length === 0) return;
    this.tally.record(subjects, this.options.clock().getTime(), usageOutcome(status), ip);
  }

  start(): void {
    if (!this.options.enabled || this.timer) return;
    this.timer = setInterval(() => {
      void this.flush().then(() => this.pruneIfDue());
    }, this.options.flushMs);
    this.timer.unref();
  }

  /** Stops the timer and writes what is left: the graceful-shutdown flush. */
  async stop(): Promise<void> {
    clearInterval(this.timer);
    this.timer = undefined;
    await this.flush();
  }

  /** Writes everything counted so far. Flushes never overlap: a second call waits for the first, then writes. */
  flush(): Promise<void> {
    this.flushing = this.flushing.then(() => this.write());
    return this.flushing;
  }

  private async write(): Promise<void> {
    if (this.tally.pending === 0) return;
    const drained = this.tally.drain();
    try {
      await this.options.orm.em
        .getConnection()
        .execute(FLUSH_SQL, [
          JSON.stringify(drained.rows.map(toRecord)),
          JSON.stringify(ipRecords(drained.ips)),
          JSON.stringify([...drained.ips.keys()]),
        ]);
      this.flushes++;
    } catch (error) {
      this.failedFlushes++;
      this.tally.restore(drained);
      this.options.logger.warn(
        { err: error },
        'usage: could not write the counts; they are kept for the next flush',
      );
    }
  }

  /** Deletes hourly rows and recent addresses past the 90-day retention. */
  async prune(): Promise<number> {
    const cutoff = usageRetentionCutoff(this.options.clock());
    const conn = this.options.orm.em.getConnection();
    const deleted = await conn.execute<{ n: number }[]>(
      `with gone as (delete from usage_hourly where hour < ? returning 1),
            ips as (delete from api_key_recent_ips where last_seen_at < ? returning 1)
       select (select count(*) from gone)::int as n`,
      [cutoff, cutoff],
    );
    return deleted[0]?.n ?? 0;
  }

  private async pruneIfDue(): Promise<void> {
    const now = this.options.clock().getTime();
    if (now - this.lastPruneAt < PRUNE_EVERY_MS) return;
    this.lastPruneAt = now;
    await this.prune().catch((error: unknown) =>
      this.options.logger.warn({ err: error }, 'usage: could not prune old rows'),
    );
  }

  health(): UsageHealth {
    return {
      enabled: this.options.enabled,
      flushes: this.flushes,
      failedFlushes: this.failedFlushes,
      pending: this.tally.pending,
    };
  }
}

function toRecord(row: UsageRow) {
  return {
    kind: row.subject.kind,
    id: row.subject.id,
    hour: new Date(row.hour).toISOString(),
    ok: row.ok,
    client_error: row.clientError,
    rate_limited: row.rateLimited,
    server_error: row.serverError,
  };
}

function ipRecords(ips: Map<string, RecentIp[]>) {
  const records: { key_id: string; ip: string; at: string }[] = [];
  for (const [keyId, list] of ips)
    for (const { ip, lastSeenAt } of list)
      records.push({ key_id: keyId, ip: ip.slice(0, 64), at: new Date(lastSeenAt).toISOString() });
  return records;
}
