import { randomUUID } from 'node:crypto';
import {
  DomainError,
  normalizeEmail,
  passwordProblem,
  type SecondFactorMethod,
  secondFactorMethods,
} from '@crowdee/core';
import { User } from '@crowdee/db';
import { LockMode, UniqueConstraintViolationException } from '@mikro-orm/core';
import type { EntityManager } from '@mikro-orm/postgresql';
import type { AppDeps } from '../app-deps.ts';
import { type Actor, recordAudit } from './audit.service.ts';
import { sendVerification } from './email-verification.service.ts';
import { createSession, deleteSession, type RequestOrigin } from './sessions.service.ts';
import { createSignInChallenge } from './sign-in-challenges.ts';
import { enrolledFactors } from './two-factor.service.ts';

export interface SignedIn {
  user: { id: string; email: string; name: string; emailVerified: boolean };
  token: string;
  expiresAt: Date;
}

function passwordError(password: string): DomainError | null {
  const problem = passwordProblem(password);
  return problem
    ? new DomainError('VALIDATION_FAILED', `Password: ${problem}`, {
        fieldErrors: [{ path: 'password', message: problem }],
      })
    : null;
}

export async function signUp(
  deps: AppDeps,
  em: EntityManager,
  input: { email: string; password: string; name: string },
  origin: RequestOrigin,
): Promise<SignedIn> {
  const invalid = passwordError(input.password);
  if (invalid) throw invalid;
  const email = normalizeEmail(input.email);
  const now = deps.clock();
  // Hash before looking anything up, so a taken email answers in the same time as a new one.
  const passwordHash = await deps.passwords.hash(input.password);
  if ((await em.count(User, { email })) > 0) throw new DomainError('EMAIL_TAKEN');
  const user = em.create(User, {
    id: randomUUID(),
    email,
    name: input.name,
    passwordHash,
    emailVerifiedAt: null,
    createdAt: now,
  });
  const actor: Actor = { type: 'user', userId: user.id, keyId: null, ...origin };
  recordAudit(em, actor, { action: 'auth.sign_up', target: { type: 'user', id: user.id }, at: now });
  try {
    await em.flush();
  } catch (error) {
    // Two sign-ups for one email at once: the unique index decides, and the loser hears the same as above.
    if (error instanceof UniqueConstraintViolationException) throw new DomainError('EMAIL_TAKEN');
    throw error;
  }
  await sendVerification(deps, em, user, email, false);
  const session = await createSession(em, user.id, origin, now, deps.config.sessions);
  return {
    user: { id: user.id, email, name: user.name, emailVerified: false },
    token: session.token,
    expiresAt: session.expiresAt,
  };
}

/** A correct password for an account with a second factor: the client answers the challenge next. */
export interface SecondFactorRequired {
  status: 'second-factor-required';
  challengeToken: string;
  methods: SecondFactorMethod[];
  expiresAt: Date;
}

export type SignInResult = ({ status: 'signed-in' } & SignedIn) | SecondFactorRequired;

/**
 * Unknown email and wrong password give the same error in about the same time: an unknown email still pays for
 * an argon2id verification against a dummy hash. Every attempt is audited. An account with a second factor gets
 * no session here, only a sign-in challenge (`auth.completeSignIn`); the session the browser held stays until the
 * second step finishes.
 */
export async function signIn(
  deps: AppDeps,
  em: EntityManager,
  input: { email: string; password: string },
  origin: RequestOrigin,
  previousSession: { id: string; userId: string } | null,
): Promise<SignInResult> {
  const email = normalizeEmail(input.email);
  const now = deps.clock();
  const user = await em.findOne(User, { email }, { populate: ['passwordHash'] });
  const ok = user
    ? await deps.passwords.verify(user.passwordHash.$, input.password)
    : await deps.passwords.verifyDummy(input.password);
  if (!user || !ok) {
    const actor: Actor = { type: 'anonymous', userId: null, keyId: null, ...origin };
    recordAudit(em, actor, {
      action: 'auth.sign_in_failed',
      target: user ? { type: 'user', id: user.id } : null,
      metadata: { email },
      at: now,
    });
    await em.flush();
    throw new DomainError('INVALID_CREDENTIALS');
  }
  // The factor check and the session it leads to are one step under the user's row lock, which every factor
  // enrolment takes too: a sign-in that checked just before an enrolment committed would otherwise make a
  // password-only session after it, missed by the enrolment's sign-out of other sessions.
  const signedIn = await em.transactional(async (tem) => {
    await tem.findOneOrFail(User, { id: user.id }, { lockMode: LockMode.PESSIMISTIC_WRITE, fields: ['id'] });
    const methods = secondFactorMethods(await enrolledFactors(tem, user.id));
    if (methods.length > 0) {
      const challenge = await createSignInChallenge(tem, user.id, now);
      return { status: 'second-factor-required' as const, methods, ...challenge };
    }
    const session = await createSession(tem, user.id, origin, now, deps.config.sessions);
    const actor: Actor = { type: 'user', userId: user.id, keyId: null, ...origin };
    recordAudit(tem, actor, {
      action: 'auth.sign_in',
      target: { type: 'session', id: session.id },
      metadata: { method: 'password' },
      at: now,
    });
    await tem.flush();
    return { status: 'session' as const, session };
  });
  if (signedIn.status !== 'session') return signedIn;
  const { session } = signedIn;
  // A new token at every sign-in; the session the browser held before (if any) ends here, once the new one is
  // committed (its invalidation reaches the caches only after its delete has).
  if (previousSession) await deleteSession(em, deps, previousSession.userId, previousSession.id);
  return {
    status: 'signed-in',
    user: { id: user.id, email: user.email, name: user.name, emailVerified: user.emailVerifiedAt != null },
    token: session.token,
    expiresAt: session.expiresAt,
  };
}
