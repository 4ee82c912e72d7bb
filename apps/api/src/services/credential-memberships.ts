import { isRole, type Role, type TwoFactorStanding } from '@crowdee/core';
import { userHasSecondFactorSql } from './second-factors.ts';

/**
 * The memberships of a credential's user, loaded in the same statement as the credential itself (keys and session
 * tokens alike): a SQL expression over the user row aliased `u`, and its JSON turned into the maps the cache keeps.
 * Each membership carries its organization's two-factor policy, and `USER_HAS_SECOND_FACTOR_SQL` whether the user
 * has a second factor, so the policy costs no statement on a cache hit. Changing either invalidates the user's
 * cached credentials (`org.two_factor_policy_changed`, `account.second_factor_changed`).
 */
export const USER_MEMBERSHIPS_SQL = `coalesce((select json_agg(json_build_object('orgId', m.organization_id, 'role', m.role, 'name', o.name,
                                                        'requireTwoFactor', o.require_two_factor))
                     from memberships m join organizations o on o.id = m.organization_id
                    where m.user_id = u.id), '[]'::json)`;

export const USER_HAS_SECOND_FACTOR_SQL = userHasSecondFactorSql('u.id');

export interface MembershipRow {
  orgId: string;
  role: string;
  name: string;
  requireTwoFactor: boolean;
}

export function membershipMaps(rows: MembershipRow[]): {
  creatorRoles: Map<string, Role>;
  orgNames: Map<string, string>;
  twoFactorOrgIds: Set<string>;
} {
  const creatorRoles = new Map<string, Role>();
  const orgNames = new Map<string, string>();
  const twoFactorOrgIds = new Set<string>();
  for (const m of rows) {
    if (!isRole(m.role)) continue;
    creatorRoles.set(m.orgId, m.role);
    orgNames.set(m.orgId, m.name);
    if (m.requireTwoFactor === true) twoFactorOrgIds.add(m.orgId);
  }
  return { creatorRoles, orgNames, twoFactorOrgIds };
}

/** The credential's user under organization `orgId`'s two-factor policy, from the cached entry. */
export function cachedTwoFactorStanding(
  entry: { twoFactorOrgIds: ReadonlySet<string>; creatorHasSecondFactor: boolean },
  orgId: string,
): TwoFactorStanding {
  return {
    orgRequiresTwoFactor: entry.twoFactorOrgIds.has(orgId),
    userHasSecondFactor: entry.creatorHasSecondFactor,
  };
}
