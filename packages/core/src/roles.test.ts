import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { authorize, can, PERMISSION_NAMES, PERMISSIONS, permissionsOf } from './permissions.ts';
import {
  compareRoles,
  isKeyRole,
  isRole,
  KEY_ROLES,
  keyRolesFor,
  lowerRole,
  ROLES,
  roleAtLeast,
  rolesUpTo,
} from './roles.ts';

const role = fc.constantFrom(...ROLES);

describe('roles', () => {
  it('are ordered viewer < member < admin < owner', () => {
    expect([...ROLES].sort(compareRoles)).toEqual(['viewer', 'member', 'admin', 'owner']);
    expect(roleAtLeast('owner', 'admin')).toBe(true);
    expect(roleAtLeast('member', 'admin')).toBe(false);
    expect(roleAtLeast('viewer', 'viewer')).toBe(true);
  });

  it('keys never carry owner', () => {
    expect(KEY_ROLES).toEqual(['viewer', 'member', 'admin']);
    expect(isKeyRole('owner')).toBe(false);
    expect(isRole('owner')).toBe(true);
    expect(isRole('root')).toBe(false);
    expect(isRole(3)).toBe(false);
  });

  it('offers a creator only key roles at or below their own', () => {
    expect(keyRolesFor('viewer')).toEqual(['viewer']);
    expect(keyRolesFor('member')).toEqual(['viewer', 'member']);
    expect(keyRolesFor('admin')).toEqual(['viewer', 'member', 'admin']);
    expect(keyRolesFor('owner')).toEqual(['viewer', 'member', 'admin']);
    expect(rolesUpTo('admin')).toEqual(['viewer', 'member', 'admin']);
  });

  it('property: lowerRole is the minimum (commutative, idempotent, below both)', () => {
    fc.assert(
      fc.property(role, role, (a, b) => {
        const low = lowerRole(a, b);
        return (
          low === lowerRole(b, a) &&
          lowerRole(a, a) === a &&
          roleAtLeast(a, low) &&
          roleAtLeast(b, low) &&
          (low === a || low === b)
        );
      }),
    );
  });

  it('property: roleAtLeast is a total order', () => {
    fc.assert(
      fc.property(role, role, role, (a, b, c) => {
        const total = roleAtLeast(a, b) || roleAtLeast(b, a);
        const antisym = !(roleAtLeast(a, b) && roleAtLeast(b, a)) || a === b;
        const trans = !(roleAtLeast(a, b) && roleAtLeast(b, c)) || roleAtLeast(a, c);
        return total && antisym && trans;
      }),
    );
  });
});

describe('permission catalogue', () => {
  it('matches the documented minimum roles', () => {
    expect(PERMISSIONS['projects:read'].minRole).toBe('viewer');
    expect(PERMISSIONS['projects:write'].minRole).toBe('member');
    expect(PERMISSIONS['projects:delete'].minRole).toBe('admin');
    expect(PERMISSIONS['org:delete'].minRole).toBe('owner');
    expect(PERMISSIONS['members:manage'].minRole).toBe('admin');
    expect(PERMISSIONS['datasets:read'].minRole).toBe('viewer');
    expect(PERMISSIONS['datasets:write'].minRole).toBe('member');
    expect(PERMISSIONS['datasets:delete'].minRole).toBe('admin');
    expect(PERMISSIONS['runs:read'].minRole).toBe('viewer');
    expect(PERMISSIONS['runs:write'].minRole).toBe('member');
  });

  it('never lets a key manage keys or delete an organization, whatever its role', () => {
    for (const r of ROLES) {
      expect(authorize(r, 'keys:manage-org', 'key')).toMatchObject({ ok: false, code: 'SESSION_REQUIRED' });
      expect(authorize(r, 'org:delete', 'key')).toMatchObject({ ok: false, code: 'SESSION_REQUIRED' });
      expect(authorize(r, 'members:leave', 'key')).toMatchObject({ ok: false, code: 'SESSION_REQUIRED' });
    }
    expect(authorize('viewer', 'members:leave', 'session')).toEqual({ ok: true });
    expect(authorize('owner', 'org:delete', 'session')).toEqual({ ok: true });
    expect(authorize('admin', 'org:delete', 'session')).toEqual({
      ok: false,
      code: 'FORBIDDEN',
      required: 'owner',
    });
  });

  it('property: permissions are monotone in the role', () => {
    fc.assert(
      fc.property(
        role,
        role,
        fc.constantFrom(...PERMISSION_NAMES),
        fc.constantFrom('session', 'key'),
        (a, b, p, via) => {
          if (!roleAtLeast(a, b)) return true;
          return !can(b, p, via) || can(a, p, via);
        },
      ),
    );
  });

  it('property: a key never holds a permission a session of the same role lacks', () => {
    fc.assert(fc.property(role, (r) => permissionsOf(r, 'key').every((p) => can(r, p, 'session'))));
  });

  it('every key-usable permission is reachable by some key role (no dead entries)', () => {
    for (const p of PERMISSION_NAMES) {
      if (!PERMISSIONS[p].keys) continue;
      expect(KEY_ROLES.some((r) => can(r, p, 'key'))).toBe(true);
    }
  });
});
