import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  canGrantKeyRole,
  effectiveKeyRole,
  type KeyGrant,
  keyAccess,
  keyAllowedInOrg,
  keyInScope,
  orgsInScope,
  orgsKeyMayReach,
  scopeWithinMemberships,
} from './access.ts';
import { authorize, PERMISSION_NAMES } from './permissions.ts';
import { KEY_ROLES, ROLES, type Role, roleAtLeast } from './roles.ts';

const orgIds = ['org-a', 'org-b', 'org-c', 'org-d'];
const grantArb = fc.record({
  role: fc.constantFrom(...KEY_ROLES),
  scopeOrgIds: fc.option(fc.subarray(orgIds, { minLength: 1 }), { nil: null }),
  cutOffOrgIds: fc.subarray(orgIds),
});
const creatorRoleArb = fc.option(fc.constantFrom(...ROLES), { nil: null });

describe('keyAccess', () => {
  it('caps the key by the creator’s current role', () => {
    const grant: KeyGrant = { role: 'admin', scopeOrgIds: null, cutOffOrgIds: [] };
    expect(keyAccess(grant, 'org-a', 'owner')).toEqual({ ok: true, role: 'admin' });
    expect(keyAccess(grant, 'org-a', 'member')).toEqual({ ok: true, role: 'member' });
    expect(keyAccess(grant, 'org-a', 'viewer')).toEqual({ ok: true, role: 'viewer' });
    expect(keyAccess(grant, 'org-a', null)).toEqual({ ok: false, reason: 'not-member' });
  });

  it('rejects organizations outside the scope before looking at membership', () => {
    const grant: KeyGrant = { role: 'member', scopeOrgIds: ['org-a'], cutOffOrgIds: [] };
    expect(keyAccess(grant, 'org-b', 'owner')).toEqual({ ok: false, reason: 'out-of-scope' });
    expect(keyAccess(grant, 'org-b', null)).toEqual({ ok: false, reason: 'out-of-scope' });
    expect(keyAccess(grant, 'org-a', 'owner')).toEqual({ ok: true, role: 'member' });
  });

  it('property: an effective role never exceeds the key role nor the creator’s role', () => {
    fc.assert(
      fc.property(grantArb, fc.constantFrom(...orgIds), creatorRoleArb, (grant, org, creator) => {
        const eff = effectiveKeyRole(grant, org, creator);
        if (eff === null) return true;
        return creator !== null && roleAtLeast(creator, eff) && roleAtLeast(grant.role, eff);
      }),
    );
  });

  it('property: the effective role is exactly min(key role, creator role) inside scope', () => {
    fc.assert(
      fc.property(grantArb, fc.constantFrom(...orgIds), fc.constantFrom(...ROLES), (grant, org, creator) => {
        const eff = effectiveKeyRole(grant, org, creator);
        const inScope = grant.scopeOrgIds === null || grant.scopeOrgIds.includes(org);
        if (!inScope || grant.cutOffOrgIds.includes(org)) return eff === null;
        const expected: Role = roleAtLeast(creator, grant.role) ? grant.role : creator;
        return eff === expected;
      }),
    );
  });

  it('property: no permission is granted to a key beyond what its creator holds right now', () => {
    fc.assert(
      fc.property(
        grantArb,
        fc.constantFrom(...orgIds),
        creatorRoleArb,
        fc.constantFrom(...PERMISSION_NAMES),
        (grant, org, creator, permission) => {
          const eff = effectiveKeyRole(grant, org, creator);
          if (eff === null) return true;
          const viaKey = authorize(eff, permission, 'key').ok;
          const creatorMay = creator !== null && authorize(creator, permission, 'session').ok;
          return !viaKey || creatorMay;
        },
      ),
    );
  });

  it('property: demoting the creator never widens what a key may do', () => {
    fc.assert(
      fc.property(grantArb, fc.constantFrom(...ROLES), fc.constantFrom(...ROLES), (grant, before, after) => {
        if (!roleAtLeast(before, after)) return true;
        const was = effectiveKeyRole(grant, 'org-a', before);
        const now = effectiveKeyRole(grant, 'org-a', after);
        return now === null || (was !== null && roleAtLeast(was, now));
      }),
    );
  });
});

describe('keyAllowedInOrg (scope ∩ not cut off)', () => {
  it('refuses out-of-scope first, then cut-off organizations', () => {
    const grant = { scopeOrgIds: ['org-a', 'org-b'], cutOffOrgIds: ['org-b', 'org-c'] };
    expect(keyAllowedInOrg(grant, 'org-a')).toBe('allowed');
    expect(keyAllowedInOrg(grant, 'org-b')).toBe('cut-off');
    expect(keyAllowedInOrg(grant, 'org-c')).toBe('out-of-scope');
    expect(keyAccess({ role: 'admin', ...grant }, 'org-b', 'owner')).toEqual({
      ok: false,
      reason: 'cut-off',
    });
  });

  it('property: allowed exactly when in scope and not cut off', () => {
    fc.assert(
      fc.property(grantArb, fc.constantFrom(...orgIds), (grant, org) => {
        const allowed = keyInScope(grant, org) && !grant.cutOffOrgIds.includes(org);
        expect(keyAllowedInOrg(grant, org) === 'allowed').toBe(allowed);
      }),
    );
  });

  it('property: a key acts only where it is allowed, whatever the creator’s role', () => {
    fc.assert(
      fc.property(grantArb, fc.constantFrom(...orgIds), creatorRoleArb, (grant, org, creator) => {
        if (keyAccess(grant, org, creator).ok) expect(keyAllowedInOrg(grant, org)).toBe('allowed');
      }),
    );
  });

  it('property: cutting a key off from one organization changes nothing in any other', () => {
    fc.assert(
      fc.property(
        grantArb,
        fc.constantFrom(...orgIds),
        fc.constantFrom(...orgIds),
        creatorRoleArb,
        (grant, cutting, elsewhere, creator) => {
          fc.pre(cutting !== elsewhere);
          const after = { ...grant, cutOffOrgIds: [...grant.cutOffOrgIds, cutting] };
          expect(keyAccess(after, elsewhere, creator)).toEqual(keyAccess(grant, elsewhere, creator));
          expect(keyAccess(after, cutting, creator).ok).toBe(false);
        },
      ),
    );
  });

  it('property: orgsKeyMayReach is orgsInScope minus the cut-offs', () => {
    fc.assert(
      fc.property(grantArb, fc.subarray(orgIds), (grant, mine) => {
        const reach = orgsKeyMayReach(grant, mine);
        expect(reach).toEqual(orgsInScope(grant, mine).filter((o) => !grant.cutOffOrgIds.includes(o)));
        for (const o of reach) expect(keyAllowedInOrg(grant, o)).toBe('allowed');
      }),
    );
  });
});

describe('orgsInScope', () => {
  it('narrows the creator’s organizations to the scope, or keeps them all when unscoped', () => {
    expect(orgsInScope({ scopeOrgIds: null }, ['org-a', 'org-b'])).toEqual(['org-a', 'org-b']);
    expect(orgsInScope({ scopeOrgIds: ['org-b', 'org-z'] }, ['org-a', 'org-b'])).toEqual(['org-b']);
  });

  it('property: every reachable organization is in scope and among the creator’s', () => {
    fc.assert(
      fc.property(grantArb, fc.subarray(orgIds), (grant, mine) =>
        orgsInScope(grant, mine).every((o) => mine.includes(o) && keyInScope(grant, o)),
      ),
    );
  });
});

describe('creation rules', () => {
  it('lets a creator grant only roles at or below their own', () => {
    expect(canGrantKeyRole('viewer', 'viewer')).toBe(true);
    expect(canGrantKeyRole('viewer', 'member')).toBe(false);
    expect(canGrantKeyRole('member', 'admin')).toBe(false);
    expect(canGrantKeyRole('owner', 'admin')).toBe(true);
    expect(canGrantKeyRole(null, 'viewer')).toBe(false);
  });

  it('accepts a scope only inside the creator’s memberships and never an empty one', () => {
    const mine = new Set(['org-a', 'org-b']);
    expect(scopeWithinMemberships(['org-a'], mine)).toBe(true);
    expect(scopeWithinMemberships(['org-a', 'org-c'], mine)).toBe(false);
    expect(scopeWithinMemberships([], mine)).toBe(false);
  });
});
