import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { sha256Hex } from './secrets.ts';
import {
  generateRecoveryCode,
  generateRecoveryCodes,
  generateTotpSecret,
  isTotpSecret,
  normalizeRecoveryCode,
  normalizeTotpCode,
  RECOVERY_CODE_COUNT,
  recoveryCodeHash,
  TOTP_PERIOD_SECONDS,
  totpCodeAt,
  totpCodeForStep,
  totpStep,
  totpStepAcceptable,
  totpUri,
  verifyTotpCode,
} from './totp.ts';

// RFC 6238 appendix B: the ASCII secret "12345678901234567890", SHA-1.
const RFC_SECRET = 'GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ';
const STEP_MS = TOTP_PERIOD_SECONDS * 1000;
const secretArb = fc.constant(null).map(() => generateTotpSecret());
/** Any instant from 2001 to 2100, as a step and an offset inside it. */
const stepArb = fc.integer({ min: 33_000_000, max: 136_000_000 });
const offsetArb = fc.integer({ min: 0, max: STEP_MS - 1 });
const at = (step: number, offset = 0) => new Date(step * STEP_MS + offset);

describe('TOTP codes', () => {
  it('pins the RFC 6238 vectors (last six digits of the SHA-1 column)', () => {
    expect(totpCodeAt(RFC_SECRET, new Date(59_000))).toBe('287082');
    expect(totpCodeAt(RFC_SECRET, new Date(1_111_111_109_000))).toBe('081804');
    expect(totpCodeAt(RFC_SECRET, new Date(1_234_567_890_000))).toBe('005924');
    expect(totpCodeAt(RFC_SECRET, new Date(20_000_000_000_000))).toBe('353130');
  });

  it('issues 160-bit base32 secrets, each different, in an otpauth URI apps can read', () => {
    const secret = generateTotpSecret();
    expect(isTotpSecret(secret)).toBe(true);
    expect(generateTotpSecret()).not.toBe(secret);
    const uri = new URL(totpUri(secret, 'Crowdee', 'ada@example.com'));
    expect(uri.protocol).toBe('otpauth:');
    expect(uri.host).toBe('totp');
    expect(decodeURIComponent(uri.pathname)).toBe('/Crowdee:ada@example.com');
    expect(uri.searchParams.get('secret')).toBe(secret);
    expect(uri.searchParams.get('issuer')).toBe('Crowdee');
    expect(uri.searchParams.get('digits')).toBe('6');
    expect(uri.searchParams.get('period')).toBe('30');
  });

  it('accepts the current step and one either side, never two away', () => {
    fc.assert(
      fc.property(
        secretArb,
        stepArb,
        offsetArb,
        fc.integer({ min: -4, max: 4 }),
        (secret, step, offset, delta) => {
          const code = totpCodeForStep(secret, step + delta);
          const accepted = verifyTotpCode(secret, code, at(step, offset), null);
          if (Math.abs(delta) <= 1) expect(accepted).toBe(step + delta);
          // A code two or more steps away can still collide with a code inside the window (1 in 10^6 per step).
          else if (accepted !== null) expect(totpCodeForStep(secret, accepted)).toBe(code);
        },
      ),
    );
  });

  it('refuses a code for a step at or before the last one used (replay), accepts a later one', () => {
    fc.assert(
      fc.property(secretArb, stepArb, fc.integer({ min: -1, max: 1 }), (secret, step, delta) => {
        const now = at(step);
        const code = totpCodeForStep(secret, step + delta);
        const used = verifyTotpCode(secret, code, now, null);
        expect(used).toBe(step + delta);
        // The same code again: refused.
        expect(verifyTotpCode(secret, code, now, used)).toBeNull();
        // An earlier code still inside the window: refused too (unless it collides with a later one).
        if (delta > -1) {
          const earlier = totpCodeForStep(secret, step + delta - 1);
          const again = verifyTotpCode(secret, earlier, now, used);
          if (again !== null) expect(again).toBeGreaterThan(used ?? Number.NaN);
        }
        // A later one inside the window: accepted.
        if (delta < 1)
          expect(verifyTotpCode(secret, totpCodeForStep(secret, step + 1), now, used)).toBe(step + 1);
      }),
    );
  });

  it('the step rule: within one step and after the last used', () => {
    fc.assert(
      fc.property(
        stepArb,
        fc.integer({ min: -3, max: 3 }),
        fc.option(fc.integer({ min: -3, max: 3 })),
        (s, d, last) => {
          const lastUsed = last === null ? null : s + last;
          expect(totpStepAcceptable(s + d, s, lastUsed)).toBe(
            Math.abs(d) <= 1 && (lastUsed === null || s + d > lastUsed),
          );
        },
      ),
    );
  });

  it('reads typed codes with spaces or a hyphen, refuses anything but six digits', () => {
    expect(normalizeTotpCode('123 456')).toBe('123456');
    expect(normalizeTotpCode(' 123-456 ')).toBe('123456');
    for (const bad of ['', '12345', '1234567', '12345a', '１２３４５６', '123456\u0000'])
      expect(normalizeTotpCode(bad)).toBeNull();
    expect(verifyTotpCode(RFC_SECRET, '287 082', new Date(59_000), null)).toBe(totpStep(new Date(59_000)));
    expect(verifyTotpCode(RFC_SECRET, 'abcdef', new Date(59_000), null)).toBeNull();
  });
});

describe('recovery codes', () => {
  it('gives ten different codes in the xxxxx-xxxxx form', () => {
    const codes = generateRecoveryCodes();
    expect(codes).toHaveLength(RECOVERY_CODE_COUNT);
    expect(new Set(codes).size).toBe(RECOVERY_CODE_COUNT);
    for (const code of codes) expect(code).toMatch(/^[a-z2-9]{5}-[a-z2-9]{5}$/);
  });

  it('every generated code is its own canonical spelling, whatever the random bytes', () => {
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 1, maxLength: 32, max: 247 }), (seed) => {
        const code = generateRecoveryCode((buf) => {
          for (let i = 0; i < buf.length; i++) buf[i] = seed[i % seed.length] ?? 0;
        });
        expect(normalizeRecoveryCode(code)).toBe(code);
        expect(code).not.toMatch(/[01ilo]/);
      }),
    );
  });

  it('normalises case, spaces and hyphens to one spelling, so one hash matches every way of typing it', () => {
    fc.assert(
      fc.property(
        fc.constant(null).map(() => generateRecoveryCode()),
        fc.array(fc.constantFrom(' ', '-', '  '), { minLength: 11, maxLength: 11 }),
        fc.boolean(),
        (code, separators, upper) => {
          const compact = code.replace('-', '');
          const typed = [...compact]
            .map((c, i) => `${separators[i] ?? ''}${upper ? c.toUpperCase() : c}`)
            .join('');
          expect(normalizeRecoveryCode(typed)).toBe(code);
          expect(recoveryCodeHash(typed)).toBe(sha256Hex(code));
        },
      ),
    );
  });

  it('refuses what cannot be a code (wrong length, look-alikes, other characters)', () => {
    for (const bad of [
      '',
      'abcde-fghj',
      'abcde-fghjkm',
      'abcde-fghj0',
      'abcde-fghjl',
      'abcde_fghjk',
      'abcdé-fghjk',
    ])
      expect(normalizeRecoveryCode(bad)).toBeNull();
    expect(recoveryCodeHash('nope')).toBeNull();
  });

  it('pins the stored hash: SHA-256 hex of the canonical spelling', () => {
    expect(recoveryCodeHash('ABCDE FGHJK')).toBe(sha256Hex('abcde-fghjk'));
    expect(sha256Hex('abcde-fghjk')).toMatch(/^[0-9a-f]{64}$/);
  });
});
