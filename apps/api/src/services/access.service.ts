import {
  authorize,
  authorizeKey,
  DomainError,
  type KeyAccess,
  keyAccess,
  type Permission,
  type Role,
} from '@crowdee/core';
import { Membership } from '@crowdee/db';
import type { EntityManager } from '@mikro-orm/postgresql';
import type { AppDeps } from '../app-deps.ts';
import type { Caller } from '../context.ts';
import type { ActorRole } from './members.service.ts';

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
    default:
      return notFound();
  }
}

/**
 * A caller's role in an organization given the membership role found for them (for a key, its creator's): for a
 * key, packages/core's keyAccess — scope and cut-offs first, then min(key role, creator's role).
 */
function roleFromMembership(caller: Caller, orgId: string, membershipRole: Role | null): Role {
  if (caller.kind === 'key') {
    const access = keyAccess(caller.key, orgId, membershipRole);
    if (access.ok) return access.role;
    throw refusal(access);
  }
  if (membershipRole === null) throw notFound();
  return membershipRole;
}

async function membershipRole(em: EntityManager, userId: string, orgId: string): Promise<Role | null> {
  const membership = await em.findOne(
    Membership,
    { user: userId, organization: orgId },
    { fields: ['role'], disableIdentityMap: true },
  );
  return membership?.role ?? null;
}

/**
 * The caller's role in an organization, right now. Sessions read the membership on every request; keys and session
 * tokens use the user's memberships from the credential cache, which every membership change invalidates.
 */
export async function roleInOrganization(lookup: AccessLookup, caller: Caller, orgId: string): Promise<Role> {
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
      ? await membershipRole(lookup.em, caller.userId, orgId)
      : (caller.token.creatorRoles.get(orgId) ?? null),
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
): Promise<Role> {
  return roleFromMembership(caller, orgId, await membershipRole(tem, caller.userId, orgId));
}

/** The locked re-read above, in the shape the membership services take (they open the transaction). */
export function lockedRoleOf(caller: Caller, orgId: string): ActorRole {
  return (tem) => lockedRoleInOrganization(tem, caller, orgId);
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
  const role = await roleInOrganization(lookup, caller, orgId);
  assertPermission(role, permission, caller);
  return role;
}
