import { LIMIT_REQUEST_STATUSES } from '@crowdee/core';
import { z } from 'zod';
import { uuid } from './schemas.ts';

const isoDate = z.string().describe('ISO 8601 date-time');

/** `from` / `to` of a usage query: optional ISO date-times; packages/core checks the range itself. */
export const usageRangeInput = {
  from: z.iso
    .datetime({ offset: true })
    .optional()
    .describe(
      'Start (inclusive, rounded down to the hour). Default: 30 days before `to`. At most 90 days back.',
    ),
  to: z.iso.datetime({ offset: true }).optional().describe('End (exclusive). Default: now.'),
};

const counts = {
  ok: z.number().int().describe('Answered 1xx–3xx'),
  clientError: z.number().int().describe('Answered 4xx other than 429'),
  rateLimited: z.number().int().describe('Answered 429'),
  serverError: z.number().int().describe('Answered 5xx'),
};

export const usageCountsOut = z
  .object(counts)
  .meta({ id: 'UsageCounts', description: 'Requests by outcome' });

export const usageReportOut = z
  .object({
    from: isoDate,
    to: isoDate,
    hours: z
      .array(z.object({ hour: isoDate.describe('Start of the UTC hour'), ...counts }))
      .describe('Hours with at least one request, oldest first'),
    totals: usageCountsOut,
  })
  .meta({
    id: 'UsageReport',
    description:
      'Requests per hour by outcome. Counts are written every few seconds: the latest ones may be up to one flush interval (10 s) behind.',
  });

export const recentIpsOut = z.array(z.object({ ip: z.string(), lastSeenAt: isoDate }));

const rate = { quota: z.number().int(), windowSeconds: z.number().int() };

export const limitRequestOut = z.object({
  id: uuid,
  orgId: uuid,
  ...rate,
  justification: z.string(),
  until: isoDate.nullable(),
  status: z.enum(LIMIT_REQUEST_STATUSES),
  requestedBy: z.object({ id: uuid, name: z.string() }).nullable(),
  createdAt: isoDate,
  decidedAt: isoDate.nullable(),
  decisionNote: z.string().nullable(),
});

export const orgLimitsOut = z.object({
  base: z.object(rate).nullable().describe('The per-user budget; null when rate limiting is off'),
  effective: z.object(rate).nullable().describe('What a member’s key acting here gets'),
  overrides: z.array(z.object({ id: uuid, ...rate, reason: z.string(), expiresAt: isoDate.nullable() })),
  requests: z.array(limitRequestOut),
});
