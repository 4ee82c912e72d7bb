import {
  acceptedSudoMethods,
  DomainError,
  hasFreshSecondFactor,
  isSudoFresh,
  openSecret,
  recoveryCodeHash,
  retryAfterSeconds,
  type SecondFactorKind,
  SUDO_WINDOW_MS,
  type VerificationMethod,
  verifyTotpCode,
} from '@crowdee/core';
import { RecoveryCode, UserTotp } from '@crowdee/db';
import type { EntityManager } from '@mikro-orm/postgresql';
import type { AppDeps } from '../app-deps.ts';

export { userHasSecondFactorSql } from './second-factors.ts';

/** The second factors an account has enrolled (a TOTP counts once confirmed). */
export async function enrolledFactors(em: EntityManager, userId: string): Promise<SecondFactorKind[]> {
  const rows = await em.getConnection().execute<{ totp: boolean; passkey: boolean }[]>(
    `select exists (select 1 from user_totp where user_id = ? and confirmed_at is not null) as totp,
            exists (select 1 from passkeys where user_id = ?) as passkey`,
    [userId, userId],
  );
  const row = rows[0];
  const factors: SecondFactorKind[] = [];
  if (row?.totp) factors.push('totp');
  if (row?.passkey) factors.push('passkey');
  return factors;
}

/** What an account answers the second-factor question with: a code from its authenticator app, or a recovery code. */
export type SecondFactorAnswer = { totpCode: string } | { recoveryCode: string };

/** The associated data a TOTP seed is sealed with: a ciphertext moved to another account's row does not open. */
export function totpSealContext(userId: string): string {
  return `user_totp:${userId}`;
}

/**
 * One unit of the account's second-factor budget (RATE_LIMIT_SECOND_FACTOR), taken before an answer is checked,
 * wherever the answer comes from (sign-in, enrolment, sudo) and from however many addresses: guessing codes stays
 * slow even for someone who has the password and many IPs. RATE_LIMITED (429) when spent; nothing when limits are off.
 */
export async function chargeSecondFactorAttempt(deps: AppDeps, userId: string): Promise<void> {
  if (!deps.limits) return;
  const policy = deps.limits.policies['second-factor'];
  const { allowed, decisions } = await deps.limits.store.consumeAll([
    { policy, key: `second-factor:account:${userId}`, points: 1 },
  ]);
  if (allowed) return;
  const decision = decisions[0];
  const retryAfter = Math.max(
    retryAfterSeconds(decision?.msBeforeNext ?? 0),
    Math.ceil(decision?.resetSeconds ?? 0),
  );
  throw new DomainError(
    'RATE_LIMITED',
    `Too many second-factor attempts for this account. Retry in ${retryAfter} s.`,
    { retryAfter, violatedPolicies: [policy.name] },
  );
}

/** The account's confirmed TOTP seed, decrypted, with the last step accepted; null when none is confirmed. */
async function confirmedTotp(
  deps: AppDeps,
  em: EntityManager,
  userId: string,
): Promise<{ secret: string; lastUsedStep: number | null } | null> {
  const row = await em.findOne(
    UserTotp,
    { user: userId, confirmedAt: { $ne: null } },
    { fields: ['secretCiphertext', 'lastUsedStep'] },
  );
  if (!row) return null;
  return {
    secret: openSecret(row.secretCiphertext.$, deps.secretsKey, totpSealContext(userId)),
    lastUsedStep: row.lastUsedStep ?? null,
  };
}

/**
 * Checks a second-factor answer for `userId` and consumes it, atomically: a TOTP code moves the account's
 * `lastUsedStep` forward (only if still behind the code's step, so two requests racing with one code cannot both
 * pass), a recovery code is marked used (only if still unused). Returns the method that answered, or throws
 * SECOND_FACTOR_INVALID (RATE_LIMITED once the account's budget is spent). The caller audits a failure.
 */
export async function verifySecondFactorAnswer(
  deps: AppDeps,
  em: EntityManager,
  userId: string,
  answer: SecondFactorAnswer,
  now: Date,
): Promise<'totp' | 'recovery-code'> {
  await chargeSecondFactorAttempt(deps, userId);
  if ('totpCode' in answer) {
    const totp = await confirmedTotp(deps, em, userId);
    const step = totp ? verifyTotpCode(totp.secret, answer.totpCode, now, totp.lastUsedStep) : null;
    if (step !== null) {
      const moved = await em.nativeUpdate(
        UserTotp,
        {
          user: userId,
          confirmedAt: { $ne: null },
          $or: [{ lastUsedStep: null }, { lastUsedStep: { $lt: step } }],
        },
        { lastUsedStep: step },
      );
      if (moved === 1) return 'totp';
    }
  } else {
    const codeHash = recoveryCodeHash(answer.recoveryCode);
    if (codeHash !== null) {
      const used = await em.nativeUpdate(
        RecoveryCode,
        { user: userId, codeHash, usedAt: null },
        { usedAt: now },
      );
      if (used === 1) return 'recovery-code';
    }
  }
  throw new DomainError('SECOND_FACTOR_INVALID');
}

/**
 * Weakening the account's own protection (turning the authenticator app off, new recovery codes, removing the last
 * factor) needs a second factor proven in this session within the sudo window: otherwise 403
 * REAUTHENTICATION_REQUIRED naming how the account can confirm (`auth.confirmSudo`).
 */
export async function requireFreshSecondFactor(
  em: EntityManager,
  userId: string,
  session: { verifiedAt: Date | null; verifiedMethod: VerificationMethod | null },
  now: Date,
): Promise<void> {
  if (hasFreshSecondFactor(session.verifiedAt, session.verifiedMethod, now)) return;
  throw new DomainError('REAUTHENTICATION_REQUIRED', undefined, {
    acceptedMethods: acceptedSudoMethods(await enrolledFactors(em, userId)),
    sudoWindowSeconds: SUDO_WINDOW_MS / 1000,
  });
}

/**
 * Adding a second factor (an authenticator app, a passkey) needs a proof of identity in this session within the sudo
 * window, as the sudo actions do: a factor added from a stolen session would sign the thief in for good (it ends the
 * owner's other sessions, and a password reset does not remove it). 403 REAUTHENTICATION_REQUIRED otherwise.
 */
export async function requireRecentProof(
  em: EntityManager,
  userId: string,
  session: { verifiedAt: Date | null },
  now: Date,
): Promise<void> {
  if (isSudoFresh(session.verifiedAt, now)) return;
  throw new DomainError('REAUTHENTICATION_REQUIRED', undefined, {
    acceptedMethods: acceptedSudoMethods(await enrolledFactors(em, userId)),
    sudoWindowSeconds: SUDO_WINDOW_MS / 1000,
  });
}
