import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  acceptedSudoMethods,
  hasFreshSecondFactor,
  isSudoFresh,
  SUDO_WINDOW_MS,
  sudoExpiresAt,
  twoFactorPolicyAllows,
} from './two-factor.ts';

const t0 = new Date('2026-12-05T12:00:00Z');
const at = (ms: number) => new Date(t0.getTime() + ms);

describe('sudo window', () => {
  it('is open for 10 minutes after a proof of identity, then closed', () => {
    expect(isSudoFresh(t0, t0)).toBe(true);
    expect(isSudoFresh(t0, at(SUDO_WINDOW_MS - 1))).toBe(true);
    expect(isSudoFresh(t0, at(SUDO_WINDOW_MS))).toBe(false);
    expect(isSudoFresh(null, t0)).toBe(false);
    expect(isSudoFresh(undefined, t0)).toBe(false);
  });

  it('a proof dated in the future (clock skew, tampering) opens nothing', () => {
    expect(isSudoFresh(at(1000), t0)).toBe(false);
  });

  it('is fresh exactly while now is before sudoExpiresAt', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 3 * SUDO_WINDOW_MS }), (elapsed) => {
        const now = at(elapsed);
        expect(isSudoFresh(t0, now)).toBe(now.getTime() < sudoExpiresAt(t0).getTime());
      }),
    );
  });
});

describe('accepted sudo methods', () => {
  it('the password only without any second factor', () => {
    expect(acceptedSudoMethods([])).toEqual(['password']);
    expect(acceptedSudoMethods(['totp'])).toEqual(['totp', 'recovery-code']);
    expect(acceptedSudoMethods(['passkey'])).toEqual(['passkey']);
    expect(acceptedSudoMethods(['totp', 'passkey'])).toEqual(['passkey', 'totp', 'recovery-code']);
  });

  it('never offers the password once any factor is enrolled', () => {
    fc.assert(
      fc.property(fc.subarray(['totp', 'passkey'] as const, { minLength: 1 }), (enrolled) => {
        expect(acceptedSudoMethods(enrolled)).not.toContain('password');
      }),
    );
  });
});

describe('two-factor policy', () => {
  it('blocks only members without a second factor in organizations that require one', () => {
    expect(twoFactorPolicyAllows(false, false)).toBe(true);
    expect(twoFactorPolicyAllows(false, true)).toBe(true);
    expect(twoFactorPolicyAllows(true, true)).toBe(true);
    expect(twoFactorPolicyAllows(true, false)).toBe(false);
  });
});

describe('fresh second factor', () => {
  it('needs a recent proof by a second factor, never by the password alone', () => {
    expect(hasFreshSecondFactor(t0, 'totp', at(1000))).toBe(true);
    expect(hasFreshSecondFactor(t0, 'passkey', at(1000))).toBe(true);
    expect(hasFreshSecondFactor(t0, 'recovery-code', at(1000))).toBe(true);
    expect(hasFreshSecondFactor(t0, 'password', at(1000))).toBe(false);
    expect(hasFreshSecondFactor(t0, null, at(1000))).toBe(false);
    expect(hasFreshSecondFactor(t0, 'totp', at(SUDO_WINDOW_MS))).toBe(false);
  });
});
