import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { generateKey, hashKey, parseKey, redactKeys } from './keys.ts';
import { authorize, PERMISSION_NAMES, PERMISSIONS } from './permissions.ts';
import { ROLES } from './roles.ts';
import {
  bearerKind,
  generateSessionBoundToken,
  parseSessionBoundToken,
  SESSION_TOKEN_MAX_TTL_SECONDS,
  sessionTokenExpiry,
  sessionTokenState,
} from './session-tokens.ts';

const now = new Date('2026-06-01T12:00:00Z');
const HOUR = 3_600_000;

describe('session token format', () => {
  it('is cds_ + 36 base62 characters, checksummed, and only its SHA-256 is kept', () => {
    const token = generateSessionBoundToken();
    expect(token.key).toMatch(/^cds_[0-9A-Za-z]{36}$/);
    expect(parseSessionBoundToken(token.key)).toEqual({ ok: true, key: token.key });
    expect(token.hash).toBe(hashKey(token.key));
    expect(token.hint).toBe(`${token.key.slice(0, 8)}…${token.key.slice(-4)}`);
  });

  it('is never mistaken for an API key, nor a key for a session token', () => {
    fc.assert(
      fc.property(fc.constant(null), () => {
        const token = generateSessionBoundToken().key;
        const key = generateKey().key;
        expect(parseKey(token)).toEqual({ ok: false, reason: 'prefix' });
        expect(parseSessionBoundToken(key)).toEqual({ ok: false, reason: 'prefix' });
        expect(bearerKind(token)).toBe('session-token');
        expect(bearerKind(key)).toBe('key');
      }),
      { numRuns: 50 },
    );
  });

  it('rejects every one-character change offline', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 4, max: 39 }),
        fc.constantFrom(...'0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz'),
        (position, replacement) => {
          const token = generateSessionBoundToken().key;
          fc.pre(token[position] !== replacement);
          const mutated = token.slice(0, position) + replacement + token.slice(position + 1);
          expect(parseSessionBoundToken(mutated).ok).toBe(false);
        },
      ),
    );
  });

  it('is redacted from logs like a key', () => {
    const token = generateSessionBoundToken().key;
    const text = redactKeys(`Authorization: Bearer ${token} failed`);
    expect(text).not.toContain(token);
    expect(text).toContain(`${token.slice(0, 8)}…${token.slice(-4)}`);
  });
});

describe('session token lifetime', () => {
  const sessionEnd = new Date(now.getTime() + 7 * 24 * HOUR);

  it('lasts 15 minutes by default, at most an hour, at least a minute', () => {
    expect(sessionTokenExpiry(now, sessionEnd).getTime() - now.getTime()).toBe(15 * 60_000);
    expect(sessionTokenExpiry(now, sessionEnd, 10 * HOUR).getTime() - now.getTime()).toBe(HOUR);
    expect(sessionTokenExpiry(now, sessionEnd, 5).getTime() - now.getTime()).toBe(60_000);
  });

  it('never outlives its session, whatever the TTL asked for', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 3 * HOUR }),
        fc.option(fc.integer({ min: 0, max: 10 * 3600 }), { nil: undefined }),
        (sessionLeftMs, ttl) => {
          const end = new Date(now.getTime() + sessionLeftMs);
          const expiry = sessionTokenExpiry(now, end, ttl);
          expect(expiry.getTime()).toBeLessThanOrEqual(end.getTime());
          expect(expiry.getTime() - now.getTime()).toBeLessThanOrEqual(SESSION_TOKEN_MAX_TTL_SECONDS * 1000);
        },
      ),
    );
  });

  it('ends with its session (absolute or idle) and at its own expiry', () => {
    const token = {
      expiresAt: new Date(now.getTime() + HOUR),
      sessionExpiresAt: new Date(now.getTime() + 2 * HOUR),
      sessionIdleDeadline: new Date(now.getTime() + 3 * HOUR),
    };
    expect(sessionTokenState(token, now)).toBe('valid');
    expect(sessionTokenState(token, new Date(now.getTime() + HOUR))).toBe('expired');
    expect(sessionTokenState({ ...token, sessionExpiresAt: now }, now)).toBe('session-ended');
    expect(sessionTokenState({ ...token, sessionIdleDeadline: now }, now)).toBe('session-ended');
  });
});

describe('what a session token may do', () => {
  it('acts with the role it is given but never does what needs a signed-in session', () => {
    fc.assert(
      fc.property(fc.constantFrom(...ROLES), fc.constantFrom(...PERMISSION_NAMES), (role, permission) => {
        const viaToken = authorize(role, permission, 'token');
        const viaSession = authorize(role, permission, 'session');
        if (!PERMISSIONS[permission].keys) {
          expect(viaToken).toMatchObject({ ok: false, code: 'SESSION_REQUIRED' });
        } else {
          expect(viaToken).toEqual(viaSession);
        }
      }),
    );
  });
});
