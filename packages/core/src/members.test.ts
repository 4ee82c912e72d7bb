import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { decideLeave, decideRemoveMember, decideRoleChange } from './members.ts';
import { ROLES, roleAtLeast } from './roles.ts';

const role = fc.constantFrom(...ROLES);

describe('membership rules', () => {
  it('keeps the last owner', () => {
    expect(
      decideRoleChange({ actor: 'owner', targetCurrent: 'owner', targetNew: 'admin', ownerCount: 1 }),
    ).toMatchObject({
      ok: false,
      code: 'LAST_OWNER',
    });
    expect(
      decideRoleChange({ actor: 'owner', targetCurrent: 'owner', targetNew: 'admin', ownerCount: 2 }),
    ).toEqual({
      ok: true,
    });
    expect(decideRemoveMember({ actor: 'owner', target: 'owner', ownerCount: 1 })).toMatchObject({
      code: 'LAST_OWNER',
    });
    expect(decideLeave({ role: 'owner', ownerCount: 1 })).toMatchObject({ code: 'LAST_OWNER' });
    expect(decideLeave({ role: 'owner', ownerCount: 2 })).toEqual({ ok: true });
    expect(decideLeave({ role: 'viewer', ownerCount: 1 })).toEqual({ ok: true });
  });

  it('lets only owners touch owners', () => {
    expect(
      decideRoleChange({ actor: 'admin', targetCurrent: 'owner', targetNew: 'viewer', ownerCount: 3 }),
    ).toMatchObject({ ok: false, code: 'FORBIDDEN' });
    expect(decideRemoveMember({ actor: 'admin', target: 'owner', ownerCount: 3 })).toMatchObject({
      code: 'FORBIDDEN',
    });
    expect(decideRemoveMember({ actor: 'admin', target: 'member', ownerCount: 1 })).toEqual({ ok: true });
  });

  it('property: nobody ever grants a role above their own', () => {
    fc.assert(
      fc.property(role, role, role, fc.integer({ min: 1, max: 3 }), (actor, current, next, owners) => {
        const d = decideRoleChange({ actor, targetCurrent: current, targetNew: next, ownerCount: owners });
        return !d.ok || (roleAtLeast(actor, next) && roleAtLeast(actor, current));
      }),
    );
  });

  it('property: a change never leaves an organization without an owner', () => {
    fc.assert(
      fc.property(role, role, (actor, next) => {
        const d = decideRoleChange({ actor, targetCurrent: 'owner', targetNew: next, ownerCount: 1 });
        return !d.ok || next === 'owner';
      }),
    );
  });
});
