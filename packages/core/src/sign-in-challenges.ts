import type { SecondFactorKind } from './two-factor.ts';

/**
 * The step between a correct password and the second factor: the client holds a challenge token, the server its
 * hash. It lives a few minutes, takes a few answers, and is spent by the answer that signs in.
 */
export const SIGN_IN_CHALLENGE_TTL_MS = 5 * 60 * 1000;
/** Answers one challenge takes (right or wrong); after that the password must be given again. */
export const SIGN_IN_CHALLENGE_MAX_ATTEMPTS = 5;

export const SECOND_FACTOR_METHODS = ['totp', 'recovery-code', 'passkey'] as const;
export type SecondFactorMethod = (typeof SECOND_FACTOR_METHODS)[number];

export function signInChallengeExpiresAt(now: Date): Date {
  return new Date(now.getTime() + SIGN_IN_CHALLENGE_TTL_MS);
}

/**
 * How an account may answer the second step, from what it enrolled: an authenticator app brings its recovery
 * codes; passkeys answer for themselves. Empty = no second step (the password signs in).
 */
export function secondFactorMethods(enrolled: readonly SecondFactorKind[]): SecondFactorMethod[] {
  const methods: SecondFactorMethod[] = [];
  if (enrolled.includes('totp')) methods.push('totp', 'recovery-code');
  if (enrolled.includes('passkey')) methods.push('passkey');
  return methods;
}
