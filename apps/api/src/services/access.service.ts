import {
  authorize,
  authorizeKey,
  DomainError,
  isRole,
  type KeyAccess,
  keyAccessUnderTwoFactorPolicy,
  type Permission,
  type Role,
  type TwoFactorStanding,
  twoFactorPolicyDecision,
} from '@crowdee/core';
import type { EntityManager } from '@mikro-orm/postgresql';
import type { AppDeps } from '../app-deps.ts';
import type { Caller } from '../context.ts';
import { cachedTwoFactorStanding } from './credential-memberships.ts';
import type { ActorRole } from './members.service.ts';
import { userHasSecondFactorSql } from './second-factors.ts';

/**
 * Access resolution, in one place: what role a caller holds in an organization and whether that role may do
 * something. The rules themselves (key capping, scope, cut-offs, the permission catalogue) are packages/core's;
 * this service only finds the inputs they need (a membership row, the credential cache) and turns refusals into
 * domain errors. The `orgProcedure` kind and the services that authorise more than one organization call it.
 */

/** Where a caller's role is read from: the database for sessions, the credential cache for keys and tokens. */
export interface AccessLookup {
  deps: Pick<AppDeps, 'keyVerifier'>;
  em: EntityManager;
  /** The request's address: a key with an IP allow-list is refused outside it. */
  ip: string | null;
  /** The request's organizations for usage counting: one the caller is found to belong to is added. */
  actedIn?: Set<string>;
}

const notFound = () => new DomainError('NOT_FOUND', 'Organization not found.');

function refusal(access: Exclude<KeyAccess, { ok: true }>): DomainError {
  switch (access.reason) {
    case 'out-of-scope':
      return new DomainError('ORG_OUT_OF_SCOPE');
    case 'cut-off':
      return new DomainError('KEY_CUT_OFF');
    case 'two-factor-required':
      return new DomainError('TWO_FACTOR_REQUIRED');
    default:
      return notFound();
  }
}

/** A membership as access needs it: the role, and the organization's two-factor policy as it applies to the user. */
interface MembershipStanding {
  role: Role;
  standing: TwoFactorStanding;
}

/**
 * A caller's role in an organization given the membership found for them (for a key, its creator's): for a key,
 * packages/core's keyAccess — scope and cut-offs first, then min(key role, creator's role) — and then, for every
 * caller, the organization's two-factor policy. `permission` is what the call needs there (null: acting there at
 * all); a member the policy stops may still do what core leaves open to them (leave), signed in only.
 */
function roleFromMembership(
  caller: Caller,
  orgId: string,
  membership: MembershipStanding | null,
  permission: Permission | null,
): Role {
  if (caller.kind === 'key') {
    const access = keyAccessUnderTwoFactorPolicy(
      caller.key,
      orgId,
      membership?.role ?? null,
      membership?.standing ?? { orgRequiresTwoFactor: false, userHasSecondFactor: false },
    );
    if (access.ok) return access.role;
    throw refusal(access);
  }
  if (membership === null) throw notFound();
  if (!twoFactorPolicyDecision(membership.standing, permission, caller.kind).ok) {
    throw new DomainError('TWO_FACTOR_REQUIRED');
  }
  return membership.role;
}

/** The membership, its organization's two-factor policy and the user's factors: one statement, in `em`'s transaction. */
async function membershipStanding(
  em: EntityManager,
  userId: string,
  orgId: string,
): Promise<MembershipStanding | null> {
  const rows = await em.execute<{ role: string; require_two_factor: boolean; has_second_factor: boolean }[]>(
    `select m.role, o.require_two_factor, ${userHasSecondFactorSql('m.user_id')} as has_second_factor
       from memberships m join organizations o on o.id = m.organization_id
      where m.user_id = ? and m.organization_id = ?`,
    [userId, orgId],
  );
  const row = rows[0];
  if (!row || !isRole(row.role)) return null;
  return {
    role: row.role,
    standing: { orgRequiresTwoFactor: row.require_two_factor, userHasSecondFactor: row.has_second_factor },
  };
}

/** A session token's membership from the credential cache, which every membership, policy and factor change invalidates. */
function cachedMembership(
  caller: Extract<Caller, { kind: 'token' }>,
  orgId: string,
): MembershipStanding | null {
  const role = caller.token.creatorRoles.get(orgId);
  return role === undefined ? null : { role, standing: cachedTwoFactorStanding(caller.token, orgId) };
}

/**
 * The caller's role in an organization, right now. Sessions read the membership on every request; keys and session
 * tokens use the user's memberships from the credential cache, which every membership change invalidates. A member
 * the organization's two-factor policy stops (or their key) is refused with TWO_FACTOR_REQUIRED, unless
 * `permission` is one core leaves open to them.
 */
export async function roleInOrganization(
  lookup: AccessLookup,
  caller: Caller,
  orgId: string,
  permission: Permission | null = null,
): Promise<Role> {
  if (caller.kind === 'key') {
    const access = lookup.deps.keyVerifier.accessIn(caller.key, orgId, lookup.ip);
    if (!access.ok) throw refusal(access);
    lookup.actedIn?.add(orgId);
    return access.role;
  }
  const role = roleFromMembership(
    caller,
    orgId,
    caller.kind === 'session'
      ? await membershipStanding(lookup.em, caller.userId, orgId)
      : cachedMembership(caller, orgId),
    permission,
  );
  // Counted in this organization's usage only once the caller is known to belong there.
  lookup.actedIn?.add(orgId);
  return role;
}

/**
 * The caller's role read inside a transaction that holds the organization's lock: membership changes re-check the
 * actor against this, not against the role read when the request began (which a concurrent change may have
 * lowered). For a key, the creator's membership is read from the database, not the cache.
 */
export async function lockedRoleInOrganization(
  tem: EntityManager,
  caller: Caller,
  orgId: string,
  permission: Permission | null = null,
): Promise<Role> {
  return roleFromMembership(caller, orgId, await membershipStanding(tem, caller.userId, orgId), permission);
}

/** The locked re-read above, in the shape the membership services take (they open the transaction). */
export function lockedRoleOf(caller: Caller, orgId: string, permission: Permission | null = null): ActorRole {
  return (tem) => lockedRoleInOrganization(tem, caller, orgId, permission);
}

/**
 * Throws FORBIDDEN / SESSION_REQUIRED unless `role` (via this kind of caller) holds `permission`. A key is also held
 * to the permission subset it was restricted to (packages/core's `authorizeKey`). Every FORBIDDEN names the
 * missing permission (`requiredPermission`), and the role when the role is what falls short.
 */
export function assertPermission(role: Role, permission: Permission, caller: Caller): void {
  const decision =
    caller.kind === 'key'
      ? authorizeKey(role, caller.key.permissions, permission)
      : authorize(role, permission, caller.kind);
  if (decision.ok) return;
  if (decision.code === 'SESSION_REQUIRED') throw new DomainError('SESSION_REQUIRED');
  if ('restricted' in decision) {
    throw new DomainError(
      'FORBIDDEN',
      `This API key was restricted to other permissions: this action needs ${permission}.`,
      { requiredPermission: permission },
    );
  }
  const who = caller.kind === 'key' ? 'this key acts with' : 'your role is';
  throw new DomainError(
    'FORBIDDEN',
    `This action needs ${permission}, which takes the ${decision.required} role; ${who} ${role}.`,
    { requiredRole: decision.required, requiredPermission: permission },
  );
}

/** The caller's role in the organization, after checking that it holds `permission` there (else it throws). */
export async function requireOrgPermission(
  lookup: AccessLookup,
  caller: Caller,
  orgId: string,
  permission: Permission,
): Promise<Role> {
  const role = await roleInOrganization(lookup, caller, orgId, permission);
  assertPermission(role, permission, caller);
  return role;
}
