import { can } from './permissions.ts';
import { type Role, roleAtLeast } from './roles.ts';

export type MembershipDecision =
  | { ok: true }
  | { ok: false; code: 'FORBIDDEN'; reason: string }
  | { ok: false; code: 'LAST_OWNER'; reason: string };

const allow: MembershipDecision = { ok: true };
const forbid = (reason: string): MembershipDecision => ({ ok: false, code: 'FORBIDDEN', reason });
const lastOwner: MembershipDecision = {
  ok: false,
  code: 'LAST_OWNER',
  reason: 'An organization must keep at least one owner; make someone else owner first.',
};

/**
 * May `actor` give someone the role `role`? Nobody grants a role above their own, and only owners grant owner
 * (which `roleAtLeast` already implies, spelled out for the reader).
 */
export function canGrantRole(actor: Role, role: Role): boolean {
  return can(actor, 'members:manage') && roleAtLeast(actor, role);
}

/**
 * Changing a member's role. Only owners touch owners (promote to, demote from); nobody grants above their own role;
 * the last owner cannot be demoted.
 */
export function decideRoleChange(input: {
  actor: Role;
  targetCurrent: Role;
  targetNew: Role;
  ownerCount: number;
}): MembershipDecision {
  const { actor, targetCurrent, targetNew, ownerCount } = input;
  if (!can(actor, 'members:manage')) return forbid('Changing roles needs the admin role.');
  if (!roleAtLeast(actor, targetCurrent)) return forbid(`Only owners can change an ${targetCurrent}'s role.`);
  if (!canGrantRole(actor, targetNew))
    return forbid(`You cannot grant the ${targetNew} role: it is above your own.`);
  if (targetCurrent === 'owner' && targetNew !== 'owner' && ownerCount <= 1) return lastOwner;
  return allow;
}

export function decideRemoveMember(input: {
  actor: Role;
  target: Role;
  ownerCount: number;
}): MembershipDecision {
  const { actor, target, ownerCount } = input;
  if (!can(actor, 'members:manage')) return forbid('Removing members needs the admin role.');
  if (!roleAtLeast(actor, target)) return forbid(`Only owners can remove an ${target}.`);
  if (target === 'owner' && ownerCount <= 1) return lastOwner;
  return allow;
}

export function decideLeave(input: { role: Role; ownerCount: number }): MembershipDecision {
  if (input.role === 'owner' && input.ownerCount <= 1) return lastOwner;
  return allow;
}
