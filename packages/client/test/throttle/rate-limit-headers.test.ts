import { describe, expect, it } from 'vitest';
import {
  parseRateLimit,
  parseRateLimitPolicies,
  parseRetryAfter,
  parseStructuredList,
  retryAfterSecondsFromBody,
  violatedPolicyFromBody,
} from '../../src/throttle/rate-limit-headers.ts';

describe('parseRateLimit', () => {
  it('reads the contract form', () => {
    expect(parseRateLimit('"key";r=1187;t=42')).toEqual({ policy: 'key', remaining: 1187, resetSeconds: 42 });
  });

  it('tolerates whitespace, unknown parameters and parameter order', () => {
    expect(parseRateLimit('  "user" ; t=7 ;pk=:cHJvbWlzZWQ=: ; r=3 ; future="x"  ')).toEqual({
      policy: 'user',
      remaining: 3,
      resetSeconds: 7,
    });
  });

  it('takes the smallest r among several items', () => {
    expect(parseRateLimit('"key";r=50;t=30, "user";r=4;t=50, "anonymous";r=9;t=1')).toEqual({
      policy: 'user',
      remaining: 4,
      resetSeconds: 50,
    });
  });

  it('among exhausted items takes the one that resets last', () => {
    expect(parseRateLimit('"key";r=0;t=5,"user";r=0;t=40,"sign-in";r=2;t=60')).toEqual({
      policy: 'user',
      remaining: 0,
      resetSeconds: 40,
    });
  });

  it('does not split on commas inside a quoted policy name', () => {
    expect(parseRateLimit('"a,b";r=1;t=2')).toEqual({ policy: 'a,b', remaining: 1, resetSeconds: 2 });
  });

  it('skips unreadable members and keeps the readable ones', () => {
    expect(parseRateLimit('"key";r=8;t=9, "broken;r=1')).toEqual({
      policy: 'key',
      remaining: 8,
      resetSeconds: 9,
    });
    expect(parseRateLimit('garbage ,, "key";r=8;t=9')).toEqual({
      policy: 'key',
      remaining: 8,
      resetSeconds: 9,
    });
  });

  it('accepts token policy names, missing t and clamps negative r', () => {
    expect(parseRateLimit('key;r=-2')).toEqual({ policy: 'key', remaining: 0, resetSeconds: undefined });
  });

  it('returns undefined without any r', () => {
    expect(parseRateLimit(null)).toBeUndefined();
    expect(parseRateLimit('')).toBeUndefined();
    expect(parseRateLimit('"key";t=3')).toBeUndefined();
  });

  it('handles escapes and booleans in the structured list', () => {
    expect(parseStructuredList('"say \\"hi\\"";flag;x=?0')).toEqual([
      {
        value: 'say "hi"',
        params: new Map<string, string | number | boolean>([
          ['flag', true],
          ['x', false],
        ]),
      },
    ]);
  });
});

describe('parseRateLimitPolicies', () => {
  it('maps policy names to quota and window', () => {
    const policies = parseRateLimitPolicies('"key";q=1200;w=60, "sign-in";q=5;w=900');
    expect(policies.get('key')).toEqual({ quota: 1200, windowSeconds: 60 });
    expect(policies.get('sign-in')).toEqual({ quota: 5, windowSeconds: 900 });
  });
});

describe('parseRetryAfter', () => {
  const now = Date.UTC(2026, 10, 28, 12, 0, 0);

  it('reads delta-seconds', () => {
    expect(parseRetryAfter('12', now)).toBe(12_000);
    expect(parseRetryAfter(' 0 ', now)).toBe(0);
  });

  it('reads an IMF-fixdate relative to now', () => {
    expect(parseRetryAfter('Sat, 28 Nov 2026 12:00:05 GMT', now)).toBe(5_000);
  });

  it('reads the obsolete RFC 850 and asctime forms as GMT', () => {
    expect(parseRetryAfter('Saturday, 28-Nov-26 12:00:07 GMT', now)).toBe(7_000);
    expect(parseRetryAfter('Sat Nov 28 12:00:09 2026', now)).toBe(9_000);
  });

  it('clamps a date in the past to 0 and ignores junk', () => {
    expect(parseRetryAfter('Sat, 28 Nov 2026 11:00:00 GMT', now)).toBe(0);
    expect(parseRetryAfter('soon', now)).toBeUndefined();
    expect(parseRetryAfter('-3', now)).toBeUndefined();
    expect(parseRetryAfter('1, 2', now)).toBeUndefined();
    expect(parseRetryAfter(null, now)).toBeUndefined();
  });
});

describe('body hints', () => {
  it('reads the REST problem+json retryAfter and violated policy', () => {
    const body = { status: 429, code: 'RATE_LIMITED', retryAfter: 12, 'violated-policies': ['key'] };
    expect(retryAfterSecondsFromBody(body)).toBe(12);
    expect(violatedPolicyFromBody(body)).toBe('key');
  });

  it('reads tRPC errors, with and without a transformer, and batches', () => {
    expect(retryAfterSecondsFromBody({ error: { data: { retryAfter: 3 } } })).toBe(3);
    expect(retryAfterSecondsFromBody({ error: { json: { data: { retryAfter: '4' } } } })).toBe(4);
    expect(
      retryAfterSecondsFromBody([{ result: {} }, { error: { data: { retryAfter: 2 } } }, { error: {} }]),
    ).toBe(2);
  });

  it('ignores anything else', () => {
    expect(retryAfterSecondsFromBody('12')).toBeUndefined();
    expect(retryAfterSecondsFromBody({ retryAfter: -1 })).toBeUndefined();
    expect(retryAfterSecondsFromBody({ error: { data: { retryAfter: 'later' } } })).toBeUndefined();
  });
});
