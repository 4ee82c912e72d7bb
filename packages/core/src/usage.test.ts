import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  canDecide,
  checkLimitRequest,
  dailyTotals,
  HOUR_MS,
  hourStart,
  mergeRecentIps,
  RECENT_IPS_MAX,
  totalOf,
  USAGE_OUTCOMES,
  type UsageOutcome,
  UsageTally,
  usageOutcome,
  usageRange,
  usageRetentionCutoff,
} from './usage.ts';

const DAY = 86_400_000;
const now = new Date('2026-12-05T10:30:00Z');

describe('usageOutcome', () => {
  it('puts 429 apart from the other client errors', () => {
    expect(usageOutcome(200)).toBe('ok');
    expect(usageOutcome(201)).toBe('ok');
    expect(usageOutcome(304)).toBe('ok');
    expect(usageOutcome(400)).toBe('clientError');
    expect(usageOutcome(404)).toBe('clientError');
    expect(usageOutcome(429)).toBe('rateLimited');
    expect(usageOutcome(500)).toBe('serverError');
    expect(usageOutcome(503)).toBe('serverError');
  });
});

describe('UsageTally', () => {
  const key = { kind: 'key' as const, id: 'k1' };
  const org = { kind: 'org' as const, id: 'o1' };

  it('counts per subject, hour and outcome', () => {
    const tally = new UsageTally();
    const t = now.getTime();
    tally.record([key, org], t, 'ok', '10.0.0.1');
    tally.record([key], t + 1000, 'rateLimited', '10.0.0.2');
    tally.record([key], t + HOUR_MS, 'ok', null);
    const { rows, ips } = tally.drain();
    expect(rows).toHaveLength(3);
    const keyThisHour = rows.find((r) => r.subject.kind === 'key' && r.hour === hourStart(t));
    expect(keyThisHour).toMatchObject({ ok: 1, rateLimited: 1, clientError: 0, serverError: 0 });
    expect(ips.get('k1')?.map((i) => i.ip)).toEqual(['10.0.0.1', '10.0.0.2']);
    expect(tally.drain().rows).toHaveLength(0);
  });

  it('keeps at most RECENT_IPS_MAX addresses per key between flushes', () => {
    const tally = new UsageTally();
    for (let i = 0; i < 50; i++) tally.record([key], now.getTime() + i, 'ok', `10.0.0.${i}`);
    const list = tally.drain().ips.get('k1') ?? [];
    expect(list).toHaveLength(RECENT_IPS_MAX);
    expect(list.map((i) => i.ip)).toContain('10.0.0.49');
    expect(list.map((i) => i.ip)).not.toContain('10.0.0.0');
  });

  const event = fc.record({
    subject: fc.constantFrom('a', 'b', 'c'),
    offset: fc.integer({ min: 0, max: 5 * HOUR_MS }),
    outcome: fc.constantFrom<UsageOutcome>(...USAGE_OUTCOMES),
    failAfter: fc.boolean(),
  });

  it('property: every recorded request is written exactly once, whatever drains fail and are restored', () => {
    fc.assert(
      fc.property(fc.array(event, { maxLength: 200 }), (events) => {
        const tally = new UsageTally();
        const written: number[] = [];
        for (const e of events) {
          tally.record([{ kind: 'key', id: e.subject }], now.getTime() + e.offset, e.outcome, null);
          const drained = tally.drain();
          // A failed write puts its rows back; a successful one "writes" them.
          if (e.failAfter) tally.restore(drained);
          else for (const row of drained.rows) written.push(totalOf(row));
        }
        for (const row of tally.drain().rows) written.push(totalOf(row));
        expect(written.reduce((a, b) => a + b, 0)).toBe(events.length);
      }),
    );
  });
});

describe('mergeRecentIps', () => {
  it('keeps the newest distinct addresses, newest first', () => {
    const merged = mergeRecentIps(
      [
        { ip: 'a', lastSeenAt: 1 },
        { ip: 'b', lastSeenAt: 5 },
      ],
      [
        { ip: 'a', lastSeenAt: 9 },
        { ip: 'c', lastSeenAt: 3 },
      ],
      2,
    );
    expect(merged).toEqual([
      { ip: 'a', lastSeenAt: 9 },
      { ip: 'b', lastSeenAt: 5 },
    ]);
  });

  it('property: bounded, distinct, and holds the newest time seen for each address kept', () => {
    const seen = fc.array(
      fc.record({ ip: fc.constantFrom('a', 'b', 'c', 'd', 'e'), lastSeenAt: fc.nat(1000) }),
    );
    fc.assert(
      fc.property(seen, seen, fc.integer({ min: 1, max: 4 }), (existing, incoming, max) => {
        const merged = mergeRecentIps(existing, incoming, max);
        expect(merged.length).toBeLessThanOrEqual(max);
        expect(new Set(merged.map((m) => m.ip)).size).toBe(merged.length);
        for (const m of merged) {
          const newest = Math.max(
            ...[...existing, ...incoming].filter((x) => x.ip === m.ip).map((x) => x.lastSeenAt),
          );
          expect(m.lastSeenAt).toBe(newest);
        }
      }),
    );
  });
});

describe('usageRange', () => {
  it('defaults to the last 30 days', () => {
    const range = usageRange({}, now);
    expect(range.ok && range.to.getTime()).toBe(now.getTime());
    expect(range.ok && range.from.getTime()).toBe(hourStart(now.getTime() - 30 * DAY));
  });

  it('refuses a reversed, overlong or too old range', () => {
    expect(usageRange({ from: now, to: new Date(now.getTime() - 1) }, now).ok).toBe(false);
    expect(usageRange({ from: new Date(now.getTime() - 91 * DAY) }, now).ok).toBe(false);
    expect(
      usageRange({ from: new Date(now.getTime() - 200 * DAY), to: new Date(now.getTime() - 150 * DAY) }, now)
        .ok,
    ).toBe(false);
    expect(usageRange({ from: new Date(now.getTime() - 90 * DAY) }, now).ok).toBe(true);
  });

  it('prunes at whole hours 90 days back', () => {
    expect(usageRetentionCutoff(now).toISOString()).toBe('2026-09-06T10:00:00.000Z');
  });
});

describe('dailyTotals', () => {
  it('gives one entry per day, zeros included', () => {
    const from = new Date('2026-12-01T00:00:00Z');
    const to = new Date('2026-12-04T00:00:00Z');
    const days = dailyTotals(
      [
        {
          hour: Date.parse('2026-12-02T05:00:00Z'),
          counts: { ok: 2, clientError: 1, rateLimited: 0, serverError: 0 },
        },
        {
          hour: Date.parse('2026-12-02T07:00:00Z'),
          counts: { ok: 1, clientError: 0, rateLimited: 3, serverError: 0 },
        },
      ],
      from,
      to,
    );
    expect(days.map((d) => totalOf(d.counts))).toEqual([0, 7, 0]);
  });
});

describe('limit requests', () => {
  const valid = {
    quota: 5000,
    windowSeconds: 60,
    justification: 'Nightly sync of 40k projects',
    until: null,
  };

  it('accepts a sensible request and refuses bad fields by name', () => {
    expect(checkLimitRequest(valid, now)).toEqual({ ok: true });
    expect(checkLimitRequest({ ...valid, quota: 0 }, now)).toMatchObject({ ok: false, field: 'quota' });
    expect(checkLimitRequest({ ...valid, windowSeconds: 100_000 }, now)).toMatchObject({ field: 'quota' });
    expect(checkLimitRequest({ ...valid, justification: 'pls' }, now)).toMatchObject({
      field: 'justification',
    });
    expect(checkLimitRequest({ ...valid, until: new Date(now.getTime() - 1) }, now)).toMatchObject({
      field: 'until',
    });
    expect(checkLimitRequest({ ...valid, until: new Date(now.getTime() + 400 * DAY) }, now)).toMatchObject({
      field: 'until',
    });
  });

  it('is decided once', () => {
    expect(canDecide('pending')).toBe(true);
    expect(canDecide('approved')).toBe(false);
    expect(canDecide('denied')).toBe(false);
  });
});
