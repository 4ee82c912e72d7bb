import { DomainError } from '@crowdee/core';
import { z } from 'zod';
import { listAudit } from '../services/audit.service.ts';
import { orgProcedure, router } from '../trpc.ts';
import { auditEventOut } from './schemas.ts';

export const auditRouter = router({
  list: orgProcedure('audit:read')
    .input(
      z.object({
        limit: z.number().int().min(1).max(100).default(50),
        cursor: z.string().max(200).optional(),
      }),
    )
    .output(z.object({ items: z.array(auditEventOut), nextCursor: z.string().nullable() }))
    .query(async ({ ctx, input }) => {
      const page = await listAudit(ctx.em, ctx.org.id, input.limit, input.cursor);
      if (!page)
        throw new DomainError('VALIDATION_FAILED', 'The cursor is not valid.', {
          fieldErrors: [{ path: 'cursor', message: 'Not a cursor from this list.' }],
        });
      return page;
    }),
});
