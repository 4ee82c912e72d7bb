import { RATE_QUOTA_MAX, RATE_WINDOW_MAX_SECONDS } from '@crowdee/core';
import { z } from 'zod';
import { actorOf } from '../context.ts';
import { orgLimits, requestLimit } from '../services/limit-requests.service.ts';
import { orgProcedure, router } from '../trpc.ts';
import { limitRequestOut, orgLimitsOut } from './usage.schemas.ts';

/** Settings → Limits: an organization's limits, and asking an operator for more (admins, signed-in only). */
export const limitsRouter = router({
  get: orgProcedure('keys:manage-org')
    .output(orgLimitsOut)
    .query(({ ctx }) => orgLimits(ctx.deps, ctx.em, ctx.org.id)),

  request: orgProcedure('keys:manage-org')
    .input(
      z.object({
        quota: z.number().int().min(1).max(RATE_QUOTA_MAX),
        windowSeconds: z.number().int().min(1).max(RATE_WINDOW_MAX_SECONDS),
        justification: z.string().trim().min(10, 'At least 10 characters.').max(1000),
        until: z.iso.datetime({ offset: true }).nullable().optional(),
      }),
    )
    .output(limitRequestOut)
    .mutation(({ ctx, input }) =>
      requestLimit(
        ctx.deps,
        ctx.em,
        { ...actorOf(ctx), userId: ctx.caller.userId },
        { ...input, orgId: ctx.org.id },
      ),
    ),
});
