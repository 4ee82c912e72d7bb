import { decideInvite } from '@crowdee/core/invitations';
import { decideLeave, decideRemoveMember, decideRoleChange } from '@crowdee/core/members';
import { ROLES, type Role } from '@crowdee/core/roles';

/**
 * Which membership actions to offer: each one asks packages/core's decision for exactly that change, so the UI
 * offers what the API will accept and nothing else. The API still decides, and a refusal is shown as is.
 */
export const LAST_OWNER_REASON =
  'An organization must keep at least one owner; make someone else owner first.';

/** Roles `actor` may invite someone with (and so may also withdraw an invitation of). */
export function grantableRoles(actor: Role): Role[] {
  return ROLES.filter((role) => decideInvite(actor, role).ok);
}

/** The roles `actor` may move a member holding `target` to (never the one they hold). */
export function roleChangeChoices(actor: Role, target: Role, ownerCount: number): Role[] {
  return ROLES.filter(
    (role) =>
      role !== target && decideRoleChange({ actor, targetCurrent: target, targetNew: role, ownerCount }).ok,
  );
}

export function canRemoveMember(actor: Role, target: Role, ownerCount: number): boolean {
  return decideRemoveMember({ actor, target, ownerCount }).ok;
}

export function canLeave(role: Role, ownerCount: number): boolean {
  return decideLeave({ role, ownerCount }).ok;
}
