import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ipBucket } from './ip.ts';
import {
  DEFAULT_RATE_POLICIES,
  formatRateLimit,
  formatRateLimitPolicy,
  keyBudget,
  PROCEDURE_RATE_TIERS,
  parseRateSpec,
  planCharges,
  type RatedCall,
  type RateOverride,
  type RateTier,
  resolveKeyPolicy,
  retryAfterSeconds,
} from './rate-limit.ts';

describe('rate-limit headers (draft-ietf-httpapi-ratelimit-headers)', () => {
  it('formats RateLimit-Policy and RateLimit fields', () => {
    const key = { name: 'key', quota: 1200, windowSeconds: 60 };
    expect(formatRateLimitPolicy(key)).toBe('"key";q=1200;w=60');
    expect(formatRateLimit(key, 1187, 42)).toBe('"key";r=1187;t=42');
    expect(formatRateLimit(key, -3, 0.2)).toBe('"key";r=0;t=1');
    expect(formatRateLimitPolicy({ name: 'we"ird\\', quota: 1, windowSeconds: 1 })).toBe(
      '"we\\"ird\\\\";q=1;w=1',
    );
  });

  it('rounds Retry-After up so an obedient client is never early', () => {
    expect(retryAfterSeconds(1)).toBe(1);
    expect(retryAfterSeconds(1000)).toBe(1);
    expect(retryAfterSeconds(1001)).toBe(2);
    expect(retryAfterSeconds(0)).toBe(1);
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 10_000_000 }), (ms) => retryAfterSeconds(ms) * 1000 >= ms),
    );
  });

  it('has anonymous tighter than authenticated by default', () => {
    const a = DEFAULT_RATE_POLICIES.anonymous;
    const k = DEFAULT_RATE_POLICIES.authenticated;
    expect(a.quota / a.windowSeconds).toBeLessThan(k.quota / k.windowSeconds);
  });
});

describe('parseRateSpec', () => {
  it.each([
    ['60/1m', { quota: 60, windowSeconds: 60 }],
    ['1200/60s', { quota: 1200, windowSeconds: 60 }],
    ['10/15m', { quota: 10, windowSeconds: 900 }],
    ['60/60', { quota: 60, windowSeconds: 60 }],
    [' 5 / h ', { quota: 5, windowSeconds: 3600 }],
  ])('parses %s', (spec, expected) => {
    expect(parseRateSpec(spec)).toEqual(expected);
  });

  it.each(['', 'abc', '0/1m', '-1/1m', '10/0', '10/2d', '1.5/1m', '10/48h'])('rejects %j', (spec) => {
    expect(parseRateSpec(spec)).toBeNull();
  });
});

describe('overrides', () => {
  const base = { name: 'key', quota: 1200, windowSeconds: 60 };
  const now = new Date('2026-06-01T00:00:00Z');
  const org = (orgId: string, quota: number, expiresAt: Date | null = null): RateOverride => ({
    target: { kind: 'org', orgId },
    quota,
    windowSeconds: 60,
    expiresAt,
  });

  it('raises the limit for keys of an organization with an override', () => {
    expect(resolveKeyPolicy(base, [org('o1', 5000)], 'k1', ['o1'], now)).toEqual({ ...base, quota: 5000 });
    expect(resolveKeyPolicy(base, [org('o2', 5000)], 'k1', ['o1'], now)).toEqual(base);
  });

  it('lets a key override win and ignores expired ones', () => {
    const keyOverride: RateOverride = {
      target: { kind: 'key', keyId: 'k1' },
      quota: 3000,
      windowSeconds: 60,
      expiresAt: null,
    };
    expect(resolveKeyPolicy(base, [org('o1', 9000), keyOverride], 'k1', ['o1'], now).quota).toBe(3000);
    expect(resolveKeyPolicy(base, [org('o1', 9000, new Date(now.getTime() - 1))], 'k1', ['o1'], now)).toEqual(
      base,
    );
  });

  it('property: an override never lowers the effective rate', () => {
    fc.assert(
      fc.property(fc.array(fc.integer({ min: 1, max: 100_000 }), { maxLength: 4 }), (quotas) => {
        const p = resolveKeyPolicy(
          base,
          quotas.map((q) => org('o1', q)),
          'k1',
          ['o1'],
          now,
        );
        return p.quota / p.windowSeconds >= base.quota / base.windowSeconds;
      }),
    );
  });
});

describe('ipBucket', () => {
  it('keeps IPv4 addresses and unwraps IPv4-mapped IPv6', () => {
    expect(ipBucket('203.0.113.7')).toBe('203.0.113.7');
    expect(ipBucket('::ffff:203.0.113.7')).toBe('203.0.113.7');
  });

  it('groups IPv6 by /56', () => {
    expect(ipBucket('2001:db8:aaaa:bb01::1')).toBe('2001:db8:aaaa:bb00::/56');
    expect(ipBucket('2001:db8:aaaa:bbff:ffff:ffff:ffff:ffff')).toBe('2001:db8:aaaa:bb00::/56');
    expect(ipBucket('2001:db8:aaaa:bc00::1')).toBe('2001:db8:aaaa:bc00::/56');
    expect(ipBucket('::1')).toBe('0:0:0:0::/56');
  });

  it('property: addresses sharing the first 56 bits share a bucket; others do not', () => {
    const group = fc.integer({ min: 0, max: 0xffff });
    fc.assert(
      fc.property(
        fc.array(group, { minLength: 8, maxLength: 8 }),
        fc.array(group, { minLength: 4, maxLength: 4 }),
        (a, tail) => {
          const b = [
            a[0],
            a[1],
            a[2],
            ((a[3] ?? 0) & 0xff00) | ((tail[0] ?? 0) & 0xff),
            tail[1],
            tail[2],
            tail[3],
            tail[0],
          ];
          const hex = (g: (number | undefined)[]) => g.map((x) => (x ?? 0).toString(16)).join(':');
          return ipBucket(hex(a)) === ipBucket(hex(b));
        },
      ),
    );
    expect(ipBucket('2001:db8::1')).not.toBe(ipBucket('2001:db9::1'));
  });

  it('never throws on junk', () => {
    expect(ipBucket('not an ip')).toBe('invalid');
    expect(ipBucket('')).toBe('invalid');
  });
});

describe('planCharges: the budget follows the procedure that runs', () => {
  const rated = fc.oneof(
    fc.constant(null),
    fc.record({ tier: fc.constantFrom(null, ...PROCEDURE_RATE_TIERS) }),
  ) as fc.Arbitrary<RatedCall>;

  it('charges a sign-in its own tier and the anonymous one, with or without credentials', () => {
    for (const authenticated of [false, true]) {
      expect(planCharges([{ tier: 'sign-in' }], authenticated)).toEqual([
        { tier: 'anonymous', units: 1, call: null },
        { tier: 'sign-in', units: 1, call: 0 },
      ]);
    }
  });

  it('charges unknown calls as anonymous even for an authenticated caller', () => {
    expect(planCharges([null, { tier: null }], true)).toEqual([
      { tier: 'authenticated', units: 1, call: null },
      { tier: 'anonymous', units: 1, call: null },
    ]);
  });

  it('costs one caller-or-anonymous unit per call, plus one own-tier unit per call that declares one', () => {
    fc.assert(
      fc.property(fc.array(rated, { maxLength: 20 }), fc.boolean(), (calls, authenticated) => {
        const plan = planCharges(calls, authenticated);
        const units = (tier: RateTier) =>
          plan.filter((c) => c.tier === tier).reduce((sum, c) => sum + c.units, 0);
        expect(units('anonymous') + units('authenticated')).toBe(calls.length);
        const declared = calls.filter((c) => c !== null && c.tier !== null);
        for (const tier of PROCEDURE_RATE_TIERS) {
          expect(units(tier)).toBe(declared.filter((c) => c?.tier === tier).length);
        }
        // Credentials never lower what a declared or unknown call pays the anonymous budget.
        const anonymousFloor = calls.filter((c) => c === null || c.tier !== null).length;
        expect(units('anonymous')).toBeGreaterThanOrEqual(anonymousFloor);
        if (!authenticated) expect(units('authenticated')).toBe(0);
        expect(plan.every((c) => c.units > 0)).toBe(true);
      }),
    );
  });
});

describe('keyBudget: one budget per user', () => {
  const base = DEFAULT_RATE_POLICIES.authenticated;
  const now = new Date('2026-06-01T00:00:00Z');

  it('puts every key of a user in the user budget', () => {
    expect(keyBudget(base, [], { id: 'k1', creatorId: 'u1' }, [], now)).toEqual({
      policy: { ...base, name: 'user' },
      bucket: 'user:u1',
    });
    expect(keyBudget(base, [], { id: 'k2', creatorId: 'u1' }, [], now).bucket).toBe('user:u1');
  });

  it('raises the shared budget for an organization override and separates a key with its own override', () => {
    const overrides: RateOverride[] = [
      { target: { kind: 'org', orgId: 'o1' }, quota: 5000, windowSeconds: 60, expiresAt: null },
      { target: { kind: 'key', keyId: 'k9' }, quota: 3000, windowSeconds: 60, expiresAt: null },
      { target: { kind: 'key', keyId: 'k8' }, quota: 9000, windowSeconds: 60, expiresAt: now },
    ];
    expect(keyBudget(base, overrides, { id: 'k1', creatorId: 'u1' }, ['o1'], now)).toEqual({
      policy: { name: 'user', quota: 5000, windowSeconds: 60 },
      bucket: 'user:u1',
    });
    expect(keyBudget(base, overrides, { id: 'k9', creatorId: 'u1' }, ['o1'], now)).toEqual({
      policy: { name: 'key', quota: 3000, windowSeconds: 60 },
      bucket: 'key:k9',
    });
    // An expired key override no longer separates the key.
    expect(keyBudget(base, overrides, { id: 'k8', creatorId: 'u1' }, [], now).bucket).toBe('user:u1');
  });

  it('decides the same with organizations and time given lazily, and only computes them when overrides exist', () => {
    const overrideArb: fc.Arbitrary<RateOverride> = fc.record({
      target: fc.oneof(
        fc.record({ kind: fc.constant('org' as const), orgId: fc.constantFrom('o1', 'o2') }),
        fc.record({ kind: fc.constant('key' as const), keyId: fc.constantFrom('k1', 'k2') }),
      ),
      quota: fc.integer({ min: 1, max: 10_000 }),
      windowSeconds: fc.integer({ min: 1, max: 3600 }),
      expiresAt: fc.option(fc.date({ noInvalidDate: true }), { nil: null }),
    });
    fc.assert(
      fc.property(
        fc.array(overrideArb, { maxLength: 4 }),
        fc.constantFrom('k1', 'k2', 'k3'),
        fc.subarray(['o1', 'o2', 'o3']),
        fc.date({ noInvalidDate: true }),
        (overrides, keyId, orgIds, at) => {
          let computed = 0;
          const lazy = keyBudget(
            base,
            overrides,
            { id: keyId, creatorId: 'u1' },
            () => {
              computed++;
              return orgIds;
            },
            () => {
              computed++;
              return at;
            },
          );
          expect(lazy).toEqual(keyBudget(base, overrides, { id: keyId, creatorId: 'u1' }, orgIds, at));
          if (overrides.length === 0) expect(computed).toBe(0);
        },
      ),
    );
  });

  it('never lets a key without its own override leave its user budget', () => {
    fc.assert(
      fc.property(fc.uuid(), fc.uuid(), fc.array(fc.uuid(), { maxLength: 3 }), (keyId, userId, orgIds) => {
        const overrides: RateOverride[] = orgIds.map((orgId) => ({
          target: { kind: 'org', orgId },
          quota: 2000,
          windowSeconds: 60,
          expiresAt: null,
        }));
        expect(keyBudget(base, overrides, { id: keyId, creatorId: userId }, orgIds, now).bucket).toBe(
          `user:${userId}`,
        );
      }),
    );
  });
});
