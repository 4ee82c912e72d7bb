import {
  DomainError,
  dailyTotals,
  emptyCounts,
  HOUR_MS,
  RECENT_IPS_MAX,
  type UsageCounts,
  usageRange,
} from '@crowdee/core';
import { ApiKey } from '@crowdee/db';
import type { EntityManager } from '@mikro-orm/postgresql';
import { sqlDate } from './sql.ts';

export interface UsageHour extends UsageCounts {
  hour: string;
}

export interface UsageReport {
  from: string;
  to: string;
  /** Hours with at least one request, oldest first (hours without any are left out). */
  hours: UsageHour[];
  totals: UsageCounts;
}

interface HourRow {
  hour: Date | string;
  ok: number;
  client_error: number;
  rate_limited: number;
  server_error: number;
}

/** A range from the caller's optional ISO dates, checked by packages/core (400 with the reason otherwise). */
export function rangeOf(input: { from?: string | undefined; to?: string | undefined }, now: Date) {
  const range = usageRange(
    {
      from: input.from === undefined ? undefined : new Date(input.from),
      to: input.to === undefined ? undefined : new Date(input.to),
    },
    now,
  );
  if (!range.ok)
    throw new DomainError('VALIDATION_FAILED', range.message, {
      fieldErrors: [{ path: 'from', message: range.message }],
    });
  return range;
}

/**
 * Hourly counts of one subject over a range, as flushed so far (this node's last few seconds of counting are
 * not in yet: at most one flush interval behind).
 */
export async function usageReport(
  em: EntityManager,
  subject: { kind: 'key' | 'org'; id: string },
  range: { from: Date; to: Date },
): Promise<UsageReport> {
  const rows = await em.getConnection().execute<HourRow[]>(
    `select hour, ok, client_error, rate_limited, server_error from usage_hourly
        where subject_kind = ? and subject_id = ? and hour >= ? and hour < ?
        order by hour`,
    [subject.kind, subject.id, range.from, range.to],
  );
  const totals = emptyCounts();
  const hours = rows.map((r) => {
    const h: UsageHour = {
      hour: sqlDate(r.hour).toISOString(),
      ok: r.ok,
      clientError: r.client_error,
      rateLimited: r.rate_limited,
      serverError: r.server_error,
    };
    totals.ok += h.ok;
    totals.clientError += h.clientError;
    totals.rateLimited += h.rateLimited;
    totals.serverError += h.serverError;
    return h;
  });
  return { from: range.from.toISOString(), to: range.to.toISOString(), hours, totals };
}

export interface RecentIpView {
  ip: string;
  lastSeenAt: string;
}

export async function recentIps(em: EntityManager, keyId: string): Promise<RecentIpView[]> {
  const rows = await em
    .getConnection()
    .execute<{ ip: string; last_seen_at: Date | string }[]>(
      'select ip, last_seen_at from api_key_recent_ips where api_key_id = ? order by last_seen_at desc, ip limit ?',
      [keyId, RECENT_IPS_MAX],
    );
  return rows.map((r) => ({ ip: r.ip, lastSeenAt: sqlDate(r.last_seen_at).toISOString() }));
}

const SPARKLINE_DAYS = 7;

/**
 * Requests per day over the last 7 days for each of a user's keys (the sparklines of Settings → API Keys), in one
 * statement. Keys the user does not own are never read.
 */
export async function keySparklines(
  em: EntityManager,
  userId: string,
  now: Date,
): Promise<{ keyId: string; days: number[] }[]> {
  const to = new Date(Math.ceil(now.getTime() / HOUR_MS) * HOUR_MS);
  const from = new Date(
    Math.floor(now.getTime() / 86_400_000) * 86_400_000 - (SPARKLINE_DAYS - 1) * 86_400_000,
  );
  const rows = await em.getConnection().execute<(HourRow & { subject_id: string })[]>(
    `select u.subject_id, u.hour, u.ok, u.client_error, u.rate_limited, u.server_error
       from usage_hourly u
       join api_keys k on k.id = u.subject_id
      where u.subject_kind = 'key' and k.creator_id = ? and u.hour >= ? and u.hour < ?`,
    [userId, from, to],
  );
  const byKey = new Map<string, { hour: number; counts: UsageCounts }[]>();
  for (const r of rows) {
    const list = byKey.get(r.subject_id) ?? [];
    list.push({
      hour: sqlDate(r.hour).getTime(),
      counts: {
        ok: r.ok,
        clientError: r.client_error,
        rateLimited: r.rate_limited,
        serverError: r.server_error,
      },
    });
    byKey.set(r.subject_id, list);
  }
  return [...byKey].map(([keyId, list]) => ({
    keyId,
    days: dailyTotals(list, from, to).map(
      (d) => d.counts.ok + d.counts.clientError + d.counts.rateLimited + d.counts.serverError,
    ),
  }));
}

/** One of the user's own keys: its hours and last addresses. Someone else's key answers exactly like a missing one. */
export async function ownKeyUsage(
  em: EntityManager,
  userId: string,
  keyId: string,
  range: { from: Date; to: Date },
): Promise<UsageReport & { recentIps: RecentIpView[] }> {
  const key = await em.findOne(ApiKey, { id: keyId, creator: userId }, { fields: ['id'] });
  if (!key) throw new DomainError('NOT_FOUND', 'API key not found.');
  return {
    ...(await usageReport(em, { kind: 'key', id: key.id }, range)),
    recentIps: await recentIps(em, key.id),
  };
}
