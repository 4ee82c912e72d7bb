import { type KeyGrant, keyAccess } from './access.ts';
import {
  type AuthorizationResult,
  authorize,
  PERMISSION_NAMES,
  PERMISSIONS,
  type Permission,
  permissionsOf,
} from './permissions.ts';
import type { KeyRole, Role } from './roles.ts';

/**
 * Restricted keys: a key may be confined at creation to a subset of the permission catalogue, on top of its role
 * and scope. Everything here is derived from the catalogue (`PERMISSIONS`), never from a hand-written list, so a
 * permission added to the catalogue tomorrow is offered, validated and enforced without touching this file.
 */

/** A key grant with its optional permission subset. `permissions: null` = everything its effective role allows. */
export interface RestrictedKeyGrant extends KeyGrant {
  permissions: readonly Permission[] | null;
}

export function isPermission(value: unknown): value is Permission {
  return typeof value === 'string' && Object.hasOwn(PERMISSIONS, value);
}

/** The resource a permission acts on: the part before the colon (`projects` for `projects:read`). */
export function permissionResource(permission: Permission): string {
  return permission.slice(0, permission.indexOf(':'));
}

/** Permissions a key can ever exercise (the catalogue minus session-only actions), in catalogue order. */
export function keyUsablePermissions(): Permission[] {
  return PERMISSION_NAMES.filter((p) => PERMISSIONS[p].keys);
}

export interface PermissionGroup {
  resource: string;
  permissions: Permission[];
}

/**
 * The permissions a key of role `keyRole` could be restricted to, grouped by resource in catalogue order: what the
 * create dialog offers as checkboxes.
 */
export function keyPermissionGroups(keyRole: KeyRole): PermissionGroup[] {
  const groups: PermissionGroup[] = [];
  for (const permission of permissionsOf(keyRole, 'key')) {
    const resource = permissionResource(permission);
    const group = groups.find((g) => g.resource === resource);
    if (group) group.permissions.push(permission);
    else groups.push({ resource, permissions: [permission] });
  }
  return groups;
}

export type KeyPermissionsResult =
  | { ok: true; permissions: Permission[] }
  | { ok: false; message: string; invalid: string[] };

/**
 * Validates the subset asked for at creation against the key's role: only catalogue permissions a key of that role
 * can exercise (a session-only or above-role permission would be a dead checkbox that misleads the creator).
 * Duplicates are dropped and the result is in catalogue order, so equal subsets are stored equally.
 */
export function resolveKeyPermissions(requested: readonly string[], keyRole: KeyRole): KeyPermissionsResult {
  if (requested.length === 0) {
    return {
      ok: false,
      message: 'Choose at least one permission, or let the key have everything its role allows.',
      invalid: [],
    };
  }
  const usable = new Set<string>(permissionsOf(keyRole, 'key'));
  const invalid = [...new Set(requested.filter((p) => !usable.has(p)))];
  if (invalid.length > 0) {
    return {
      ok: false,
      message: `A ${keyRole} key cannot be given ${invalid.join(', ')}: pick from what its role allows a key.`,
      invalid,
    };
  }
  const wanted = new Set(requested);
  return { ok: true, permissions: PERMISSION_NAMES.filter((p) => wanted.has(p)) };
}

/**
 * The permissions a key holds in organization `orgId` right now: its subset (or everything) ∩ what its effective
 * role — min(key role, the creator's *current* role there) — allows a key. Empty when the key cannot act there at
 * all (out of scope, cut off, creator not a member). The one rule; `authorizeKey` and `GET /api/v1/me` both use it.
 */
export function effectiveKeyPermissions(
  grant: RestrictedKeyGrant,
  orgId: string,
  creatorRole: Role | null,
): Permission[] {
  const access = keyAccess(grant, orgId, creatorRole);
  if (!access.ok) return [];
  return permissionsWithin(access.role, grant.permissions);
}

/** What a key acting with `effectiveRole` may do, narrowed to its subset. */
export function permissionsWithin(effectiveRole: Role, subset: readonly Permission[] | null): Permission[] {
  const byRole = permissionsOf(effectiveRole, 'key');
  return subset === null ? byRole : byRole.filter((p) => subset.includes(p));
}

export type KeyAuthorizationResult =
  | AuthorizationResult
  /** The role would allow it, but the key was restricted at creation to a subset that lacks it. */
  | { ok: false; code: 'FORBIDDEN'; restricted: true; required: Role };

/**
 * May a key acting with `effectiveRole` (already capped by `keyAccess`) perform `permission`, given its subset?
 * Session-only first, then the role, then the subset — so the refusal names the first thing that is missing.
 */
export function authorizeKey(
  effectiveRole: Role,
  subset: readonly Permission[] | null,
  permission: Permission,
): KeyAuthorizationResult {
  const byRole = authorize(effectiveRole, permission, 'key');
  if (!byRole.ok) return byRole;
  if (subset !== null && !subset.includes(permission)) {
    return { ok: false, code: 'FORBIDDEN', restricted: true, required: PERMISSIONS[permission].minRole };
  }
  return { ok: true };
}
