import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  generateOneTimeToken,
  hashOneTimeToken,
  ONE_TIME_TOKEN_ENTROPY_BITS,
  ONE_TIME_TOKEN_KINDS,
  ONE_TIME_TOKEN_LENGTH,
  ONE_TIME_TOKEN_LIFETIMES_MS,
  ONE_TIME_TOKEN_PATTERN,
  ONE_TIME_TOKEN_PREFIXES,
  oneTimeTokenExpiresAt,
  oneTimeTokenState,
  parseOneTimeToken,
} from './one-time-tokens.ts';

const kind = fc.constantFrom(...ONE_TIME_TOKEN_KINDS);
// Bytes ≥ 248 are rejected by randomBase62; a seed made only of those would never yield a character.
const bytes = fc.uint8Array({ minLength: 1, maxLength: 64, max: 247 });
/** A deterministic "CSPRNG" drawn by fast-check, so properties cover the whole alphabet without real entropy. */
const filler = (seed: Uint8Array) => (buf: Uint8Array) => {
  for (let i = 0; i < buf.length; i++) buf[i] = seed[i % seed.length] ?? 0;
};

describe('one-time token format', () => {
  it('pins the hash: SHA-256 hex of the whole token', () => {
    expect(hashOneTimeToken('cdv_0123456789abcdefghijklmnopqrstuvAAAAAA')).toBe(
      '47dc99a14d3d0722b17f9c2ec4b2e592d145576c8892393a45cd0b49c29a33e7',
    );
    expect(hashOneTimeToken('')).toBe('e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855');
  });

  it('has at least 160 bits of entropy and one length for every kind', () => {
    expect(ONE_TIME_TOKEN_ENTROPY_BITS).toBeGreaterThanOrEqual(160);
    for (const k of ONE_TIME_TOKEN_KINDS) {
      expect(generateOneTimeToken(k).token).toHaveLength(ONE_TIME_TOKEN_LENGTH);
      expect(ONE_TIME_TOKEN_PREFIXES[k]).toHaveLength(4);
    }
  });

  it('lives 24 h to verify an address, 7 days to answer an invitation, 1 h to reset a password', () => {
    expect(ONE_TIME_TOKEN_LIFETIMES_MS['email-verification']).toBe(24 * 3_600_000);
    expect(ONE_TIME_TOKEN_LIFETIMES_MS.invitation).toBe(7 * 24 * 3_600_000);
    expect(ONE_TIME_TOKEN_LIFETIMES_MS['password-reset']).toBe(3_600_000);
    const issued = new Date('2026-12-01T10:00:00Z');
    expect(oneTimeTokenExpiresAt('password-reset', issued).toISOString()).toBe('2026-12-01T11:00:00.000Z');
  });

  it('refuses junk offline, saying why', () => {
    const { token } = generateOneTimeToken('invitation');
    expect(parseOneTimeToken('invitation', token)).toEqual({ ok: true, token });
    expect(parseOneTimeToken('password-reset', token)).toEqual({ ok: false, reason: 'prefix' });
    expect(parseOneTimeToken('invitation', token.slice(0, -1))).toEqual({ ok: false, reason: 'length' });
    expect(parseOneTimeToken('invitation', `${token.slice(0, 10)}-${token.slice(11)}`)).toEqual({
      ok: false,
      reason: 'alphabet',
    });
  });

  it('is single use and dies at its expiry instant', () => {
    const expiresAt = new Date('2026-12-01T11:00:00Z');
    expect(oneTimeTokenState({ expiresAt, usedAt: null }, new Date('2026-12-01T10:59:59.999Z'))).toBe(
      'usable',
    );
    expect(oneTimeTokenState({ expiresAt, usedAt: null }, expiresAt)).toBe('expired');
    expect(
      oneTimeTokenState(
        { expiresAt, usedAt: new Date('2026-12-01T10:30:00Z') },
        new Date('2026-12-01T10:31:00Z'),
      ),
    ).toBe('used');
  });
});

describe('one-time token properties', () => {
  it('every generated token parses for its own kind only, and the scanner finds it', () => {
    fc.assert(
      fc.property(kind, kind, bytes, (k, other, seed) => {
        const { token, hash } = generateOneTimeToken(k, filler(seed));
        expect(parseOneTimeToken(k, token).ok).toBe(true);
        if (other !== k) expect(parseOneTimeToken(other, token).ok).toBe(false);
        expect(hash).toBe(hashOneTimeToken(token));
        expect(hash).toMatch(/^[0-9a-f]{64}$/);
        expect(token.match(ONE_TIME_TOKEN_PATTERN)).toEqual([token]);
      }),
    );
  });

  it('any single changed character after the prefix is refused (checksum or alphabet)', () => {
    fc.assert(
      fc.property(
        kind,
        bytes,
        fc.integer({ min: 4, max: ONE_TIME_TOKEN_LENGTH - 1 }),
        fc.constantFrom(...'0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz-_.'),
        (k, seed, at, replacement) => {
          const { token } = generateOneTimeToken(k, filler(seed));
          fc.pre(token[at] !== replacement);
          const tampered = token.slice(0, at) + replacement + token.slice(at + 1);
          expect(parseOneTimeToken(k, tampered).ok).toBe(false);
        },
      ),
    );
  });

  it('a token is usable exactly while unused and before its expiry', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 10 ** 12 }),
        fc.integer({ min: -(10 ** 9), max: 10 ** 9 }),
        fc.boolean(),
        (expiry, delta, used) => {
          const expiresAt = new Date(expiry + 10 ** 10);
          const now = new Date(expiresAt.getTime() + delta);
          const state = oneTimeTokenState({ expiresAt, usedAt: used ? new Date(0) : null }, now);
          expect(state === 'usable').toBe(!used && delta < 0);
        },
      ),
    );
  });
});
