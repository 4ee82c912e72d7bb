import { DomainError, normalizeEmail, passwordProblem } from '@crowdee/core';
import { AccountToken, Session, User } from '@crowdee/db';
import type { EntityManager } from '@mikro-orm/postgresql';
import type { AppDeps } from '../app-deps.ts';
import { publishInvalidation } from '../invalidation/index.ts';
import { passwordResetMail, tokenLink } from '../mail/messages.ts';
import { type Actor, recordAudit } from './audit.service.ts';
import { issueAccountToken, spendAccountToken } from './one-time-tokens.ts';
import { endSignInChallenges } from './sign-in-challenges.ts';

function assertGoodPassword(password: string, path: string): void {
  const problem = passwordProblem(password);
  if (problem)
    throw new DomainError('VALIDATION_FAILED', `Password: ${problem}`, {
      fieldErrors: [{ path, message: problem }],
    });
}

/**
 * A signed-in user changes their password, proving the current one. Every other session ends (whoever else was
 * signed in, perhaps with the old password, is out); this one stays. API keys are separate credentials and keep
 * working. Outstanding reset links and sign-in challenges (second steps begun with the old password) die too.
 */
export async function changePassword(
  deps: AppDeps,
  em: EntityManager,
  actor: Actor,
  userId: string,
  sessionId: string,
  input: { currentPassword: string; newPassword: string },
): Promise<{ endedSessions: number }> {
  assertGoodPassword(input.newPassword, 'newPassword');
  const user = await em.findOne(User, { id: userId }, { populate: ['passwordHash'] });
  if (!user || !(await deps.passwords.verify(user.passwordHash.$, input.currentPassword)))
    throw new DomainError('VALIDATION_FAILED', 'The current password is incorrect.', {
      fieldErrors: [{ path: 'currentPassword', message: 'Incorrect password.' }],
    });
  const passwordHash = await deps.passwords.hash(input.newPassword);
  const now = deps.clock();
  const result = await em.transactional(async (tem) => {
    await tem.nativeUpdate(User, { id: userId }, { passwordHash });
    await tem.nativeDelete(AccountToken, { user: userId, purpose: 'password-reset', usedAt: null });
    // A second step begun with the old password must not finish.
    await endSignInChallenges(tem, userId);
    // In the same transaction as the new hash; the other nodes hear of it once it commits (below).
    const endedSessions = await tem.nativeDelete(Session, { user: userId, id: { $ne: sessionId } });
    recordAudit(tem, actor, {
      action: 'auth.password_changed',
      target: { type: 'user', id: userId },
      metadata: { endedSessions },
      at: now,
    });
    await tem.flush();
    return { endedSessions };
  });
  // After the commit: session tokens bound to the ended sessions stop on every node.
  await publishInvalidation(deps, em, { cause: 'session.ended', targets: [{ kind: 'user', userId }] });
  return result;
}

/**
 * Mails a reset link if an account uses `email`. The caller always gets the same answer: whether an account
 * exists is not ours to tell (the mail goes out after the answer, so timing tells nothing either).
 */
export async function requestPasswordReset(
  deps: AppDeps,
  em: EntityManager,
  actor: Actor,
  rawEmail: string,
): Promise<void> {
  const email = normalizeEmail(rawEmail);
  const user = await em.findOne(User, { email }, { fields: ['id', 'email'] });
  if (!user) return;
  const now = deps.clock();
  recordAudit(em, actor, {
    action: 'auth.password_reset_requested',
    target: { type: 'user', id: user.id },
    at: now,
  });
  const token = await issueAccountToken(em, 'password-reset', user.id, user.email, now);
  deps.mailer.enqueue(passwordResetMail(user.email, tokenLink(deps.appUrl(), 'reset-password', token)));
}

/**
 * Sets a new password from a reset link (single use, one hour) and ends every session and every open sign-in
 * challenge of the account (it signs nobody in: the next sign-in asks for the second factor as ever). Following
 * the link also proves the account owns its address, so an unverified one becomes verified.
 */
export async function resetPassword(
  deps: AppDeps,
  em: EntityManager,
  actor: Actor,
  input: { token: string; newPassword: string },
): Promise<{ endedSessions: number }> {
  assertGoodPassword(input.newPassword, 'newPassword');
  const passwordHash = await deps.passwords.hash(input.newPassword);
  const now = deps.clock();
  const result = await em.transactional(async (tem) => {
    const spent = await spendAccountToken(tem, 'password-reset', input.token, now);
    const user = await tem.findOne(
      User,
      { id: spent.userId },
      { fields: ['id', 'email', 'emailVerifiedAt'] },
    );
    if (!user) throw new DomainError('LINK_INVALID');
    await tem.nativeUpdate(
      User,
      { id: user.id },
      {
        passwordHash,
        ...(user.emailVerifiedAt == null && user.email === spent.email ? { emailVerifiedAt: now } : {}),
      },
    );
    const endedSessions = await tem.nativeDelete(Session, { user: user.id });
    // A second step begun with the old password (perhaps the leaked one this reset is for) must not finish.
    await endSignInChallenges(tem, user.id);
    recordAudit(
      tem,
      { ...actor, type: 'user', userId: user.id },
      {
        action: 'auth.password_reset',
        target: { type: 'user', id: user.id },
        metadata: { endedSessions },
        at: now,
      },
    );
    await tem.flush();
    return { endedSessions, userId: user.id };
  });
  await publishInvalidation(deps, em, {
    cause: 'session.ended',
    targets: [{ kind: 'user', userId: result.userId }],
  });
  return { endedSessions: result.endedSessions };
}
