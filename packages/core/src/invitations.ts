import { normalizeEmail } from './accounts.ts';
import { canGrantRole, type MembershipDecision } from './members.ts';
import { can } from './permissions.ts';
import type { Role } from './roles.ts';

/**
 * Joining an organization needs the joiner's consent: an admin invites an email address, and only the holder of
 * that address, signed in with it verified, can accept. These are the rules; the API applies them.
 */
export const INVITATION_STATUSES = ['pending', 'accepted', 'declined', 'cancelled', 'expired'] as const;
export type InvitationStatus = (typeof INVITATION_STATUSES)[number];

/** Who may invite whom: admins and owners, never above their own role (so only owners invite owners). */
export function decideInvite(inviter: Role, role: Role): MembershipDecision {
  if (!can(inviter, 'members:manage'))
    return { ok: false, code: 'FORBIDDEN', reason: 'Inviting needs the admin role.' };
  if (!canGrantRole(inviter, role))
    return {
      ok: false,
      code: 'FORBIDDEN',
      reason: `You cannot invite as ${role}: it is above your own role.`,
    };
  return { ok: true };
}

/** The status an invitation really has now: a pending one past its expiry has expired, whatever the row says. */
export function invitationStatus(
  invitation: { status: InvitationStatus; expiresAt: Date },
  now: Date,
): InvitationStatus {
  if (invitation.status === 'pending' && now.getTime() >= invitation.expiresAt.getTime()) return 'expired';
  return invitation.status;
}

/** Is this invitation addressed to this account? Compared on the normalised address, never on raw input. */
export function invitationAddressedTo(invitationEmail: string, userEmail: string): boolean {
  return normalizeEmail(invitationEmail) === normalizeEmail(userEmail);
}

export type InvitationResponseDecision =
  | { ok: true }
  | { ok: false; code: 'NOT_FOUND'; reason: string }
  | { ok: false; code: 'EMAIL_NOT_VERIFIED'; reason: string }
  | { ok: false; code: 'INVITATION_EXPIRED'; reason: string };

/**
 * May this account accept (or decline) this invitation? Only the account holding the invited address, and only
 * once it has proved it owns that address: whoever merely registered the address first gets nothing. Someone
 * else's invitation, and one already answered or cancelled, look exactly like a missing one.
 */
export function decideInvitationResponse(input: {
  invitation: { email: string; status: InvitationStatus; expiresAt: Date };
  user: { email: string; emailVerified: boolean };
  now: Date;
}): InvitationResponseDecision {
  const { invitation, user, now } = input;
  if (!invitationAddressedTo(invitation.email, user.email))
    return { ok: false, code: 'NOT_FOUND', reason: 'Invitation not found.' };
  const status = invitationStatus(invitation, now);
  if (status === 'expired')
    return {
      ok: false,
      code: 'INVITATION_EXPIRED',
      reason: 'This invitation has expired: ask for a new one.',
    };
  if (status !== 'pending') return { ok: false, code: 'NOT_FOUND', reason: 'Invitation not found.' };
  if (!user.emailVerified)
    return {
      ok: false,
      code: 'EMAIL_NOT_VERIFIED',
      reason: 'Verify your email address before answering invitations.',
    };
  return { ok: true };
}

/** Creating an organization needs a verified address, so every organization has a reachable owner. */
export function decideCreateOrganization(user: {
  emailVerified: boolean;
}): { ok: true } | { ok: false; code: 'EMAIL_NOT_VERIFIED'; reason: string } {
  return user.emailVerified
    ? { ok: true }
    : {
        ok: false,
        code: 'EMAIL_NOT_VERIFIED',
        reason: 'Verify your email address before creating an organization.',
      };
}
