import { randomUUID } from 'node:crypto';
import {
  DomainError,
  generateOneTimeToken,
  hashOneTimeToken,
  type OneTimeTokenKind,
  oneTimeTokenExpiresAt,
  oneTimeTokenState,
  parseOneTimeToken,
} from '@crowdee/core';
import { AccountToken, type AccountTokenPurpose } from '@crowdee/db';
import type { EntityManager } from '@mikro-orm/postgresql';

const invalidLink = () => new DomainError('LINK_INVALID');

/**
 * Issues a mailed token for an account. Earlier unused tokens of the same purpose stop working: only the newest
 * link in someone's mailbox is live. Returns the raw token for the one mail that carries it.
 */
export async function issueAccountToken(
  em: EntityManager,
  purpose: AccountTokenPurpose & OneTimeTokenKind,
  userId: string,
  email: string,
  now: Date,
): Promise<string> {
  await em.nativeDelete(AccountToken, { user: userId, purpose, usedAt: null });
  const { token, hash } = generateOneTimeToken(purpose);
  em.create(AccountToken, {
    id: randomUUID(),
    purpose,
    user: userId,
    email,
    tokenHash: hash,
    expiresAt: oneTimeTokenExpiresAt(purpose, now),
    usedAt: null,
    createdAt: now,
  });
  await em.flush();
  return token;
}

/**
 * Spends a token inside the caller's transaction: junk is refused offline, the row is found by the token's hash,
 * and it is marked used by a conditional update, so of two concurrent uses exactly one wins. Used, expired,
 * unknown and malformed tokens all get the same LINK_INVALID.
 */
export async function spendAccountToken(
  tem: EntityManager,
  purpose: AccountTokenPurpose & OneTimeTokenKind,
  candidate: string,
  now: Date,
): Promise<{ userId: string; email: string }> {
  if (!parseOneTimeToken(purpose, candidate).ok) throw invalidLink();
  const row = await tem.findOne(
    AccountToken,
    { tokenHash: hashOneTimeToken(candidate), purpose },
    { fields: ['id', 'user', 'email', 'expiresAt', 'usedAt'] },
  );
  if (!row || oneTimeTokenState({ expiresAt: row.expiresAt, usedAt: row.usedAt ?? null }, now) !== 'usable')
    throw invalidLink();
  const spent = await tem.nativeUpdate(AccountToken, { id: row.id, usedAt: null }, { usedAt: now });
  if (spent !== 1) throw invalidLink();
  return { userId: row.user.id, email: row.email };
}
