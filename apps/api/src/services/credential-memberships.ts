import { isRole, type Role } from '@crowdee/core';

/**
 * The memberships of a credential's user, loaded in the same statement as the credential itself (keys and session
 * tokens alike): a SQL expression over the user row aliased `u`, and its JSON turned into the maps the cache keeps.
 */
export const USER_MEMBERSHIPS_SQL = `coalesce((select json_agg(json_build_object('orgId', m.organization_id, 'role', m.role, 'name', o.name))
                     from memberships m join organizations o on o.id = m.organization_id
                    where m.user_id = u.id), '[]'::json)`;

export interface MembershipRow {
  orgId: string;
  role: string;
  name: string;
}

export function membershipMaps(rows: MembershipRow[]): {
  creatorRoles: Map<string, Role>;
  orgNames: Map<string, string>;
} {
  const creatorRoles = new Map<string, Role>();
  const orgNames = new Map<string, string>();
  for (const m of rows) {
    if (!isRole(m.role)) continue;
    creatorRoles.set(m.orgId, m.role);
    orgNames.set(m.orgId, m.name);
  }
  return { creatorRoles, orgNames };
}
