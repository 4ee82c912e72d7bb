import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  SIGN_IN_CHALLENGE_MAX_ATTEMPTS,
  SIGN_IN_CHALLENGE_TTL_MS,
  secondFactorMethods,
  signInChallengeExpiresAt,
} from './sign-in-challenges.ts';
import type { SecondFactorKind } from './two-factor.ts';

describe('sign-in challenges', () => {
  it('live five minutes and take five answers', () => {
    expect(SIGN_IN_CHALLENGE_TTL_MS).toBe(300_000);
    expect(SIGN_IN_CHALLENGE_MAX_ATTEMPTS).toBe(5);
    expect(signInChallengeExpiresAt(new Date('2026-12-05T10:00:00Z')).toISOString()).toBe(
      '2026-12-05T10:05:00.000Z',
    );
  });

  it('offer exactly what the account enrolled: TOTP brings recovery codes, no factor means no second step', () => {
    expect(secondFactorMethods([])).toEqual([]);
    expect(secondFactorMethods(['totp'])).toEqual(['totp', 'recovery-code']);
    expect(secondFactorMethods(['passkey'])).toEqual(['passkey']);
    fc.assert(
      fc.property(fc.subarray<SecondFactorKind>(['totp', 'passkey']), (enrolled) => {
        const methods = secondFactorMethods(enrolled);
        expect(methods.includes('totp')).toBe(enrolled.includes('totp'));
        expect(methods.includes('recovery-code')).toBe(enrolled.includes('totp'));
        expect(methods.includes('passkey')).toBe(enrolled.includes('passkey'));
        expect(methods).not.toContain('password');
      }),
    );
  });
});
