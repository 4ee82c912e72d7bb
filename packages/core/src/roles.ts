/**
 * Organization roles, lowest to highest. The order is the whole authorization model: every check is
 * "is this role at least that one", and it is answered here and nowhere else.
 */
export const ROLES = ['viewer', 'member', 'admin', 'owner'] as const;
export type Role = (typeof ROLES)[number];

/** Roles an API key may carry. Owner-only power never travels in a key: a leaked key must not delete an org. */
export const KEY_ROLES = ['viewer', 'member', 'admin'] as const;
export type KeyRole = (typeof KEY_ROLES)[number];

const RANK: Readonly<Record<Role, number>> = { viewer: 0, member: 1, admin: 2, owner: 3 };

export function isRole(value: unknown): value is Role {
  return typeof value === 'string' && (ROLES as readonly string[]).includes(value);
}

export function isKeyRole(value: unknown): value is KeyRole {
  return typeof value === 'string' && (KEY_ROLES as readonly string[]).includes(value);
}

export function roleRank(role: Role): number {
  return RANK[role];
}

/** True when `role` grants at least what `minimum` grants. */
export function roleAtLeast(role: Role, minimum: Role): boolean {
  return RANK[role] >= RANK[minimum];
}

/** The lower of two roles: what a capped grant is worth. */
export function lowerRole<R extends Role>(a: R, b: Role): R | Role {
  return RANK[a] <= RANK[b] ? a : b;
}

/** Compare for sorting, lowest first. */
export function compareRoles(a: Role, b: Role): number {
  return RANK[a] - RANK[b];
}

/** Roles at or below `ceiling`, lowest first. */
export function rolesUpTo(ceiling: Role): Role[] {
  return ROLES.filter((r) => RANK[r] <= RANK[ceiling]);
}

/** Key roles a creator holding `creatorRole` may put on a new key, lowest first. */
export function keyRolesFor(creatorRole: Role): KeyRole[] {
  return KEY_ROLES.filter((r) => RANK[r] <= RANK[creatorRole]);
}
