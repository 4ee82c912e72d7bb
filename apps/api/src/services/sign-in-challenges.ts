import {
  DomainError,
  generateSessionToken,
  parseSessionToken,
  SIGN_IN_CHALLENGE_MAX_ATTEMPTS,
  type SignInMethod,
  signInChallengeExpiresAt,
  type VerificationMethod,
  verifySessionSecret,
} from '@crowdee/core';
import { AuthChallenge, User } from '@crowdee/db';
import type { EntityManager } from '@mikro-orm/postgresql';
import type { AppDeps } from '../app-deps.ts';
import { type Actor, recordAudit } from './audit.service.ts';
import { createSession, deleteSession, type RequestOrigin, type SessionUser } from './sessions.service.ts';
import { type SecondFactorAnswer, verifySecondFactorAnswer } from './two-factor.service.ts';

/** A finished sign-in: the user and the new session's raw token (for the cookie), shown this once. */
export interface NewSignIn {
  user: SessionUser;
  token: string;
  expiresAt: Date;
}

/**
 * The second step of sign-in. After a correct password, an account with a second factor gets a challenge token
 * (`<id>.<secret>`, like a session token: the id is looked up, the secret's SHA-256 compared in constant time)
 * instead of a session. The challenge lives 5 minutes, takes at most 5 answers, and is spent by the one that signs
 * in; bad, expired, used up or spent → SIGN_IN_CHALLENGE_INVALID, all alike.
 */
export async function createSignInChallenge(
  em: EntityManager,
  userId: string,
  now: Date,
): Promise<{ challengeToken: string; expiresAt: Date }> {
  // The account's dead challenges (expired, or out of answers) go as a new one comes: the table never grows.
  await em
    .getConnection()
    .execute(
      `delete from auth_challenges where user_id = ? and purpose = 'sign-in' and (expires_at <= ? or attempts >= ?)`,
      [userId, now, SIGN_IN_CHALLENGE_MAX_ATTEMPTS],
    );
  const { token, id, secretHash } = generateSessionToken();
  const expiresAt = signInChallengeExpiresAt(now);
  em.create(AuthChallenge, {
    id,
    secretHash,
    purpose: 'sign-in',
    user: userId,
    session: null,
    webauthnChallenge: null,
    attempts: 0,
    createdAt: now,
    expiresAt,
  });
  await em.flush();
  return { challengeToken: token, expiresAt };
}

/**
 * Ends every open sign-in challenge of the account. A challenge stands for "the password was right": when the
 * password changes (changed, or reset from a mailed link) that proof is of the old one, and whoever held it must not
 * finish signing in with it. Call in the transaction that stores the new password hash.
 */
export async function endSignInChallenges(em: EntityManager, userId: string): Promise<number> {
  return em.nativeDelete(AuthChallenge, { user: userId, purpose: 'sign-in' });
}

const invalid = () => new DomainError('SIGN_IN_CHALLENGE_INVALID');

/** A live sign-in challenge for `token` (not expired, answers left), or SIGN_IN_CHALLENGE_INVALID. Reads only. */
export async function loadSignInChallenge(
  em: EntityManager,
  token: string,
  now: Date,
): Promise<{ challengeId: string; userId: string }> {
  const parsed = parseSessionToken(token);
  if (!parsed) throw invalid();
  const rows = await em
    .getConnection()
    .execute<{ id: string; secret_hash: string | null; user_id: string | null }[]>(
      `select id, secret_hash, user_id from auth_challenges
      where id = ? and purpose = 'sign-in' and expires_at > ? and attempts < ?`,
      [parsed.id, now, SIGN_IN_CHALLENGE_MAX_ATTEMPTS],
    );
  const row = rows[0];
  if (!row?.secret_hash || !row.user_id || !verifySessionSecret(parsed.secret, row.secret_hash))
    throw invalid();
  return { challengeId: row.id, userId: row.user_id };
}

/**
 * Takes one of the challenge's answers before the answer is checked, atomically: concurrent guesses (a tRPC batch
 * of many) can never get more than SIGN_IN_CHALLENGE_MAX_ATTEMPTS checks out of one challenge between them.
 */
export async function spendSignInAttempt(em: EntityManager, challengeId: string, now: Date): Promise<void> {
  const rows = await em.getConnection().execute<{ attempts: number }[]>(
    `update auth_challenges set attempts = attempts + 1
      where id = ? and purpose = 'sign-in' and expires_at > ? and attempts < ?
      returning attempts`,
    [challengeId, now, SIGN_IN_CHALLENGE_MAX_ATTEMPTS],
  );
  if (rows.length === 0) throw invalid();
}

/**
 * Ends the second step: spends the challenge (only one answer can ever finish it, whatever races), ends the
 * session the browser held before (a new token at every sign-in), creates the session with its proof and audits
 * `auth.sign_in` with the method. For PASSKEYS: call after verifying a passkey against `loadSignInChallenge`'s user.
 */
export async function finishSignIn(
  deps: AppDeps,
  em: EntityManager,
  proof: { challengeId: string; userId: string; method: SignInMethod; verifiedMethod: VerificationMethod },
  origin: RequestOrigin,
  previousSession: { id: string; userId: string } | null,
): Promise<NewSignIn> {
  const now = deps.clock();
  const spent = await em
    .getConnection()
    .execute<{ id: string }[]>(
      `delete from auth_challenges where id = ? and user_id = ? and purpose = 'sign-in' and expires_at > ? returning id`,
      [proof.challengeId, proof.userId, now],
    );
  if (spent.length === 0) throw invalid();
  const user = await em.findOne(User, { id: proof.userId });
  if (!user) throw invalid();
  if (previousSession) await deleteSession(em, deps, previousSession.userId, previousSession.id);
  const session = await createSession(em, user.id, origin, now, deps.config.sessions, {
    method: proof.method,
    verifiedMethod: proof.verifiedMethod,
  });
  const actor: Actor = { type: 'user', userId: user.id, keyId: null, ...origin };
  recordAudit(em, actor, {
    action: 'auth.sign_in',
    target: { type: 'session', id: session.id },
    metadata: { method: proof.method },
    at: now,
  });
  await em.flush();
  return {
    user: { id: user.id, email: user.email, name: user.name, emailVerified: user.emailVerifiedAt != null },
    token: session.token,
    expiresAt: session.expiresAt,
  };
}

/**
 * `auth.completeSignIn`: the challenge from `auth.signIn` and a code from the authenticator app or a recovery
 * code. Each answer spends one of the challenge's five (before it is checked) and one unit of the account's
 * second-factor budget; a wrong one is audited (`auth.second_factor_failed`) and answers SECOND_FACTOR_INVALID.
 */
export async function completeSignIn(
  deps: AppDeps,
  em: EntityManager,
  input: { challengeToken: string } & SecondFactorAnswer,
  origin: RequestOrigin,
  previousSession: { id: string; userId: string } | null,
): Promise<NewSignIn> {
  const now = deps.clock();
  const { challengeId, userId } = await loadSignInChallenge(em, input.challengeToken, now);
  await spendSignInAttempt(em, challengeId, now);
  const answer: SecondFactorAnswer =
    'totpCode' in input ? { totpCode: input.totpCode } : { recoveryCode: input.recoveryCode };
  let method: 'totp' | 'recovery-code';
  try {
    method = await verifySecondFactorAnswer(deps, em, userId, answer, now);
  } catch (error) {
    if (error instanceof DomainError && error.code === 'SECOND_FACTOR_INVALID') {
      const actor: Actor = { type: 'anonymous', userId: null, keyId: null, ...origin };
      recordAudit(em, actor, {
        action: 'auth.second_factor_failed',
        target: { type: 'user', id: userId },
        metadata: { method: 'totpCode' in answer ? 'totp' : 'recovery-code', step: 'sign-in' },
        at: now,
      });
      await em.flush();
    }
    throw error;
  }
  return finishSignIn(
    deps,
    em,
    {
      challengeId,
      userId,
      method: method === 'totp' ? 'password+totp' : 'password+recovery-code',
      verifiedMethod: method,
    },
    origin,
    previousSession,
  );
}
