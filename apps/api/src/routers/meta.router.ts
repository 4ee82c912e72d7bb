import { z } from 'zod';
import { API_VERSION } from '../api-version.ts';
import { publicProcedure, router } from '../trpc.ts';

export const metaRouter = router({
  /** A cheap, public connectivity check for REST clients (the CLI's `crowdee status`, load balancers). */
  status: publicProcedure
    .meta({
      openapi: {
        method: 'GET',
        path: '/status',
        protect: false,
        tags: ['meta'],
        summary: 'API status and version',
        description:
          'Needs no key. For connectivity checks: it does not touch the database (see `/healthz` for that).',
      },
    })
    .output(
      z
        .object({ status: z.literal('ok'), version: z.string(), time: z.string() })
        .meta({ id: 'Status', description: 'The API is up; its version and clock' }),
    )
    .query(({ ctx }) => ({
      status: 'ok' as const,
      version: API_VERSION,
      time: ctx.deps.clock().toISOString(),
    })),
});
