import { DomainError } from '@crowdee/core';
import { AUDIT_ACTOR_TYPES } from '@crowdee/db';
import { z } from 'zod';
import {
  AUDIT_ACTIONS,
  AUDIT_EXPORT_FORMATS,
  AUDIT_EXPORT_MAX_EVENTS,
  type AuditFilters,
  exportAudit,
  listAudit,
} from '../services/audit.service.ts';
import { orgProcedure, router } from '../trpc.ts';
import { auditEventOut, uuid } from './schemas.ts';

const tags = ['audit'];
const instant = z.iso.datetime({ offset: true });

/** The filters `list` and `export` share, so an export is exactly the set the page showed. */
const filterInput = {
  actorUserId: uuid
    .optional()
    .describe('Events by this user: in the browser, with any of their keys or tokens'),
  actorKeyId: uuid.optional().describe('Events done with this API key'),
  actorType: z.enum(AUDIT_ACTOR_TYPES).optional().describe('Kind of actor'),
  actions: z
    .array(z.enum(AUDIT_ACTIONS))
    .max(AUDIT_ACTIONS.length)
    .optional()
    .describe('Event types; repeat the query parameter for several (any of them matches)'),
  from: instant.optional().describe('Events at or after this time (ISO 8601)'),
  to: instant.optional().describe('Events before this time (ISO 8601)'),
  cursor: z.string().max(200).optional().describe('`nextCursor` of the previous page or export part'),
};

type FilterInput = { [K in keyof typeof filterInput]?: z.infer<(typeof filterInput)[K]> };

const badCursor = () =>
  new DomainError('VALIDATION_FAILED', 'The cursor is not valid.', {
    fieldErrors: [{ path: 'cursor', message: 'Not a cursor from this list.' }],
  });

function filtersOf(input: FilterInput): AuditFilters {
  const from = input.from ? new Date(input.from) : undefined;
  const to = input.to ? new Date(input.to) : undefined;
  if (from && to && from.getTime() > to.getTime()) {
    throw new DomainError('VALIDATION_FAILED', '`from` must not be after `to`.', {
      fieldErrors: [{ path: 'from', message: 'Must not be after `to`.' }],
    });
  }
  return {
    actorUserId: input.actorUserId,
    actorKeyId: input.actorKeyId,
    actorType: input.actorType,
    actions: input.actions,
    from,
    to,
  };
}

export const auditRouter = router({
  list: orgProcedure('audit:read')
    .meta({
      openapi: {
        method: 'GET',
        path: '/orgs/{orgId}/audit',
        protect: true,
        tags,
        summary: 'List audit events',
        description:
          'The organization’s audit log, newest first, filtered by actor, event type and time, a page at a time: ' +
          'pass `nextCursor` back as `cursor` (stable while new events are written). Needs the admin role.',
      },
    })
    .input(
      z.object({ limit: z.number().int().min(1).max(100).default(50).describe('Page size'), ...filterInput }),
    )
    .output(
      z
        .object({ items: z.array(auditEventOut), nextCursor: z.string().nullable() })
        .meta({ id: 'AuditPage', description: 'One page of audit events; `nextCursor` null on the last' }),
    )
    .query(async ({ ctx, input }) => {
      const page = await listAudit(ctx.em, ctx.org.id, input.limit, input.cursor, filtersOf(input));
      if (!page) throw badCursor();
      return page;
    }),

  export: orgProcedure('audit:read')
    .meta({
      openapi: {
        method: 'GET',
        path: '/orgs/{orgId}/audit/export',
        protect: true,
        tags,
        summary: 'Export audit events',
        description:
          'The filtered audit log (the same filters as listing it) as JSON Lines or CSV, in `content`, newest ' +
          `first, at most ${AUDIT_EXPORT_MAX_EVENTS} events per call; \`nextCursor\` continues a larger export. ` +
          'CSV cells that a spreadsheet would run as a formula (starting with `=`, `+`, `-` or `@`) are prefixed ' +
          "with `'`. Needs the admin role.",
      },
    })
    .input(z.object({ format: z.enum(AUDIT_EXPORT_FORMATS).describe('`jsonl` or `csv`'), ...filterInput }))
    .output(
      z
        .object({
          format: z.enum(AUDIT_EXPORT_FORMATS),
          contentType: z.string().describe('Media type of `content`'),
          filename: z.string().describe('A file name to save `content` under'),
          count: z.number().int().describe('Events in `content`'),
          content: z
            .string()
            .describe('The events, one JSON object per line or one CSV row each after a header'),
          nextCursor: z.string().nullable().describe('Set when more events match than one export holds'),
        })
        .meta({ id: 'AuditExport', description: 'One part of an audit-log export' }),
    )
    .query(async ({ ctx, input }) => {
      const out = await exportAudit(
        ctx.em,
        ctx.org.id,
        input.format,
        filtersOf(input),
        input.cursor,
        ctx.deps.clock(),
      );
      if (!out) throw badCursor();
      return out;
    }),
});
