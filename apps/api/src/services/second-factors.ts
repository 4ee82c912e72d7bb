import type { EntityManager } from '@mikro-orm/postgresql';
import { type InvalidationBus, publishInvalidation } from '../invalidation/index.ts';

/*
 * The second-factor facts the organizations' two-factor policy reads, apart from two-factor.service.ts (enrolment,
 * verification) so that access resolution and the credential cache can use them without importing the app's
 * dependencies.
 */

/**
 * SQL for "this user has a second factor": a confirmed authenticator app or at least one passkey. `$USER` is
 * replaced by the SQL expression naming the user's id (e.g. `k.created_by_id`), so the same rule serves every query
 * that needs it (the org two-factor policy for sessions and for keys).
 */
export function userHasSecondFactorSql(userIdExpr: string): string {
  return `(exists (select 1 from user_totp t where t.user_id = ${userIdExpr} and t.confirmed_at is not null)
        or exists (select 1 from passkeys pk where pk.user_id = ${userIdExpr}))`;
}

/** Of these users, those with a second factor: one statement, for lists (the org's key table). */
export async function usersWithSecondFactor(
  em: EntityManager,
  userIds: readonly string[],
): Promise<Set<string>> {
  if (userIds.length === 0) return new Set();
  const rows = await em.execute<{ id: string }[]>(
    `select u.id from users u where u.id in (${userIds.map(() => '?').join(', ')}) and ${userHasSecondFactorSql('u.id')}`,
    [...userIds],
  );
  return new Set(rows.map((r) => r.id));
}

/** Does this user have a second factor (a confirmed authenticator app or a passkey)? */
export async function hasSecondFactor(em: EntityManager, userId: string): Promise<boolean> {
  return (await usersWithSecondFactor(em, [userId])).has(userId);
}

/**
 * Every change to a user's second factors (a TOTP confirmed or disabled, a passkey added or removed) must publish
 * an invalidation of the user's credentials once its transaction has committed — this, or any other `user` target
 * (ending the account's other sessions does): the user's cached keys and session tokens carry "has a second factor"
 * for the organizations' two-factor policy, so enrolling lets their keys act again at once, on every node, and
 * removing the last factor stops them at once.
 */
export function secondFactorsChanged(
  deps: { invalidation: InvalidationBus },
  em: EntityManager,
  userId: string,
): Promise<void> {
  return publishInvalidation(deps, em, {
    cause: 'account.second_factor_changed',
    targets: [{ kind: 'user', userId }],
  });
}
