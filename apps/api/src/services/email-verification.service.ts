import { DomainError, normalizeEmail } from '@crowdee/core';
import { AccountToken, User } from '@crowdee/db';
import { UniqueConstraintViolationException } from '@mikro-orm/core';
import type { EntityManager } from '@mikro-orm/postgresql';
import type { AppDeps } from '../app-deps.ts';
import { publishInvalidation } from '../invalidation/index.ts';
import { tokenLink, verificationMail } from '../mail/messages.ts';
import { type Actor, recordAudit } from './audit.service.ts';
import { issueAccountToken, spendAccountToken } from './one-time-tokens.ts';

/**
 * Sends a verification link for `email` (the account's address at sign-up, or the new one it asked to change to).
 * The address only becomes the account's, and verified, when the link comes back.
 */
export async function sendVerification(
  deps: AppDeps,
  em: EntityManager,
  user: { id: string; name: string },
  email: string,
  change: boolean,
): Promise<void> {
  const token = await issueAccountToken(em, 'email-verification', user.id, email, deps.clock());
  const link = tokenLink(deps.appUrl(), 'verify-email', token);
  deps.mailer.enqueue(verificationMail(email, user.name, link, change));
}

/** A fresh link for an unverified address; nothing for one already verified (the answer is the same). */
export async function resendVerification(
  deps: AppDeps,
  em: EntityManager,
  user: { id: string; name: string; email: string; emailVerified: boolean },
): Promise<void> {
  if (user.emailVerified) return;
  await sendVerification(deps, em, user, user.email, false);
}

/**
 * Asks to move the account to another address. Needs the current password (a borrowed session must not be able to
 * take the account over by redirecting its mail); nothing changes until the new address confirms. Whether another
 * account already uses that address is only checked when the link comes back, so this answer reveals nothing.
 */
export async function requestEmailChange(
  deps: AppDeps,
  em: EntityManager,
  actor: Actor,
  user: { id: string; name: string; email: string },
  input: { email: string; currentPassword: string },
): Promise<void> {
  const row = await em.findOne(User, { id: user.id }, { populate: ['passwordHash'] });
  if (!row || !(await deps.passwords.verify(row.passwordHash.$, input.currentPassword)))
    throw new DomainError('VALIDATION_FAILED', 'The current password is incorrect.', {
      fieldErrors: [{ path: 'currentPassword', message: 'Incorrect password.' }],
    });
  const email = normalizeEmail(input.email);
  if (email === user.email)
    throw new DomainError('VALIDATION_FAILED', 'That is already your address.', {
      fieldErrors: [{ path: 'email', message: 'That is already your address.' }],
    });
  recordAudit(em, actor, {
    action: 'auth.email_change_requested',
    target: { type: 'user', id: user.id },
    at: deps.clock(),
  });
  await sendVerification(deps, em, user, email, true);
}

/** The address a pending change would move the account to, if a live link for it is out. */
export async function pendingEmailChange(
  em: EntityManager,
  user: { id: string; email: string },
  now: Date,
): Promise<string | null> {
  const pending = await em.findOne(
    AccountToken,
    {
      user: user.id,
      purpose: 'email-verification',
      usedAt: null,
      expiresAt: { $gt: now },
      email: { $ne: user.email },
    },
    { fields: ['email'], orderBy: { createdAt: 'desc' } },
  );
  return pending?.email ?? null;
}

/**
 * Follows a verification link: the address becomes verified and, for a change, the account's address. Another
 * account that took the address in the meantime wins (EMAIL_TAKEN); the link is spent either way.
 */
export async function verifyEmail(
  deps: AppDeps,
  em: EntityManager,
  actor: Actor,
  token: string,
): Promise<{ email: string }> {
  const now = deps.clock();
  try {
    const result = await em.transactional(async (tem) => {
      const spent = await spendAccountToken(tem, 'email-verification', token, now);
      const user = await tem.findOne(User, { id: spent.userId });
      if (!user) throw new DomainError('LINK_INVALID');
      const changed = user.email !== spent.email;
      if (changed && (await tem.count(User, { email: spent.email })) > 0)
        throw new DomainError('EMAIL_TAKEN');
      const previous = user.email;
      user.email = spent.email;
      user.emailVerifiedAt = now;
      const who: Actor = {
        ...actor,
        type: actor.type === 'anonymous' ? 'user' : actor.type,
        userId: user.id,
      };
      recordAudit(tem, who, {
        action: changed ? 'auth.email_changed' : 'auth.email_verified',
        target: { type: 'user', id: user.id },
        metadata: changed ? { from: previous, to: spent.email } : { email: spent.email },
        at: now,
      });
      await tem.flush();
      return { email: user.email, userId: user.id };
    });
    // Keys show their creator's address: cached credentials of this user are re-read, on every node.
    await publishInvalidation(deps, em, {
      cause: 'account.email_changed',
      targets: [{ kind: 'user', userId: result.userId }],
    });
    return { email: result.email };
  } catch (error) {
    if (error instanceof UniqueConstraintViolationException) throw new DomainError('EMAIL_TAKEN');
    throw error;
  }
}
