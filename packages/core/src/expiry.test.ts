import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  allowedLifetimes,
  DEFAULT_KEY_POLICY,
  isKeyStale,
  KEY_MIN_LIFETIME_MS,
  keyStatus,
  resolveKeyExpiry,
  rotatedKeyEnd,
  rotatedKeyExpiry,
  strictestPolicy,
} from './expiry.ts';

const now = new Date('2026-06-01T12:00:00Z');
const DAY = 86_400_000;

describe('resolveKeyExpiry', () => {
  it('turns days and dates into an expiry, and "never" into null', () => {
    expect(resolveKeyExpiry({ expiresInDays: 30 }, now, DEFAULT_KEY_POLICY)).toEqual({
      ok: true,
      expiresAt: new Date(now.getTime() + 30 * DAY),
    });
    const at = new Date(now.getTime() + 2 * DAY);
    expect(resolveKeyExpiry({ expiresAt: at }, now, DEFAULT_KEY_POLICY)).toEqual({ ok: true, expiresAt: at });
    expect(resolveKeyExpiry({ never: true }, now, DEFAULT_KEY_POLICY)).toEqual({ ok: true, expiresAt: null });
  });

  it('rejects dates in the past or too soon, and silly day counts', () => {
    expect(
      resolveKeyExpiry({ expiresAt: new Date(now.getTime() - 1) }, now, DEFAULT_KEY_POLICY),
    ).toMatchObject({
      ok: false,
      code: 'VALIDATION_FAILED',
    });
    expect(
      resolveKeyExpiry(
        { expiresAt: new Date(now.getTime() + KEY_MIN_LIFETIME_MS - 1) },
        now,
        DEFAULT_KEY_POLICY,
      ),
    ).toMatchObject({ ok: false });
    for (const days of [0, -1, 1.5, 3651, Number.NaN]) {
      expect(resolveKeyExpiry({ expiresInDays: days }, now, DEFAULT_KEY_POLICY)).toMatchObject({ ok: false });
    }
  });

  it('enforces the organization policy', () => {
    const policy = { requireExpiry: true, maxLifetimeDays: 90 };
    expect(resolveKeyExpiry({ never: true }, now, policy)).toMatchObject({
      ok: false,
      code: 'KEY_POLICY_VIOLATION',
    });
    expect(resolveKeyExpiry({ expiresInDays: 91 }, now, policy)).toMatchObject({
      code: 'KEY_POLICY_VIOLATION',
    });
    expect(resolveKeyExpiry({ expiresInDays: 90 }, now, policy)).toMatchObject({ ok: true });
  });

  it('property: an accepted expiry always satisfies the policy', () => {
    fc.assert(
      fc.property(
        fc.record({
          requireExpiry: fc.boolean(),
          maxLifetimeDays: fc.option(fc.integer({ min: 1, max: 400 }), { nil: null }),
        }),
        fc.oneof(
          fc.record({ expiresInDays: fc.integer({ min: -5, max: 4000 }) }),
          fc.record({ never: fc.constant(true as const) }),
          fc.record({
            expiresAt: fc.integer({ min: -10, max: 500 }).map((d) => new Date(now.getTime() + d * DAY)),
          }),
        ),
        (policy, choice) => {
          const r = resolveKeyExpiry(choice, now, policy);
          if (!r.ok) return true;
          if (r.expiresAt === null) return !policy.requireExpiry && policy.maxLifetimeDays === null;
          const ahead = r.expiresAt.getTime() - now.getTime();
          return (
            ahead > 0 && (policy.maxLifetimeDays === null || ahead <= policy.maxLifetimeDays * DAY + 60_000)
          );
        },
      ),
    );
  });
});

describe('policies', () => {
  it('combines to the strictest', () => {
    expect(strictestPolicy([])).toEqual(DEFAULT_KEY_POLICY);
    expect(
      strictestPolicy([
        { requireExpiry: false, maxLifetimeDays: 365 },
        { requireExpiry: false, maxLifetimeDays: 30 },
        DEFAULT_KEY_POLICY,
      ]),
    ).toEqual({ requireExpiry: true, maxLifetimeDays: 30 });
  });

  it('offers only lifetimes the policy allows', () => {
    expect(allowedLifetimes(DEFAULT_KEY_POLICY)).toEqual({
      presetsDays: [7, 30, 60, 90, 365],
      neverAllowed: true,
      maxDays: 3650,
    });
    expect(allowedLifetimes({ requireExpiry: true, maxLifetimeDays: 60 })).toEqual({
      presetsDays: [7, 30, 60],
      neverAllowed: false,
      maxDays: 60,
    });
  });
});

describe('key status, staleness and rotation', () => {
  it('reports revoked before expired', () => {
    expect(keyStatus({ revokedAt: null, expiresAt: null }, now)).toBe('active');
    expect(keyStatus({ revokedAt: now, expiresAt: null }, now)).toBe('revoked');
    expect(keyStatus({ revokedAt: null, expiresAt: now }, now)).toBe('expired');
    expect(keyStatus({ revokedAt: new Date(now.getTime() + 1000), expiresAt: null }, now)).toBe('active');
  });

  it('flags keys unused for 30 days, counting from creation when never used', () => {
    const createdAt = new Date(now.getTime() - 90 * DAY);
    expect(isKeyStale({ lastUsedAt: null, createdAt }, now)).toBe(true);
    expect(isKeyStale({ lastUsedAt: new Date(now.getTime() - 29 * DAY), createdAt }, now)).toBe(false);
    expect(isKeyStale({ lastUsedAt: new Date(now.getTime() - 30 * DAY), createdAt }, now)).toBe(true);
    // Created a minute ago and never used: "Never used", but not stale yet.
    expect(isKeyStale({ lastUsedAt: null, createdAt: new Date(now.getTime() - 60_000) }, now)).toBe(false);
    expect(isKeyStale({ lastUsedAt: null, createdAt: new Date(now.getTime() - 30 * DAY) }, now)).toBe(true);
  });

  it('calls a key stale exactly when 30 days passed since its last use (or creation)', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 400 * DAY }),
        fc.option(fc.integer({ min: 0, max: 400 * DAY }), { nil: null }),
        (ageMs, usedAgoMs) => {
          const createdAt = new Date(now.getTime() - ageMs);
          const lastUsedAt = usedAgoMs === null ? null : new Date(now.getTime() - Math.min(usedAgoMs, ageMs));
          const idleMs = now.getTime() - (lastUsedAt ?? createdAt).getTime();
          expect(isKeyStale({ lastUsedAt, createdAt }, now)).toBe(idleMs >= 30 * DAY);
          // Using a key can only make it fresher.
          if (isKeyStale({ lastUsedAt: now, createdAt }, now)) throw new Error('a key used now is stale');
        },
      ),
    );
  });

  it('ends a rotated-out key after the grace, never after its own expiry', () => {
    expect(rotatedKeyEnd(null, now, 'now')).toEqual(now);
    expect(rotatedKeyEnd(null, now, '1h')).toEqual(new Date(now.getTime() + 3_600_000));
    expect(rotatedKeyEnd(null, now, '7d')).toEqual(new Date(now.getTime() + 7 * DAY));
    const soon = new Date(now.getTime() + 60_000);
    expect(rotatedKeyEnd(soon, now, '24h')).toEqual(soon);
  });

  it('gives the replacement the old lifetime, within today’s policy', () => {
    const old = {
      createdAt: new Date(now.getTime() - 10 * DAY),
      expiresAt: new Date(now.getTime() + 20 * DAY),
    };
    expect(rotatedKeyExpiry(old, now, DEFAULT_KEY_POLICY)).toEqual({
      expiresAt: new Date(now.getTime() + 30 * DAY),
    });
    expect(rotatedKeyExpiry(old, now, { requireExpiry: true, maxLifetimeDays: 7 })).toEqual({
      expiresAt: new Date(now.getTime() + 7 * DAY),
    });
    const forever = { createdAt: now, expiresAt: null };
    expect(rotatedKeyExpiry(forever, now, DEFAULT_KEY_POLICY)).toEqual({ never: true });
    expect(rotatedKeyExpiry(forever, now, { requireExpiry: true, maxLifetimeDays: null })).toEqual({
      expiresInDays: 90,
    });
  });
});
