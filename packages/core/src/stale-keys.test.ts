import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  isKeyStaleUnderPolicy,
  isValidStaleKeyDays,
  type KeyUseInOrg,
  STALE_KEY_POLICY_MAX_DAYS,
  STALE_KEY_POLICY_MIN_DAYS,
  staleKeyRemedy,
  unusedSince,
} from './stale-keys.ts';

const DAY = 86_400_000;
const t0 = new Date('2026-01-01T00:00:00Z').getTime();
const at = (ms: number) => new Date(t0 + ms);

const key = (over: Partial<KeyUseInOrg> = {}): KeyUseInOrg => ({
  createdAt: at(0),
  lastUsedInOrgAt: null,
  reachableSince: null,
  revokedAt: null,
  expiresAt: null,
  cutOffAt: null,
  ...over,
});

const days = fc.integer({ min: STALE_KEY_POLICY_MIN_DAYS, max: STALE_KEY_POLICY_MAX_DAYS });
const offset = fc.integer({ min: 0, max: 800 * DAY });
const maybe = <T>(arb: fc.Arbitrary<T>) => fc.option(arb, { nil: null });
const keyArb = fc.record({
  created: offset,
  used: maybe(offset),
  joined: maybe(offset),
  revoked: maybe(offset),
  expires: maybe(offset),
  cutOff: maybe(offset),
});
type KeyShape = typeof keyArb extends fc.Arbitrary<infer T> ? T : never;
const toKey = (k: KeyShape): KeyUseInOrg =>
  key({
    createdAt: at(k.created),
    lastUsedInOrgAt: k.used === null ? null : at(k.created + k.used),
    reachableSince: k.joined === null ? null : at(k.joined),
    revokedAt: k.revoked === null ? null : at(k.revoked),
    expiresAt: k.expires === null ? null : at(k.expires),
    cutOffAt: k.cutOff === null ? null : at(k.cutOff),
  });

describe('isKeyStaleUnderPolicy', () => {
  it('counts from the last use here, else from creation, else from when the key could first act here', () => {
    const policy = { revokeUnusedAfterDays: 30 };
    expect(isKeyStaleUnderPolicy(key(), policy, at(30 * DAY - 1))).toBe(false);
    expect(isKeyStaleUnderPolicy(key(), policy, at(30 * DAY))).toBe(true);
    const used = key({ lastUsedInOrgAt: at(20 * DAY) });
    expect(isKeyStaleUnderPolicy(used, policy, at(49 * DAY))).toBe(false);
    expect(isKeyStaleUnderPolicy(used, policy, at(50 * DAY))).toBe(true);
    const joinedLater = key({ reachableSince: at(100 * DAY) });
    expect(isKeyStaleUnderPolicy(joinedLater, policy, at(120 * DAY))).toBe(false);
  });

  it('never touches keys that are already revoked, expired or cut off, and does nothing when off', () => {
    const now = at(400 * DAY);
    const policy = { revokeUnusedAfterDays: 7 };
    expect(isKeyStaleUnderPolicy(key({ revokedAt: at(DAY) }), policy, now)).toBe(false);
    expect(isKeyStaleUnderPolicy(key({ expiresAt: at(DAY) }), policy, now)).toBe(false);
    expect(isKeyStaleUnderPolicy(key({ cutOffAt: at(DAY) }), policy, now)).toBe(false);
    expect(isKeyStaleUnderPolicy(key(), { revokeUnusedAfterDays: null }, now)).toBe(false);
    // A revocation still in its rotation grace period: the key still works, so the policy may still act.
    expect(isKeyStaleUnderPolicy(key({ revokedAt: at(500 * DAY) }), policy, now)).toBe(true);
  });

  it('is stale exactly when active and idle here for at least N days', () => {
    fc.assert(
      fc.property(keyArb, days, offset, (k, n, nowMs) => {
        const subject = toKey(k);
        const now = at(nowMs);
        const active =
          (subject.revokedAt === null || subject.revokedAt > now) &&
          (subject.expiresAt === null || subject.expiresAt > now) &&
          subject.cutOffAt === null;
        const idle = now.getTime() - unusedSince(subject).getTime();
        expect(isKeyStaleUnderPolicy(subject, { revokeUnusedAfterDays: n }, now)).toBe(
          active && idle >= n * DAY,
        );
      }),
    );
  });

  it('never takes a key used here within the last N days', () => {
    fc.assert(
      fc.property(keyArb, days, fc.integer({ min: 0, max: STALE_KEY_POLICY_MAX_DAYS * DAY }), (k, n, ago) => {
        fc.pre(ago < n * DAY);
        const subject = toKey(k);
        const now = at(k.created + 900 * DAY);
        const usedRecently = { ...subject, lastUsedInOrgAt: new Date(now.getTime() - ago) };
        expect(isKeyStaleUnderPolicy(usedRecently, { revokeUnusedAfterDays: n }, now)).toBe(false);
      }),
    );
  });

  it('stays stale as time passes (while active), and a shorter N takes at least the keys a longer one does', () => {
    fc.assert(
      fc.property(keyArb, days, days, offset, offset, (k, a, b, nowMs, later) => {
        const subject = { ...toKey(k), revokedAt: null, expiresAt: null, cutOffAt: null };
        const now = at(nowMs);
        const [short, long] = a <= b ? [a, b] : [b, a];
        if (isKeyStaleUnderPolicy(subject, { revokeUnusedAfterDays: long }, now))
          expect(isKeyStaleUnderPolicy(subject, { revokeUnusedAfterDays: short }, now)).toBe(true);
        if (isKeyStaleUnderPolicy(subject, { revokeUnusedAfterDays: a }, now))
          expect(isKeyStaleUnderPolicy(subject, { revokeUnusedAfterDays: a }, at(nowMs + later))).toBe(true);
      }),
    );
  });
});

describe('staleKeyRemedy', () => {
  const org = '00000000-0000-4000-8000-000000000001';
  const other = '00000000-0000-4000-8000-000000000002';
  it('revokes only a key that can reach this organization alone; cuts off any other', () => {
    expect(staleKeyRemedy([org], org)).toBe('revoke');
    expect(staleKeyRemedy(null, org)).toBe('cut-off');
    expect(staleKeyRemedy([org, other], org)).toBe('cut-off');
    expect(staleKeyRemedy([], org)).toBe('cut-off');
  });
});

describe('isValidStaleKeyDays', () => {
  it('accepts whole days from 7 to 365 only', () => {
    expect([6, 7, 365, 366, 7.5, Number.NaN].map(isValidStaleKeyDays)).toEqual([
      false,
      true,
      true,
      false,
      false,
      false,
    ]);
  });
});
