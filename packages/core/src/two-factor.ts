/**
 * Two-factor sign-in and sudo mode: the rules, as pure functions. The API stores factors and sessions; these decide.
 */

/** How a sign-in was proven (recorded on the session). */
export const SIGN_IN_METHODS = [
  'password',
  'password+totp',
  'password+recovery-code',
  'password+passkey',
  'passkey',
] as const;
export type SignInMethod = (typeof SIGN_IN_METHODS)[number];

/** What a single proof of identity used: at sign-in or in a sudo confirmation. */
export const VERIFICATION_METHODS = ['password', 'totp', 'recovery-code', 'passkey'] as const;
export type VerificationMethod = (typeof VERIFICATION_METHODS)[number];

/** The kinds of second factor an account can enrol. */
export type SecondFactorKind = 'totp' | 'passkey';

/** Sudo mode: sensitive actions need a proof of identity no older than this. */
export const SUDO_WINDOW_MS = 10 * 60 * 1000;

/** Is a session's last proof of identity recent enough for a sensitive action at `now`? */
export function isSudoFresh(verifiedAt: Date | null | undefined, now: Date): boolean {
  if (!verifiedAt) return false;
  const age = now.getTime() - verifiedAt.getTime();
  return age >= 0 && age < SUDO_WINDOW_MS;
}

/** When the sudo window opened at `verifiedAt` closes. */
export function sudoExpiresAt(verifiedAt: Date): Date {
  return new Date(verifiedAt.getTime() + SUDO_WINDOW_MS);
}

/**
 * Which methods may confirm sudo mode for an account: any enrolled second factor (recovery codes with TOTP);
 * the password only when the account has no second factor at all — once enrolled, a password alone never suffices.
 */
export function acceptedSudoMethods(enrolled: readonly SecondFactorKind[]): VerificationMethod[] {
  const methods: VerificationMethod[] = [];
  if (enrolled.includes('passkey')) methods.push('passkey');
  if (enrolled.includes('totp')) methods.push('totp', 'recovery-code');
  return methods.length > 0 ? methods : ['password'];
}

/** Does an organization's two-factor policy let this user (or a key this user created) act in it? */
export function twoFactorPolicyAllows(orgRequiresTwoFactor: boolean, userHasSecondFactor: boolean): boolean {
  return !orgRequiresTwoFactor || userHasSecondFactor;
}

/**
 * Has the session proven a second factor (not merely the password) within the sudo window? Needed to weaken the
 * account's own protection: disabling two-factor sign-in or removing its last factor.
 */
export function hasFreshSecondFactor(
  verifiedAt: Date | null | undefined,
  verifiedMethod: VerificationMethod | null | undefined,
  now: Date,
): boolean {
  return verifiedMethod != null && verifiedMethod !== 'password' && isSudoFresh(verifiedAt, now);
}
