import type { UsageCounts } from '@crowdee/core/usage';

/** A budget of `quota` per `windowSeconds`, as requests per hour: what an hourly count is held against. */
export function perHour(limit: { quota: number; windowSeconds: number }): number {
  return Math.floor((limit.quota * 3600) / limit.windowSeconds);
}

export function describeRate(limit: { quota: number; windowSeconds: number }): string {
  const w = limit.windowSeconds;
  const window =
    w === 1
      ? 'second'
      : w === 60
        ? 'minute'
        : w === 3600
          ? 'hour'
          : w % 60 === 0
            ? `${w / 60} minutes`
            : `${w} s`;
  return `${limit.quota.toLocaleString('en')} requests per ${window}`;
}

/** The busiest hour of a report and its total. */
export function busiestHour(
  hours: (UsageCounts & { hour: string })[],
): { hour: string; total: number } | null {
  let best: { hour: string; total: number } | null = null;
  for (const h of hours) {
    const total = h.ok + h.clientError + h.rateLimited + h.serverError;
    if (!best || total > best.total) best = { hour: h.hour, total };
  }
  return best;
}
