import { validQuota } from './rate-limit.ts';

/**
 * Usage you can see: requests per hour by outcome, per key and per organization. The counting itself is pure
 * (a tally that a process fills in memory and drains on a timer); the apps only decide when to drain and write.
 */
export const USAGE_OUTCOMES = ['ok', 'clientError', 'rateLimited', 'serverError'] as const;
export type UsageOutcome = (typeof USAGE_OUTCOMES)[number];

export const HOUR_MS = 3_600_000;
const DAY_MS = 86_400_000;
/** Hourly rows older than this are pruned. */
export const USAGE_RETENTION_DAYS = 90;
/** What `GET /api/v1/keys/current/usage` and the charts show when no range is given. */
export const USAGE_DEFAULT_RANGE_DAYS = 30;
/** How many distinct recent client addresses are kept per key. */
export const RECENT_IPS_MAX = 10;

/** 429 is counted apart from other 4xx; 1xx and 3xx count as answered (`ok`); 5xx are the server's faults. */
export function usageOutcome(status: number): UsageOutcome {
  if (status === 429) return 'rateLimited';
  if (status >= 500) return 'serverError';
  if (status >= 400) return 'clientError';
  return 'ok';
}

/** The start of the UTC hour holding `at`, in ms. */
export function hourStart(at: number): number {
  return Math.floor(at / HOUR_MS) * HOUR_MS;
}

export type UsageSubject = { kind: 'key'; id: string } | { kind: 'org'; id: string };

export interface UsageCounts {
  ok: number;
  clientError: number;
  rateLimited: number;
  serverError: number;
}

export interface UsageRow extends UsageCounts {
  subject: UsageSubject;
  /** Start of the hour, ms since the epoch. */
  hour: number;
}

export const emptyCounts = (): UsageCounts => ({ ok: 0, clientError: 0, rateLimited: 0, serverError: 0 });

export function totalOf(counts: UsageCounts): number {
  return counts.ok + counts.clientError + counts.rateLimited + counts.serverError;
}

export interface RecentIp {
  ip: string;
  lastSeenAt: number;
}

/**
 * Counts requests in memory between flushes. `record` is all a request costs: one map lookup per subject. `drain`
 * hands back everything counted since the last drain and starts afresh, so a failed write can be `restore`d and
 * merged into the next one (counts add up; nothing is counted twice).
 */
export class UsageTally {
  private rows = new Map<string, UsageRow>();
  private ips = new Map<string, Map<string, number>>();

  get pending(): number {
    return this.rows.size;
  }

  record(subjects: readonly UsageSubject[], at: number, outcome: UsageOutcome, ip: string | null): void {
    const hour = hourStart(at);
    for (const subject of subjects) {
      const id = `${subject.kind}:${subject.id}:${hour}`;
      let row = this.rows.get(id);
      if (!row) {
        row = { subject, hour, ...emptyCounts() };
        this.rows.set(id, row);
      }
      row[outcome] += 1;
      if (ip !== null && subject.kind === 'key') this.seen(subject.id, ip, at);
    }
  }

  private seen(keyId: string, ip: string, at: number): void {
    let byIp = this.ips.get(keyId);
    if (!byIp) {
      byIp = new Map();
      this.ips.set(keyId, byIp);
    }
    // Bounded between flushes too: a key called from thousands of addresses keeps only its latest few.
    byIp.delete(ip);
    byIp.set(ip, at);
    if (byIp.size > RECENT_IPS_MAX) {
      const oldest = byIp.keys().next().value;
      if (oldest !== undefined) byIp.delete(oldest);
    }
  }

  drain(): { rows: UsageRow[]; ips: Map<string, RecentIp[]> } {
    const rows = [...this.rows.values()];
    const ips = new Map<string, RecentIp[]>();
    for (const [keyId, byIp] of this.ips)
      ips.set(
        keyId,
        [...byIp].map(([ip, lastSeenAt]) => ({ ip, lastSeenAt })),
      );
    this.rows = new Map();
    this.ips = new Map();
    return { rows, ips };
  }

  /** Puts back what a failed write drained, adding to whatever was counted meanwhile. */
  restore(drained: { rows: UsageRow[]; ips: Map<string, RecentIp[]> }): void {
    for (const row of drained.rows) {
      const id = `${row.subject.kind}:${row.subject.id}:${row.hour}`;
      const existing = this.rows.get(id);
      if (!existing) this.rows.set(id, { ...row });
      else for (const outcome of USAGE_OUTCOMES) existing[outcome] += row[outcome];
    }
    for (const [keyId, list] of drained.ips) {
      for (const { ip, lastSeenAt } of list) {
        const current = this.ips.get(keyId)?.get(ip);
        if (current === undefined || current < lastSeenAt) this.seen(keyId, ip, lastSeenAt);
      }
    }
  }
}

/** Keeps the `max` most recently seen distinct addresses, newest first. */
export function mergeRecentIps(
  existing: readonly RecentIp[],
  incoming: readonly RecentIp[],
  max = RECENT_IPS_MAX,
): RecentIp[] {
  const latest = new Map<string, number>();
  for (const { ip, lastSeenAt } of [...existing, ...incoming]) {
    const seen = latest.get(ip);
    if (seen === undefined || seen < lastSeenAt) latest.set(ip, lastSeenAt);
  }
  return [...latest]
    .map(([ip, lastSeenAt]) => ({ ip, lastSeenAt }))
    .sort((a, b) => b.lastSeenAt - a.lastSeenAt || (a.ip < b.ip ? -1 : 1))
    .slice(0, max);
}

export type UsageRangeResult =
  | { ok: true; from: Date; to: Date }
  | { ok: false; code: 'VALIDATION_FAILED'; message: string };

/**
 * The hours a usage query covers: default the last 30 days up to now; `from` before `to`, no further back than
 * the retention (older rows are gone), and at most the retention long. Both ends are rounded out to whole hours.
 */
export function usageRange(
  input: { from?: Date | undefined; to?: Date | undefined },
  now: Date,
): UsageRangeResult {
  const to = input.to ?? now;
  const from = input.from ?? new Date(to.getTime() - USAGE_DEFAULT_RANGE_DAYS * DAY_MS);
  if (Number.isNaN(from.getTime()) || Number.isNaN(to.getTime()))
    return { ok: false, code: 'VALIDATION_FAILED', message: 'from and to must be dates.' };
  if (from.getTime() >= to.getTime())
    return { ok: false, code: 'VALIDATION_FAILED', message: '`from` must be before `to`.' };
  if (to.getTime() - from.getTime() > USAGE_RETENTION_DAYS * DAY_MS)
    return {
      ok: false,
      code: 'VALIDATION_FAILED',
      message: `A range covers at most ${USAGE_RETENTION_DAYS} days.`,
    };
  if (from.getTime() < now.getTime() - (USAGE_RETENTION_DAYS + 1) * DAY_MS)
    return {
      ok: false,
      code: 'VALIDATION_FAILED',
      message: `Usage is kept ${USAGE_RETENTION_DAYS} days: \`from\` is too far back.`,
    };
  return { ok: true, from: new Date(hourStart(from.getTime())), to: new Date(to.getTime()) };
}

/** The oldest hour that survives a prune at `now`. */
export function usageRetentionCutoff(now: Date): Date {
  return new Date(hourStart(now.getTime() - USAGE_RETENTION_DAYS * DAY_MS));
}

/** Folds hourly rows into days (UTC), oldest first, with an entry for every day of the range (zeros included). */
export function dailyTotals(
  rows: readonly { hour: number; counts: UsageCounts }[],
  from: Date,
  to: Date,
): { day: number; counts: UsageCounts }[] {
  const first = Math.floor(from.getTime() / DAY_MS) * DAY_MS;
  const days: { day: number; counts: UsageCounts }[] = [];
  for (let day = first; day < to.getTime(); day += DAY_MS) days.push({ day, counts: emptyCounts() });
  for (const row of rows) {
    const slot = days[Math.floor((row.hour - first) / DAY_MS)];
    if (!slot) continue;
    for (const outcome of USAGE_OUTCOMES) slot.counts[outcome] += row.counts[outcome];
  }
  return days;
}

/* ------------------------------------------------------------------------------------------- limit requests */

export const LIMIT_REQUEST_STATUSES = ['pending', 'approved', 'denied'] as const;
export type LimitRequestStatus = (typeof LIMIT_REQUEST_STATUSES)[number];

export interface LimitRequestInput {
  quota: number;
  windowSeconds: number;
  justification: string;
  until: Date | null;
}

export type LimitRequestCheck =
  | { ok: true }
  | { ok: false; code: 'VALIDATION_FAILED'; message: string; field: keyof LimitRequestInput };

/** Longest an approved higher limit may run before someone has to ask again. */
export const LIMIT_REQUEST_MAX_DAYS = 366;

/**
 * What an organization may ask for: a valid quota and window (the same bounds an operator override has), a
 * justification an operator can judge, and an end date in the future (at most a year ahead), or none.
 */
export function checkLimitRequest(input: LimitRequestInput, now: Date): LimitRequestCheck {
  if (!validQuota(input.quota, input.windowSeconds))
    return {
      ok: false,
      code: 'VALIDATION_FAILED',
      field: 'quota',
      message: 'Quota must be 1–1,000,000 per a window of 1 s to 24 h.',
    };
  if (input.justification.trim().length < 10)
    return {
      ok: false,
      code: 'VALIDATION_FAILED',
      field: 'justification',
      message: 'Say what the workload is and why it needs more (at least 10 characters).',
    };
  if (input.until) {
    const ahead = input.until.getTime() - now.getTime();
    if (ahead <= 0)
      return {
        ok: false,
        code: 'VALIDATION_FAILED',
        field: 'until',
        message: 'Until must be in the future.',
      };
    if (ahead > LIMIT_REQUEST_MAX_DAYS * DAY_MS)
      return {
        ok: false,
        code: 'VALIDATION_FAILED',
        field: 'until',
        message: `Until may be at most ${LIMIT_REQUEST_MAX_DAYS} days ahead.`,
      };
  }
  return { ok: true };
}

/** Only a pending request is decided, once: approving or denying twice (two operators at once) is a conflict. */
export function canDecide(status: LimitRequestStatus): boolean {
  return status === 'pending';
}
