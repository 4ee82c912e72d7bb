import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { formatRateLimit, formatRateLimitPolicy } from './rate-limit.ts';
import {
  parseRateLimit,
  parseRateLimitPolicies,
  parseRetryAfter,
  parseStructuredList,
} from './rate-limit-headers.ts';

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

// The wire format both ways: whatever the API formats, a client parses back to the same numbers, and the parser
// keeps reading them when a server or proxy spells the fields in the other ways the IETF draft (RFC 9651 lists)
// allows.
describe('RateLimit headers: format → parse', () => {
  /** Any policy name, including characters the formatter must drop (an sf-string carries printable ASCII only). */
  const policyName = fc.string({ maxLength: 20 });
  const printable = (name: string) => name.replace(/[^\x20-\x7e]/g, '');
  const policy = fc.record({
    name: policyName,
    quota: fc.integer({ min: 1, max: 1_000_000_000 }),
    windowSeconds: fc.integer({ min: 1, max: 86_400 }),
  });
  const remaining = fc.double({ min: -10, max: 1_000_000, noNaN: true });
  const resetSeconds = fc.double({ min: -10, max: 86_400, noNaN: true });

  it('RateLimit: one item reads back as its policy, whole remaining units and whole seconds', () => {
    fc.assert(
      fc.property(policy, remaining, resetSeconds, (p, r, t) => {
        expect(parseRateLimit(formatRateLimit(p, r, t))).toEqual({
          policy: printable(p.name),
          remaining: Math.max(0, Math.floor(r)),
          resetSeconds: Math.max(0, Math.ceil(t)),
        });
      }),
    );
  });

  it('RateLimit: a list reads back as its most restrictive item (fewest left, then the latest reset)', () => {
    const item = fc.record({
      p: policy,
      r: fc.integer({ min: 0, max: 5 }),
      t: fc.integer({ min: 0, max: 5 }),
    });
    fc.assert(
      fc.property(fc.array(item, { minLength: 1, maxLength: 5 }), (items) => {
        const header = items.map(({ p, r, t }) => formatRateLimit(p, r, t)).join(', ');
        const minR = Math.min(...items.map((i) => i.r));
        const maxT = Math.max(...items.filter((i) => i.r === minR).map((i) => i.t));
        const parsed = parseRateLimit(header);
        expect(parsed?.remaining).toBe(minR);
        expect(parsed?.resetSeconds).toBe(maxT);
        expect(
          items.some((i) => printable(i.p.name) === parsed?.policy && i.r === minR && i.t === maxT),
        ).toBe(true);
      }),
    );
  });

  it('RateLimit-Policy: every policy reads back with its quota and window', () => {
    const policies = fc.uniqueArray(policy, {
      minLength: 1,
      maxLength: 5,
      selector: (p) => printable(p.name),
    });
    fc.assert(
      fc.property(policies, (ps) => {
        const parsed = parseRateLimitPolicies(ps.map(formatRateLimitPolicy).join(', '));
        expect(parsed).toEqual(
          new Map(ps.map((p) => [printable(p.name), { quota: p.quota, windowSeconds: p.windowSeconds }])),
        );
      }),
    );
  });

  // What RFC 9651 lets a sender vary without changing meaning: optional whitespace around the list's commas and
  // after each `;`, parameters in any order, parameters the receiver does not know (the draft's `pk` partition key
  // is a byte sequence; extensions may add strings, tokens, decimals, booleans).
  const ows = fc.constantFrom('', ' ', '  ', '\t', ' \t');
  const unknownParam = fc
    .tuple(
      fc.stringMatching(/^[a-z][a-z0-9_.*-]{0,6}$/).filter((k) => !['r', 't', 'q', 'w'].includes(k)),
      fc.constantFrom('', '=?1', '=?0', '=:cHJvamVjdA==:', '=12', '=-3.5', '=tok/en', '="a, \\"b\\";c"'),
    )
    .map(([key, value]) => `${key}${value}`);

  /** Re-spells one formatted item: its value, then its parameters shuffled with unknown ones mixed in. */
  function respell(formatted: string, extra: string[], order: number[], spaces: string[]): string {
    // The value is the leading sf-string (which may itself hold `;`); the formatter's parameters follow it.
    let end = 1;
    while (end < formatted.length && formatted[end] !== '"') end += formatted[end] === '\\' ? 2 : 1;
    const value = formatted.slice(0, end + 1);
    const params = formatted
      .slice(end + 2)
      .split(';')
      .filter((p) => p !== '');
    const all = [...params, ...extra];
    const shuffled = order.map((i) => all[i % all.length] ?? '').filter((p, i, arr) => arr.indexOf(p) === i);
    for (const p of all) if (!shuffled.includes(p)) shuffled.push(p);
    return value + shuffled.map((p, i) => `;${spaces[i % spaces.length] ?? ''}${p}`).join('');
  }

  it('RateLimit and RateLimit-Policy: other spellings the draft allows read the same', () => {
    const item = fc.record({
      p: policy,
      r: fc.integer({ min: 0, max: 1_000_000 }),
      t: fc.integer({ min: 0, max: 86_400 }),
      extra: fc.array(unknownParam, { maxLength: 3 }),
      order: fc.array(fc.nat(10), { maxLength: 6 }),
      spaces: fc.array(fc.constantFrom('', ' ', '   '), { minLength: 1, maxLength: 4 }),
      before: ows,
      after: ows,
    });
    fc.assert(
      fc.property(fc.array(item, { minLength: 1, maxLength: 4 }), (items) => {
        const canonical = items.map(({ p, r, t }) => formatRateLimit(p, r, t)).join(', ');
        const respelled = items
          .map(({ p, r, t, extra, order, spaces }) => respell(formatRateLimit(p, r, t), extra, order, spaces))
          .map((text, i) => `${items[i]?.before ?? ''}${text}${items[i]?.after ?? ''}`)
          .join(',');
        expect(parseRateLimit(respelled)).toEqual(parseRateLimit(canonical));

        const policies = items.map(({ p, extra, order, spaces }) =>
          respell(formatRateLimitPolicy(p), extra, order, spaces),
        );
        expect(parseRateLimitPolicies(policies.join(' ,\t'))).toEqual(
          parseRateLimitPolicies(items.map(({ p }) => formatRateLimitPolicy(p)).join(', ')),
        );
      }),
    );
  });
});
