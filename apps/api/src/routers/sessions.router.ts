import { DomainError } from '@crowdee/core';
import { z } from 'zod';
import { actorOf } from '../context.ts';
import { recordAudit } from '../services/audit.service.ts';
import { listSessions, revokeOtherSessions, revokeSession } from '../services/sessions.service.ts';
import { router, sessionProcedure } from '../trpc.ts';
import { sessionOut } from './schemas.ts';

export const sessionsRouter = router({
  list: sessionProcedure
    .output(z.array(sessionOut))
    .query(({ ctx }) => listSessions(ctx.em, ctx.user.id, ctx.session.id, ctx.deps.clock())),

  revoke: sessionProcedure
    .input(z.object({ id: z.string().min(1).max(64) }))
    .output(z.object({ revoked: z.number().int() }))
    .mutation(async ({ ctx, input }) => {
      const revoked = await revokeSession(ctx.em, ctx.deps, ctx.user.id, input.id);
      if (revoked === 0) throw new DomainError('NOT_FOUND', 'Session not found.');
      recordAudit(ctx.em, actorOf(ctx), {
        action: 'session.revoked',
        target: { type: 'session', id: input.id },
        at: ctx.deps.clock(),
      });
      await ctx.em.flush();
      if (input.id === ctx.session.id) ctx.cookies.clear();
      return { revoked };
    }),

  revokeOthers: sessionProcedure.output(z.object({ revoked: z.number().int() })).mutation(async ({ ctx }) => {
    const revoked = await revokeOtherSessions(ctx.em, ctx.deps, ctx.user.id, ctx.session.id);
    recordAudit(ctx.em, actorOf(ctx), {
      action: 'session.revoked',
      target: { type: 'user', id: ctx.user.id },
      metadata: { others: revoked },
      at: ctx.deps.clock(),
    });
    await ctx.em.flush();
    return { revoked };
  }),
});
