import { z } from 'zod';
import { actorOf } from '../context.ts';
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
      const revoked = await revokeSession(ctx.deps, ctx.em, actorOf(ctx), ctx.user.id, input.id);
      if (input.id === ctx.session.id) ctx.cookies.clear();
      return { revoked };
    }),

  revokeOthers: sessionProcedure
    .output(z.object({ revoked: z.number().int() }))
    .mutation(async ({ ctx }) => ({
      revoked: await revokeOtherSessions(ctx.deps, ctx.em, actorOf(ctx), ctx.user.id, ctx.session.id),
    })),
});
