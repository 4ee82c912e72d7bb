import {
  effectiveKeyPermissions,
  type KeyRole,
  keyAccessUnderTwoFactorPolicy,
  keyExpiresSoon,
  type Permission,
  type Role,
} from '@crowdee/core';
import { cachedTwoFactorStanding } from './credential-memberships.ts';
import type { CachedKey } from './key-cache.ts';

export interface KeyDescription {
  key: {
    id: string;
    name: string;
    hint: string;
    role: KeyRole;
    scope: string[] | null;
    expiresAt: string | null;
    expiresSoon: boolean;
    permissions: Permission[] | null;
    allowedIps: string[] | null;
  };
  creator: { id: string; name: string; email: string };
  organizations: {
    id: string;
    name: string;
    creatorRole: Role;
    effectiveRole: KeyRole;
    permissions: Permission[];
  }[];
}

// A cache entry is immutable until it is invalidated (then replaced), so its description can be kept with it —
// all but `expiresSoon`, which moves with the clock and is computed on every call.
const described = new WeakMap<CachedKey, KeyDescription>();

/**
 * What `GET /api/v1/me` answers: the key, its creator, and its effective role and permissions in every
 * organization it can act on (not those whose two-factor policy stops it), computed by packages/core from the cached memberships. Computed once per cache
 * entry; the hot path of a script polling /me costs a map lookup.
 */
export function describeKey(key: CachedKey, now: Date): KeyDescription {
  const cached = described.get(key) ?? describe(key);
  described.set(key, cached);
  return { ...cached, key: { ...cached.key, expiresSoon: keyExpiresSoon(key.expiresAt, now) } };
}

function describe(key: CachedKey): KeyDescription {
  const organizations: KeyDescription['organizations'] = [];
  for (const [orgId, creatorRole] of key.creatorRoles) {
    const access = keyAccessUnderTwoFactorPolicy(
      key,
      orgId,
      creatorRole,
      cachedTwoFactorStanding(key, orgId),
    );
    if (!access.ok) continue;
    organizations.push({
      id: orgId,
      name: key.orgNames.get(orgId) ?? '',
      creatorRole,
      effectiveRole: access.role,
      permissions: effectiveKeyPermissions(key, orgId, creatorRole),
    });
  }
  organizations.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : a.id < b.id ? -1 : 1));
  return {
    key: {
      id: key.id,
      name: key.name,
      hint: key.hint,
      role: key.role,
      scope: key.scopeOrgIds === null ? null : [...key.scopeOrgIds],
      expiresAt: key.expiresAt?.toISOString() ?? null,
      expiresSoon: false,
      permissions: key.permissions === null ? null : [...key.permissions],
      allowedIps: key.allowedIpList === null ? null : [...key.allowedIpList],
    },
    creator: key.creator,
    organizations,
  };
}
