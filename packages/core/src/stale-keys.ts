const DAY_MS = 86_400_000;

/** "Revoke keys unused for N days": the range an organization may choose N from. */
export const STALE_KEY_POLICY_MIN_DAYS = 7;
export const STALE_KEY_POLICY_MAX_DAYS = 365;

/** An organization's stale-key rule; null = off (the default). */
export interface StaleKeyPolicy {
  revokeUnusedAfterDays: number | null;
}

export const DEFAULT_STALE_KEY_POLICY: StaleKeyPolicy = { revokeUnusedAfterDays: null };

export function isValidStaleKeyDays(days: number): boolean {
  return Number.isInteger(days) && days >= STALE_KEY_POLICY_MIN_DAYS && days <= STALE_KEY_POLICY_MAX_DAYS;
}

/** A key as one organization sees it, for the stale-key rule. */
export interface KeyUseInOrg {
  createdAt: Date;
  /** Its last use in this organization (never its use elsewhere: another organization's traffic keeps nothing alive here). */
  lastUsedInOrgAt: Date | null;
  /**
   * Since when the key could act here at all (its creator joined the organization), when known. A key never used
   * here is not held against its creator for the years before they joined.
   */
  reachableSince: Date | null;
  revokedAt: Date | null;
  expiresAt: Date | null;
  /** When this organization cut the key off (null = it was not). */
  cutOffAt: Date | null;
}

/** The moment from which the key's idleness in this organization is counted. */
export function unusedSince(
  key: Pick<KeyUseInOrg, 'createdAt' | 'lastUsedInOrgAt' | 'reachableSince'>,
): Date {
  let since = key.createdAt.getTime();
  if (key.lastUsedInOrgAt) since = Math.max(since, key.lastUsedInOrgAt.getTime());
  if (key.reachableSince) since = Math.max(since, key.reachableSince.getTime());
  return new Date(since);
}

/**
 * Whether the organization's policy takes this key away at `now`: the policy is on, the key can still act here
 * (not revoked, expired or already cut off), and it has gone unused here for at least N whole days.
 */
export function isKeyStaleUnderPolicy(key: KeyUseInOrg, policy: StaleKeyPolicy, now: Date): boolean {
  const days = policy.revokeUnusedAfterDays;
  if (days === null) return false;
  const t = now.getTime();
  if (key.revokedAt !== null && key.revokedAt.getTime() <= t) return false;
  if (key.expiresAt !== null && key.expiresAt.getTime() <= t) return false;
  if (key.cutOffAt !== null) return false;
  return t - unusedSince(key).getTime() >= days * DAY_MS;
}

/**
 * What an organization's policy may do to a stale key. An organization acts on itself only: a key that can reach
 * nowhere but this organization (scoped to exactly it) is revoked outright — revoking takes nothing from any other
 * organization and its owner sees a plain "revoked", not a key that lingers active yet works nowhere. Any other
 * key (unscoped, or scoped to several organizations) is cut off here and keeps working in the others, exactly
 * like an admin's cut-off.
 */
export function staleKeyRemedy(scopeOrgIds: readonly string[] | null, orgId: string): 'revoke' | 'cut-off' {
  if (scopeOrgIds === null || scopeOrgIds.length === 0) return 'cut-off';
  return scopeOrgIds.every((id) => id === orgId) ? 'revoke' : 'cut-off';
}
