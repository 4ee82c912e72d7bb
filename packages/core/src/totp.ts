import { HOTP, Secret, TOTP } from 'otpauth';
import { constantTimeEqual, sha256Hex } from './secrets.ts';

/**
 * Authenticator-app codes (RFC 6238 TOTP: HMAC-SHA1, 6 digits, 30-second steps — what every authenticator app
 * reads from a QR code) and the account's single-use recovery codes. Pure: the caller passes the time.
 */
export const TOTP_PERIOD_SECONDS = 30;
export const TOTP_DIGITS = 6;
/** Steps either side of the current one that are still accepted (clock drift, a code typed as it rolls over). */
export const TOTP_WINDOW = 1;
/** 160-bit secrets, as RFC 4226 recommends. */
const SECRET_BYTES = 20;
const ALGORITHM = 'SHA1';

/** A fresh random shared secret, base32 (what the manual-entry field of an authenticator app takes). */
export function generateTotpSecret(): string {
  return new Secret({ size: SECRET_BYTES }).base32;
}

/** Is `secret` a base32 secret of the size we issue? (Guards the decrypt path against a corrupted row.) */
export function isTotpSecret(secret: string): boolean {
  return /^[A-Z2-7]{32}$/.test(secret);
}

/** The `otpauth://totp/...` URI a QR code carries: issuer and account label shown in the authenticator app. */
export function totpUri(secret: string, issuer: string, accountLabel: string): string {
  return new TOTP({
    issuer,
    label: accountLabel,
    secret: Secret.fromBase32(secret),
    algorithm: ALGORITHM,
    digits: TOTP_DIGITS,
    period: TOTP_PERIOD_SECONDS,
  }).toString();
}

/** The 30-second step `at` falls in (the TOTP counter). */
export function totpStep(at: Date): number {
  return Math.floor(at.getTime() / 1000 / TOTP_PERIOD_SECONDS);
}

/** The code for one step. */
export function totpCodeForStep(secret: string, step: number): string {
  return HOTP.generate({
    secret: Secret.fromBase32(secret),
    counter: step,
    digits: TOTP_DIGITS,
    algorithm: ALGORITHM,
  });
}

/** The code an authenticator app shows at `at`. */
export function totpCodeAt(secret: string, at: Date): string {
  return totpCodeForStep(secret, totpStep(at));
}

/** A typed code as we compare it: spaces and hyphens dropped ("123 456"), digits only, or null. */
export function normalizeTotpCode(input: string): string | null {
  const code = input.replace(/[\s-]/g, '');
  return code.length === TOTP_DIGITS && /^\d+$/.test(code) ? code : null;
}

/**
 * The rule for which step a code may be accepted for: within ±TOTP_WINDOW of the current step, and later than
 * the last step accepted for this account — so each code works once, and once a code is used no earlier one
 * (still inside the window) can be replayed either.
 */
export function totpStepAcceptable(step: number, currentStep: number, lastUsedStep: number | null): boolean {
  return Math.abs(step - currentStep) <= TOTP_WINDOW && (lastUsedStep === null || step > lastUsedStep);
}

/**
 * Checks a typed code at `now`: returns the step it is accepted for (to be stored as the new `lastUsedStep`), or
 * null. Every step of the window is computed and compared in constant time, whichever matches.
 */
export function verifyTotpCode(
  secret: string,
  input: string,
  now: Date,
  lastUsedStep: number | null,
): number | null {
  const code = normalizeTotpCode(input);
  if (code === null) return null;
  const current = totpStep(now);
  let accepted: number | null = null;
  for (let step = current - TOTP_WINDOW; step <= current + TOTP_WINDOW; step++) {
    const matches = constantTimeEqual(totpCodeForStep(secret, step), code);
    if (matches && accepted === null && totpStepAcceptable(step, current, lastUsedStep)) accepted = step;
  }
  return accepted;
}

/* ------------------------------------------------------------------------------------------- recovery codes */

/** How many recovery codes an account gets (shown once, each usable once). */
export const RECOVERY_CODE_COUNT = 10;
/** Lower-case letters and digits without the look-alikes 0/o, 1/l/i: 31 symbols, about 5 bits each. */
const RECOVERY_ALPHABET = 'abcdefghjkmnpqrstuvwxyz23456789';
const RECOVERY_HALF = 5;

/**
 * One recovery code, `xxxxx-xxxxx` (10 symbols, ~49.5 bits from a CSPRNG): typed by hand when the phone is lost,
 * so short, but far beyond guessing under the per-account attempt budget. `fill` is injectable for tests.
 */
export function generateRecoveryCode(
  fill: (bytes: Uint8Array) => void = (b) => globalThis.crypto.getRandomValues(b),
): string {
  const chars: string[] = [];
  while (chars.length < RECOVERY_HALF * 2) {
    const bytes = new Uint8Array(16);
    fill(bytes);
    for (const byte of bytes) {
      // Rejection sampling: 248 = 8 × 31, so every symbol is equally likely.
      if (byte < 248 && chars.length < RECOVERY_HALF * 2)
        chars.push(RECOVERY_ALPHABET[byte % RECOVERY_ALPHABET.length] ?? '');
    }
  }
  return `${chars.slice(0, RECOVERY_HALF).join('')}-${chars.slice(RECOVERY_HALF).join('')}`;
}

export function generateRecoveryCodes(count = RECOVERY_CODE_COUNT): string[] {
  const codes = new Set<string>();
  while (codes.size < count) codes.add(generateRecoveryCode());
  return [...codes];
}

/**
 * A typed recovery code in its one canonical spelling (`xxxxx-xxxxx`), or null when it cannot be one: case,
 * spaces and hyphens do not matter, so "ABCDE FGHJK" and "abcdefghjk" are the same code.
 */
export function normalizeRecoveryCode(input: string): string | null {
  const compact = input.toLowerCase().replace(/[\s-]/g, '');
  if (compact.length !== RECOVERY_HALF * 2) return null;
  for (const c of compact) if (!RECOVERY_ALPHABET.includes(c)) return null;
  return `${compact.slice(0, RECOVERY_HALF)}-${compact.slice(RECOVERY_HALF)}`;
}

/** What is stored for a recovery code: SHA-256 (hex) of its canonical spelling. Null for a malformed input. */
export function recoveryCodeHash(input: string): string | null {
  const code = normalizeRecoveryCode(input);
  return code === null ? null : sha256Hex(code);
}
