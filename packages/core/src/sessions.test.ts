import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { normalizeEmail, passwordProblem } from './accounts.ts';
import { constantTimeEqual, sha256Hex } from './secrets.ts';
import {
  generateSessionToken,
  parseSessionToken,
  sessionExpiresAt,
  sessionState,
  shouldTouchSession,
  verifySessionSecret,
} from './sessions.ts';

describe('session tokens', () => {
  it('carry ≥128 random bits in the secret and store only its SHA-256', () => {
    const t = generateSessionToken();
    const parsed = parseSessionToken(t.token);
    expect(parsed).not.toBeNull();
    expect(parsed?.id).toBe(t.id);
    // 43 base64url characters = 256 bits.
    expect(parsed?.secret).toHaveLength(43);
    expect(t.secretHash).toBe(sha256Hex(parsed?.secret ?? ''));
    expect(t.secretHash).not.toContain(parsed?.secret ?? 'x');
    expect(verifySessionSecret(parsed?.secret ?? '', t.secretHash)).toBe(true);
  });

  it('never repeats', () => {
    const tokens = new Set(Array.from({ length: 1000 }, () => generateSessionToken().token));
    expect(tokens.size).toBe(1000);
  });

  it('rejects malformed tokens', () => {
    expect(parseSessionToken('')).toBeNull();
    expect(parseSessionToken('abc.def')).toBeNull();
    const t = generateSessionToken().token;
    expect(parseSessionToken(`${t}x`)).toBeNull();
    expect(parseSessionToken(t.replace('.', ':'))).toBeNull();
  });

  it('property: a secret that differs anywhere does not verify', () => {
    const t = generateSessionToken();
    const secret = parseSessionToken(t.token)?.secret ?? '';
    fc.assert(
      fc.property(fc.nat({ max: secret.length - 1 }), fc.constantFrom('A', 'b', '0', '_'), (i, c) => {
        if (secret[i] === c) return true;
        return !verifySessionSecret(secret.slice(0, i) + c + secret.slice(i + 1), t.secretHash);
      }),
    );
  });
});

describe('session timeouts', () => {
  const t0 = new Date('2026-01-01T00:00:00Z');
  const min = 60_000;

  it('expires absolutely and on idleness', () => {
    const s = { expiresAt: sessionExpiresAt(t0, { absoluteMs: 60 * min }), lastSeenAt: t0 };
    expect(sessionState(s, new Date(t0.getTime() + 5 * min), { idleMs: 10 * min })).toBe('valid');
    expect(sessionState(s, new Date(t0.getTime() + 10 * min), { idleMs: 10 * min })).toBe('idle-expired');
    expect(
      sessionState(
        { ...s, lastSeenAt: new Date(t0.getTime() + 59 * min) },
        new Date(t0.getTime() + 60 * min),
        {
          idleMs: 10 * min,
        },
      ),
    ).toBe('expired');
  });

  it('touches lastSeenAt at most once a minute', () => {
    expect(shouldTouchSession(t0, new Date(t0.getTime() + 59_999))).toBe(false);
    expect(shouldTouchSession(t0, new Date(t0.getTime() + 60_000))).toBe(true);
  });
});

describe('secrets and accounts', () => {
  it('compares in constant time without throwing on unequal lengths', () => {
    expect(constantTimeEqual('abc', 'abc')).toBe(true);
    expect(constantTimeEqual('abc', 'abcd')).toBe(false);
    expect(constantTimeEqual('', '')).toBe(true);
  });

  it('normalises emails to one spelling', () => {
    expect(normalizeEmail('  Ada@Example.COM ')).toBe('ada@example.com');
    expect(normalizeEmail('ｆｕｌｌ@example.com')).toBe('full@example.com');
  });

  it('requires passwords of at least 10 characters', () => {
    expect(passwordProblem('123456789')).toMatch(/at least 10/);
    expect(passwordProblem('1234567890')).toBeNull();
    expect(passwordProblem('x'.repeat(257))).toMatch(/at most/);
  });
});
