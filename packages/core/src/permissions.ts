import { type Role, roleAtLeast } from './roles.ts';

/**
 * The permission catalogue, as data: what each action needs. `keys: false` marks actions that need a signed-in
 * session whatever the role, because a leaked key must never be able to do them (mint or manage keys, delete an org).
 */
export const PERMISSIONS = {
  'org:read': { minRole: 'viewer', keys: true },
  'org:update': { minRole: 'admin', keys: true },
  'org:delete': { minRole: 'owner', keys: false },
  /** Requiring two-factor sign-in of every member: an owner's decision, never a bearer credential's. */
  'org:two-factor-policy': { minRole: 'owner', keys: false },
  'members:read': { minRole: 'viewer', keys: true },
  'members:manage': { minRole: 'admin', keys: true },
  /** Inviting grants access to a person: a leaked admin key must not be able to invite its holder in. */
  'members:invite': { minRole: 'admin', keys: false },
  /** Leaving removes the key's own creator: a key (even a viewer's) must never be able to do that to them. */
  'members:leave': { minRole: 'viewer', keys: false },
  'keys:manage-org': { minRole: 'admin', keys: false },
  'audit:read': { minRole: 'admin', keys: true },
  'projects:read': { minRole: 'viewer', keys: true },
  'projects:write': { minRole: 'member', keys: true },
  'projects:delete': { minRole: 'admin', keys: true },
  'datasets:read': { minRole: 'viewer', keys: true },
  /** Creating datasets and uploading items into them. */
  'datasets:write': { minRole: 'member', keys: true },
  /** Deleting a dataset or one of its items. */
  'datasets:delete': { minRole: 'admin', keys: true },
  'runs:read': { minRole: 'viewer', keys: true },
  /** Starting and cancelling verification runs. */
  'runs:write': { minRole: 'member', keys: true },
} as const satisfies Record<string, { minRole: Role; keys: boolean }>;

export type Permission = keyof typeof PERMISSIONS;
export const PERMISSION_NAMES = Object.keys(PERMISSIONS) as Permission[];

/**
 * How the caller proved who they are: a signed-in browser session, an API key, or a session token (a short-lived
 * bearer token bound to a sign-in). Only a session may do what `keys: false` marks: neither kind of bearer secret
 * can mint keys, delete an organization or change a password, however it was obtained.
 */
export type CallerKind = 'session' | 'key' | 'token';

export type AuthorizationResult =
  | { ok: true }
  | { ok: false; code: 'FORBIDDEN'; required: Role }
  | { ok: false; code: 'SESSION_REQUIRED'; required: Role };

export function requiredRole(permission: Permission): Role {
  return PERMISSIONS[permission].minRole;
}

/**
 * May a caller holding `role` in an organization perform `permission`? For a key caller, `role` must already be
 * the key's effective role (see `keyAccess`), never the key's nominal role.
 */
export function authorize(role: Role, permission: Permission, via: CallerKind): AuthorizationResult {
  const rule = PERMISSIONS[permission];
  if (via !== 'session' && !rule.keys) return { ok: false, code: 'SESSION_REQUIRED', required: rule.minRole };
  if (!roleAtLeast(role, rule.minRole)) return { ok: false, code: 'FORBIDDEN', required: rule.minRole };
  return { ok: true };
}

export function can(role: Role, permission: Permission, via: CallerKind = 'session'): boolean {
  return authorize(role, permission, via).ok;
}

/** Every permission a role holds through a given kind of caller: what `GET /api/v1/me` and the UI show. */
export function permissionsOf(role: Role, via: CallerKind): Permission[] {
  return PERMISSION_NAMES.filter((p) => can(role, p, via));
}
