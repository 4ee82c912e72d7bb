import {
  effectiveKeyPermissions,
  type KeyRole,
  keyAccessUnderTwoFactorPolicy,
  keyExpiresSoon,
  type Permission,
  type Role,
} from '@crowdee/core';
import { shareAnswer } from '../http/shared-answer.ts';
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

// A cache entry is immutable until it is invalidated (then replaced), so its description is kept with it: one for
// each value of `expiresSoon`, the only part that moves with the clock. Shared answers (see shared-answer.ts): a
// script polling /me gets the same frozen object each time, validated and serialized once.
const described = new WeakMap<CachedKey, { soon?: KeyDescription; later?: KeyDescription }>();

/**
 * What `GET /api/v1/me` answers: the key, its creator, and its effective role and permissions in every
 * organization it can act on (not those whose two-factor policy stops it), computed by packages/core from the
 * cached memberships. Computed once per cache entry (and per `expiresSoon`); the hot path is a map lookup.
 */
export function describeKey(key: CachedKey, now: Date): KeyDescription {
  const soon = keyExpiresSoon(key.expiresAt, now);
  let variants = described.get(key);
  if (!variants) {
    variants = {};
    described.set(key, variants);
  }
  if (soon) {
    variants.soon ??= shareAnswer(describe(key, true));
    return variants.soon;
  }
  variants.later ??= shareAnswer(describe(key, false));
  return variants.later;
}

function describe(key: CachedKey, expiresSoon: boolean): KeyDescription {
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
      expiresSoon,
      permissions: key.permissions === null ? null : [...key.permissions],
      allowedIps: key.allowedIpList === null ? null : [...key.allowedIpList],
    },
    creator: { id: key.creator.id, name: key.creator.name, email: key.creator.email },
    organizations,
  };
}
