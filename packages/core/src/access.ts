import { isKeyRole, type KeyRole, lowerRole, type Role, roleAtLeast } from './roles.ts';

/** What a key was granted at creation, and where organizations' admins have since cut it off. */
export interface KeyGrant {
  role: KeyRole;
  /** `null` = any organization its creator belongs to; otherwise only these. */
  scopeOrgIds: readonly string[] | null;
  /**
   * Organizations whose admins cut this key off. An admin's power over someone else's key ends at their own
   * organization: the cut-off removes the key there and nowhere else (only its owner revokes it everywhere).
   */
  cutOffOrgIds: readonly string[];
}

export type KeyAccess =
  | { ok: true; role: KeyRole }
  /** The key is scoped and this organization is not in its scope. Checked before membership, so it leaks nothing. */
  | { ok: false; reason: 'out-of-scope' }
  /** An admin of this organization cut the key off from it. Also a property of the key, checked before membership. */
  | { ok: false; reason: 'cut-off' }
  /** The key's creator is not (or no longer) a member: the key sees nothing there, exactly like a stranger. */
  | { ok: false; reason: 'not-member' }
  /**
   * The organization requires two-factor sign-in and the key's creator has not enrolled a second factor: the key
   * stops there until they do (see `keyAccessUnderTwoFactorPolicy`). Checked after membership, so a stranger's key
   * learns nothing about the policy.
   */
  | { ok: false; reason: 'two-factor-required' };

export function keyInScope(grant: Pick<KeyGrant, 'scopeOrgIds'>, orgId: string): boolean {
  return grant.scopeOrgIds === null || grant.scopeOrgIds.includes(orgId);
}

export type KeyOrgAllowance = 'allowed' | 'out-of-scope' | 'cut-off';

/**
 * Is this key allowed in organization `orgId` at all, whatever its creator's role there: in its scope and not cut
 * off by that organization's admins. The one place this rule lives; every check of a key in an org goes through it.
 */
export function keyAllowedInOrg(
  grant: Pick<KeyGrant, 'scopeOrgIds' | 'cutOffOrgIds'>,
  orgId: string,
): KeyOrgAllowance {
  if (!keyInScope(grant, orgId)) return 'out-of-scope';
  if (grant.cutOffOrgIds.includes(orgId)) return 'cut-off';
  return 'allowed';
}

/** The organizations a key can act on today: its creator's, in its scope, minus those that cut it off. */
export function orgsKeyMayReach(
  grant: Pick<KeyGrant, 'scopeOrgIds' | 'cutOffOrgIds'>,
  creatorOrgIds: Iterable<string>,
): string[] {
  return [...creatorOrgIds].filter((orgId) => keyAllowedInOrg(grant, orgId) === 'allowed');
}

/** The organizations a key can reach: its creator's, narrowed to its scope when it has one. */
export function orgsInScope(grant: Pick<KeyGrant, 'scopeOrgIds'>, creatorOrgIds: Iterable<string>): string[] {
  return [...creatorOrgIds].filter((orgId) => keyInScope(grant, orgId));
}

/**
 * The effective role of a key in organization `orgId`: min(key role, creator's *current* role there).
 * `creatorRole` must be read fresh (or from a cache that membership changes invalidate) on every request:
 * checking only at creation is how privilege escalations ship.
 */
export function keyAccess(grant: KeyGrant, orgId: string, creatorRole: Role | null): KeyAccess {
  const allowance = keyAllowedInOrg(grant, orgId);
  if (allowance !== 'allowed') return { ok: false, reason: allowance };
  if (creatorRole === null) return { ok: false, reason: 'not-member' };
  const capped = lowerRole(grant.role, creatorRole);
  // lowerRole of a key role and any role is always a key role; the guard keeps the type honest.
  if (!isKeyRole(capped)) return { ok: false, reason: 'not-member' };
  return { ok: true, role: capped };
}

/** The effective role, or null when the key may not act in the organization at all. */
export function effectiveKeyRole(grant: KeyGrant, orgId: string, creatorRole: Role | null): KeyRole | null {
  const access = keyAccess(grant, orgId, creatorRole);
  return access.ok ? access.role : null;
}

/** A creator may put on a key only a role at or below their own role in the active organization. */
export function canGrantKeyRole(creatorRole: Role | null, requested: KeyRole): boolean {
  return creatorRole !== null && roleAtLeast(creatorRole, requested);
}

/** A scoped key may only name organizations its creator belongs to (at creation). */
export function scopeWithinMemberships(
  scopeOrgIds: readonly string[],
  creatorOrgIds: ReadonlySet<string>,
): boolean {
  return scopeOrgIds.length > 0 && scopeOrgIds.every((id) => creatorOrgIds.has(id));
}
