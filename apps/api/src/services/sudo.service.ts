import {
  acceptedSudoMethods,
  DomainError,
  isDomainError,
  isSudoFresh,
  SUDO_WINDOW_MS,
  sudoExpiresAt,
  type VerificationMethod,
} from '@crowdee/core';
import { Session, User } from '@crowdee/db';
import type { EntityManager } from '@mikro-orm/postgresql';
import type { AuthenticationResponseJSON } from '@simplewebauthn/server';
import type { AppDeps } from '../app-deps.ts';
import { type Actor, recordAudit } from './audit.service.ts';
import { verifyPasskeyForUser } from './passkeys.service.ts';
import type { ActiveSession } from './sessions.service.ts';
import { enrolledFactors, type SecondFactorAnswer, verifySecondFactorAnswer } from './two-factor.service.ts';

/** The sudo window, in the unit clients read (`sudoWindowSeconds` of REAUTHENTICATION_REQUIRED). */
export const SUDO_WINDOW_SECONDS = SUDO_WINDOW_MS / 1000;

/** Which methods may confirm sudo mode for this account right now (core's rule over what it has enrolled). */
export async function sudoMethodsOf(em: EntityManager, userId: string): Promise<VerificationMethod[]> {
  return acceptedSudoMethods(await enrolledFactors(em, userId));
}

/**
 * REAUTHENTICATION_REQUIRED for this account, with what a client needs to ask for the confirmation: the methods it
 * accepts and how long the window it opens lasts.
 */
export async function reauthenticationRequired(
  em: EntityManager,
  userId: string,
  message?: string,
): Promise<DomainError> {
  return new DomainError('REAUTHENTICATION_REQUIRED', message, {
    acceptedMethods: await sudoMethodsOf(em, userId),
    sudoWindowSeconds: SUDO_WINDOW_SECONDS,
  });
}

/**
 * The one sudo check (the procedure kinds call it for every procedure declaring `meta({ sudo: true })`): the
 * session's last proof of identity must lie within the window at the server's clock. Answers null when it does.
 */
export async function sudoRefusal(
  em: EntityManager,
  session: Pick<ActiveSession, 'userId' | 'verifiedAt'>,
  now: Date,
): Promise<DomainError | null> {
  if (isSudoFresh(session.verifiedAt, now)) return null;
  return reauthenticationRequired(em, session.userId);
}

/** The proofs `auth.confirmSudo` takes (exactly one per call). */
export type SudoProof =
  | { password: string }
  | SecondFactorAnswer
  | { passkey: { ceremonyId: string; response: AuthenticationResponseJSON } };

export interface SudoConfirmed {
  verifiedAt: string;
  sudoExpiresAt: string;
  method: VerificationMethod;
}

function methodOf(proof: SudoProof): VerificationMethod {
  if ('password' in proof) return 'password';
  if ('passkey' in proof) return 'passkey';
  if ('totpCode' in proof) return 'totp';
  return 'recovery-code';
}

/**
 * Confirms who holds this session, opening the sudo window from now. Only a method the account accepts counts: once
 * a second factor is enrolled the password alone is refused (before it is even checked, so it is no oracle).
 * Every attempt is audited; attempts are rate-limited per account by the `reauthentication` tier.
 */
export async function confirmSudo(
  deps: AppDeps,
  em: EntityManager,
  actor: Actor,
  session: Pick<ActiveSession, 'id' | 'userId'>,
  proof: SudoProof,
): Promise<SudoConfirmed> {
  const now = deps.clock();
  const userId = session.userId;
  const method = methodOf(proof);
  const accepted = await sudoMethodsOf(em, userId);
  const failed = async (reason: string, error: DomainError): Promise<never> => {
    recordAudit(em, actor, {
      action: 'auth.sudo_failed',
      target: { type: 'session', id: session.id },
      metadata: { method, reason },
      at: now,
    });
    await em.flush();
    throw error;
  };
  if (!accepted.includes(method)) {
    return failed(
      'method-not-accepted',
      new DomainError(
        'REAUTHENTICATION_REQUIRED',
        'This account has a second factor: confirm with it, not with the password.',
        { acceptedMethods: accepted, sudoWindowSeconds: SUDO_WINDOW_SECONDS },
      ),
    );
  }
  if ('password' in proof) {
    const user = await em.findOne(User, { id: userId }, { populate: ['passwordHash'] });
    if (!user || !(await deps.passwords.verify(user.passwordHash.$, proof.password))) {
      return failed(
        'wrong-password',
        new DomainError('VALIDATION_FAILED', 'The password is incorrect.', {
          fieldErrors: [{ path: 'password', message: 'Incorrect password.' }],
        }),
      );
    }
  } else if ('passkey' in proof) {
    // The ceremony must be this session's own `auth.passkeys.sudoOptions` one (single use, 5 minutes), answered by
    // one of this account's passkeys with user verification and an advancing counter.
    try {
      await verifyPasskeyForUser(deps, em, { ...proof.passkey, userId, sessionId: session.id }, now);
    } catch (error) {
      if (isDomainError(error) && error.code === 'PASSKEY_INVALID') return failed('wrong-passkey', error);
      throw error;
    }
  } else {
    // Consumes the code (the TOTP step, or the recovery code) atomically, and spends the account's second-factor
    // budget wherever the answer comes from.
    try {
      await verifySecondFactorAnswer(deps, em, userId, proof, now);
    } catch (error) {
      if (isDomainError(error) && error.code === 'SECOND_FACTOR_INVALID') return failed('wrong-code', error);
      if (isDomainError(error) && error.code === 'RATE_LIMITED') return failed('rate-limited', error);
      throw error;
    }
  }
  await em.transactional(async (tem) => {
    await tem.nativeUpdate(
      Session,
      { id: session.id, user: userId },
      { verifiedAt: now, verifiedMethod: method },
    );
    recordAudit(tem, actor, {
      action: 'auth.sudo_confirmed',
      target: { type: 'session', id: session.id },
      metadata: { method },
      at: now,
    });
    await tem.flush();
  });
  return {
    verifiedAt: now.toISOString(),
    sudoExpiresAt: sudoExpiresAt(now).toISOString(),
    method,
  };
}
