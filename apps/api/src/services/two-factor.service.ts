import type { SecondFactorKind } from '@crowdee/core';
import type { EntityManager } from '@mikro-orm/postgresql';

/**
 * SQL for "this user has a second factor": a confirmed authenticator app or at least one passkey. `$USER` is
 * replaced by the SQL expression naming the user's id (e.g. `k.created_by_id`), so the same rule serves every query
 * that needs it (the org two-factor policy for sessions and for keys).
 */
export function userHasSecondFactorSql(userIdExpr: string): string {
  return `(exists (select 1 from user_totp t where t.user_id = ${userIdExpr} and t.confirmed_at is not null)
        or exists (select 1 from passkeys pk where pk.user_id = ${userIdExpr}))`;
}

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
