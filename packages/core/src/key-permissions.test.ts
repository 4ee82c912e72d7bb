import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  authorizeKey,
  effectiveKeyPermissions,
  isPermission,
  keyPermissionGroups,
  keyUsablePermissions,
  permissionResource,
  type RestrictedKeyGrant,
  resolveKeyPermissions,
} from './key-permissions.ts';
import { PERMISSION_NAMES, PERMISSIONS, type Permission, permissionsOf } from './permissions.ts';
import { KEY_ROLES, ROLES, type Role } from './roles.ts';

// Ranks written out here, not taken from roles.ts: the oracle below must not share the code it checks.
const RANK: Record<Role, number> = { viewer: 0, member: 1, admin: 2, owner: 3 };

/** The rule as the issue states it, from the catalogue data alone. */
function oracle(grant: RestrictedKeyGrant, creatorRole: Role, permission: Permission): boolean {
  const rule = PERMISSIONS[permission];
  const effective = Math.min(RANK[grant.role], RANK[creatorRole]);
  return (
    rule.keys &&
    RANK[rule.minRole] <= effective &&
    (grant.permissions === null || grant.permissions.includes(permission))
  );
}

const subsetArb = fc.option(fc.subarray(PERMISSION_NAMES), { nil: null });
const grantArb = fc.record({
  role: fc.constantFrom(...KEY_ROLES),
  scopeOrgIds: fc.constant(null),
  cutOffOrgIds: fc.constant([] as string[]),
  permissions: subsetArb,
});
/** A creator's role over time: the first is their role at creation, each later one a change (often a demotion). */
const historyArb = fc.array(fc.constantFrom(...ROLES), { minLength: 1, maxLength: 5 });

describe('effectiveKeyPermissions', () => {
  it('a restricted member key holds exactly its subset while its creator allows it', () => {
    const grant: RestrictedKeyGrant = {
      role: 'member',
      scopeOrgIds: null,
      cutOffOrgIds: [],
      permissions: ['projects:read', 'projects:write'],
    };
    expect(effectiveKeyPermissions(grant, 'org', 'owner')).toEqual(['projects:read', 'projects:write']);
    // Demoted to viewer: writing goes, reading stays.
    expect(effectiveKeyPermissions(grant, 'org', 'viewer')).toEqual(['projects:read']);
    expect(effectiveKeyPermissions(grant, 'org', null)).toEqual([]);
  });

  it('an unrestricted key holds what its capped role allows a key', () => {
    const grant: RestrictedKeyGrant = {
      role: 'admin',
      scopeOrgIds: null,
      cutOffOrgIds: [],
      permissions: null,
    };
    expect(effectiveKeyPermissions(grant, 'org', 'member')).toEqual(permissionsOf('member', 'key'));
  });

  it('out of scope or cut off: nothing', () => {
    const grant: RestrictedKeyGrant = {
      role: 'admin',
      scopeOrgIds: ['a'],
      cutOffOrgIds: ['a'],
      permissions: null,
    };
    expect(effectiveKeyPermissions(grant, 'a', 'owner')).toEqual([]);
    expect(effectiveKeyPermissions(grant, 'b', 'owner')).toEqual([]);
  });

  it('property: over catalogue subsets × key roles × demotions, effective = subset ∩ capped role, always', () => {
    fc.assert(
      fc.property(grantArb, historyArb, (grant, history) => {
        let previous: Set<Permission> | null = null;
        let previousRole: Role | null = null;
        for (const creatorRole of history) {
          const effective = effectiveKeyPermissions(grant, 'org', creatorRole);
          for (const p of PERMISSION_NAMES) {
            const expected = oracle(grant, creatorRole, p);
            expect(effective.includes(p)).toBe(expected);
            // The one check procedures make agrees with the list /me shows.
            const role = RANK[grant.role] <= RANK[creatorRole] ? grant.role : creatorRole;
            expect(authorizeKey(role, grant.permissions, p).ok).toBe(expected);
          }
          // Never above the creator's current role, whatever the subset says.
          for (const p of effective)
            expect(RANK[PERMISSIONS[p].minRole]).toBeLessThanOrEqual(RANK[creatorRole]);
          // A demotion never adds a permission.
          if (previous && previousRole && RANK[creatorRole] <= RANK[previousRole]) {
            for (const p of effective) expect(previous.has(p)).toBe(true);
          }
          previous = new Set(effective);
          previousRole = creatorRole;
        }
      }),
      { numRuns: 500 },
    );
  });
});

describe('authorizeKey', () => {
  it('names why: session-only first, then the role, then the subset', () => {
    expect(authorizeKey('admin', null, 'keys:manage-org')).toMatchObject({
      ok: false,
      code: 'SESSION_REQUIRED',
    });
    expect(authorizeKey('viewer', ['projects:write'], 'projects:write')).toMatchObject({
      ok: false,
      code: 'FORBIDDEN',
      required: 'member',
    });
    expect(authorizeKey('admin', ['projects:read'], 'projects:write')).toEqual({
      ok: false,
      code: 'FORBIDDEN',
      restricted: true,
      required: 'member',
    });
    expect(authorizeKey('admin', ['projects:read'], 'projects:read')).toEqual({ ok: true });
  });
});

describe('resolveKeyPermissions', () => {
  it('keeps catalogue order and drops duplicates', () => {
    expect(resolveKeyPermissions(['projects:write', 'org:read', 'projects:write'], 'member')).toEqual({
      ok: true,
      permissions: ['org:read', 'projects:write'],
    });
  });

  it('refuses an empty subset, unknown names, session-only and above-role permissions', () => {
    expect(resolveKeyPermissions([], 'admin').ok).toBe(false);
    expect(resolveKeyPermissions(['projects:fly'], 'admin')).toMatchObject({
      ok: false,
      invalid: ['projects:fly'],
    });
    expect(resolveKeyPermissions(['keys:manage-org'], 'admin')).toMatchObject({ ok: false });
    expect(resolveKeyPermissions(['projects:delete'], 'member')).toMatchObject({
      ok: false,
      invalid: ['projects:delete'],
    });
  });

  it('property: accepts exactly the subsets of what the role allows a key', () => {
    fc.assert(
      fc.property(
        fc.constantFrom(...KEY_ROLES),
        fc.subarray(PERMISSION_NAMES, { minLength: 1 }),
        (role, subset) => {
          const usable = permissionsOf(role, 'key');
          const result = resolveKeyPermissions(subset, role);
          expect(result.ok).toBe(subset.every((p) => usable.includes(p)));
        },
      ),
    );
  });
});

describe('the catalogue, as the create dialog offers it', () => {
  it('groups every key-usable permission of the role by resource, in catalogue order', () => {
    for (const role of KEY_ROLES) {
      const groups = keyPermissionGroups(role);
      expect(groups.flatMap((g) => g.permissions)).toEqual(permissionsOf(role, 'key'));
      for (const g of groups) for (const p of g.permissions) expect(permissionResource(p)).toBe(g.resource);
      expect(new Set(groups.map((g) => g.resource)).size).toBe(groups.length);
    }
    expect(keyPermissionGroups('admin').flatMap((g) => g.permissions)).toEqual(keyUsablePermissions());
  });

  it('isPermission knows the catalogue and nothing else', () => {
    for (const p of PERMISSION_NAMES) expect(isPermission(p)).toBe(true);
    expect(isPermission('toString')).toBe(false);
    expect(isPermission('projects:fly')).toBe(false);
  });
});
