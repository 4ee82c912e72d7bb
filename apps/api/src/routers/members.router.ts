import type { EntityManager } from '@mikro-orm/postgresql';
import { z } from 'zod';
import { actorOf } from '../context.ts';
import {
  addMember,
  leaveOrganization,
  listMembers,
  removeMember,
  updateMemberRole,
} from '../services/members.service.ts';
import { type Caller, lockedRoleInOrganization, orgProcedure, router } from '../trpc.ts';

const lockedRole = (caller: Caller, orgId: string) => (tem: EntityManager) =>
  lockedRoleInOrganization(tem, caller, orgId);

import { emailSchema, memberOut, okOut, roleSchema, uuid } from './schemas.ts';

export const membersRouter = router({
  list: orgProcedure('members:read')
    .output(z.array(memberOut))
    .query(({ ctx }) => listMembers(ctx.em, ctx.org.id)),

  add: orgProcedure('members:manage')
    .input(z.object({ email: emailSchema, role: roleSchema }))
    .output(memberOut)
    .mutation(({ ctx, input }) =>
      addMember(ctx.deps, ctx.em, actorOf(ctx), ctx.org.id, lockedRole(ctx.caller, ctx.org.id), input),
    ),

  updateRole: orgProcedure('members:manage')
    .input(z.object({ userId: uuid, role: roleSchema }))
    .output(memberOut)
    .mutation(({ ctx, input }) =>
      updateMemberRole(ctx.deps, ctx.em, actorOf(ctx), ctx.org.id, lockedRole(ctx.caller, ctx.org.id), input),
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
        lockedRole(ctx.caller, ctx.org.id),
        input.userId,
      );
      return { ok: true as const };
    }),

  /** Any member may leave (the last owner may not). Needs no permission beyond membership. */
  leave: orgProcedure('org:read')
    .output(okOut)
    .mutation(async ({ ctx }) => {
      await leaveOrganization(
        ctx.deps,
        ctx.em,
        { ...actorOf(ctx), userId: ctx.caller.userId },
        ctx.org.id,
        lockedRole(ctx.caller, ctx.org.id),
      );
      return { ok: true as const };
    }),
});
