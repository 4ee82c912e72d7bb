import { z } from 'zod';
import { actorOf } from '../context.ts';
import { lockedRoleOf } from '../services/access.service.ts';
import { cancelInvitation, inviteMember, listOrgInvitations } from '../services/invitations.service.ts';
import {
  leaveOrganization,
  listMembers,
  removeMember,
  updateMemberRole,
} from '../services/members.service.ts';
import { orgProcedure, router } from '../trpc.ts';

import { emailSchema, invitationOut, memberOut, okOut, roleSchema, uuid } from './schemas.ts';

export const membersRouter = router({
  list: orgProcedure('members:read')
    .output(z.array(memberOut))
    .query(({ ctx }) => listMembers(ctx.em, ctx.org.id)),

  /**
   * Invites an address (never adds anyone: joining takes the invitee's accept). The same answer whether or not an
   * account uses the address. Session-only: a leaked admin key must not be able to invite its holder in.
   */
  invite: orgProcedure('members:invite')
    .meta({ rateLimit: 'invitation', sudo: true })
    .input(z.object({ email: emailSchema, role: roleSchema }))
    .output(invitationOut)
    .mutation(({ ctx, input }) =>
      inviteMember(
        ctx.deps,
        ctx.em,
        { ...actorOf(ctx), userId: ctx.caller.userId },
        ctx.org.id,
        lockedRoleOf(ctx.caller, ctx.org.id),
        input,
      ),
    ),

  /** Pending invitations of the organization. */
  invitations: orgProcedure('members:manage')
    .output(z.array(invitationOut))
    .query(({ ctx }) => listOrgInvitations(ctx.deps, ctx.em, ctx.org.id)),

  cancelInvitation: orgProcedure('members:manage')
    .input(z.object({ invitationId: uuid }))
    .output(okOut)
    .mutation(async ({ ctx, input }) => {
      await cancelInvitation(
        ctx.deps,
        ctx.em,
        actorOf(ctx),
        ctx.org.id,
        lockedRoleOf(ctx.caller, ctx.org.id),
        input.invitationId,
      );
      return { ok: true as const };
    }),

  /**
   * Sudo mode, and so a signed-in session only: any role change (a promotion grants access; demoting the admins who
   * would notice is the other half of a takeover), which a key can no longer do.
   */
  updateRole: orgProcedure('members:manage')
    .meta({ sudo: true })
    .input(z.object({ userId: uuid, role: roleSchema }))
    .output(memberOut)
    .mutation(({ ctx, input }) =>
      updateMemberRole(
        ctx.deps,
        ctx.em,
        actorOf(ctx),
        ctx.org.id,
        lockedRoleOf(ctx.caller, ctx.org.id),
        input,
      ),
    ),

  remove: orgProcedure('members:manage')
    .input(z.object({ userId: uuid }))
    .output(okOut)
    .mutation(async ({ ctx, input }) => {
      await removeMember(
        ctx.deps,
        ctx.em,
        actorOf(ctx),
        ctx.org.id,
        lockedRoleOf(ctx.caller, ctx.org.id),
        input.userId,
      );
      return { ok: true as const };
    }),

  /** Any member may leave (the last owner may not), from a signed-in session only: never through a key. */
  leave: orgProcedure('members:leave')
    .output(okOut)
    .mutation(async ({ ctx }) => {
      await leaveOrganization(
        ctx.deps,
        ctx.em,
        { ...actorOf(ctx), userId: ctx.caller.userId },
        ctx.org.id,
        // Leaving stays open to a member the org's two-factor policy stops: the re-read must say which action.
        lockedRoleOf(ctx.caller, ctx.org.id, 'members:leave'),
      );
      return { ok: true as const };
    }),
});
