import { z } from 'zod';
import { keySparklines, ownKeyUsage, rangeOf, usageReport } from '../services/usage.service.ts';
import { orgProcedure, router, sessionProcedure } from '../trpc.ts';
import { uuid } from './schemas.ts';
import { recentIpsOut, usageRangeInput, usageReportOut } from './usage.schemas.ts';

/** Usage for the settings app: a key's own (its creator only) and an organization's (its admins). */
export const usageRouter = router({
  /** One of my keys: hourly counts over a range and the addresses it was last used from. */
  key: sessionProcedure
    .input(z.object({ id: uuid, ...usageRangeInput }))
    .output(usageReportOut.extend({ recentIps: recentIpsOut }))
    .query(({ ctx, input }) => ownKeyUsage(ctx.em, ctx.user.id, input.id, rangeOf(input, ctx.deps.clock()))),

  /** Requests per day over the last 7 days for each of my keys (the table's sparklines). */
  sparklines: sessionProcedure
    .output(z.array(z.object({ keyId: uuid, days: z.array(z.number().int()) })))
    .query(({ ctx }) => keySparklines(ctx.em, ctx.user.id, ctx.deps.clock())),

  /** An organization's requests per hour (every member's keys, sessions and session tokens acting in it). */
  org: orgProcedure('keys:manage-org')
    .input(z.object(usageRangeInput))
    .output(usageReportOut)
    .query(({ ctx, input }) =>
      usageReport(ctx.em, { kind: 'org', id: ctx.org.id }, rangeOf(input, ctx.deps.clock())),
    ),
});
