import { Membership, Organization } from '@crowdee/db';
import { z } from 'zod';
import { actorOf } from '../context.ts';
import { signIn, signUp } from '../services/accounts.service.ts';
import { recordAudit } from '../services/audit.service.ts';
import { deleteSession } from '../services/sessions.service.ts';
import { publicProcedure, router, sessionProcedure } from '../trpc.ts';
import { emailSchema, nameSchema, okOut, passwordSchema, roleSchema, userOut, uuid } from './schemas.ts';

const signedInOut = z.object({ user: userOut });

export const authRouter = router({
  signUp: publicProcedure
    .input(z.object({ email: emailSchema, password: passwordSchema, name: nameSchema(200) }))
    .output(signedInOut)
    .mutation(async ({ ctx, input }) => {
      const result = await signUp(ctx.deps, ctx.em, input, ctx.request);
      ctx.cookies.set(result.token, result.expiresAt);
      return { user: result.user };
    }),

  signIn: publicProcedure
    .input(z.object({ email: z.string().max(320), password: passwordSchema }))
    .output(signedInOut)
    .mutation(async ({ ctx, input }) => {
      const previous = ctx.auth.kind === 'session' ? ctx.auth.session.id : null;
      const result = await signIn(ctx.deps, ctx.em, input, ctx.request, previous);
      ctx.cookies.set(result.token, result.expiresAt);
      return { user: result.user };
    }),

  signOut: sessionProcedure.output(okOut).mutation(async ({ ctx }) => {
    await deleteSession(ctx.em, ctx.session.id);
    recordAudit(ctx.em, actorOf(ctx), {
      action: 'auth.sign_out',
      target: { type: 'session', id: ctx.session.id },
      at: ctx.deps.clock(),
    });
    await ctx.em.flush();
    ctx.cookies.clear();
    return { ok: true as const };
  }),

  me: sessionProcedure
    .output(
      z.object({
        user: userOut,
        session: z.object({ createdAt: z.string(), expiresAt: z.string() }),
        activeOrganization: z.object({ id: uuid, name: z.string(), role: roleSchema }).nullable(),
      }),
    )
    .query(async ({ ctx }) => {
      let activeOrganization = null;
      const orgId = ctx.session.activeOrganizationId;
      if (orgId) {
        // Only while still a member: a removed member's session forgets the organization.
        const membership = await ctx.em.findOne(
          Membership,
          { user: ctx.user.id, organization: orgId },
          { fields: ['role'] },
        );
        const org = membership
          ? await ctx.em.findOne(Organization, { id: orgId }, { fields: ['name'] })
          : null;
        if (membership && org) activeOrganization = { id: orgId, name: org.name, role: membership.role };
      }
      return {
        user: ctx.user,
        session: {
          createdAt: ctx.session.createdAt.toISOString(),
          expiresAt: ctx.session.expiresAt.toISOString(),
        },
        activeOrganization,
      };
    }),
});
