import { z } from 'zod';
import { actorOf } from '../context.ts';
import { listMyInvitations, respondToInvitation } from '../services/invitations.service.ts';
import { router, sessionProcedure } from '../trpc.ts';
import { myInvitationOut, okOut, oneTimeTokenSchema, roleSchema, uuid } from './schemas.ts';

/**
 * The invitee's side: invitations addressed to the signed-in user's verified address. `token` is the one from the
 * mailed link, when the answer comes from there; from the list in the app the verified address is what counts.
 */
const answerInput = z.object({ invitationId: uuid, token: oneTimeTokenSchema.optional() });

export const invitationsRouter = router({
  list: sessionProcedure
    .output(z.array(myInvitationOut))
    .query(({ ctx }) => listMyInvitations(ctx.deps, ctx.em, ctx.user)),

  accept: sessionProcedure
    .input(answerInput)
    .output(z.object({ orgId: uuid, role: roleSchema }))
    .mutation(({ ctx, input }) =>
      respondToInvitation(ctx.deps, ctx.em, actorOf(ctx), ctx.user, input, 'accept'),
    ),

  decline: sessionProcedure
    .input(answerInput)
    .output(okOut)
    .mutation(async ({ ctx, input }) => {
      await respondToInvitation(ctx.deps, ctx.em, actorOf(ctx), ctx.user, input, 'decline');
      return { ok: true as const };
    }),
});
