import { defineEntity, type InferEntity, p } from '@mikro-orm/core';
import { Organization } from './organization.entity.ts';

export const LIMIT_REQUEST_STATUS_VALUES = ['pending', 'approved', 'denied'] as const;

/**
 * An organization admin's request for a higher rate limit, decided by an operator (`admin limits requests`).
 * Approval creates the rate-limit override it names. At most one request per organization waits at a time.
 */
export const LimitRequest = defineEntity({
  name: 'LimitRequest',
  tableName: 'limit_requests',
  properties: {
    id: p.uuid().primary(),
    organization: () => p.manyToOne(Organization).deleteRule('cascade'),
    /** The admin who asked (a plain id: the request outlives their membership). */
    requestedBy: p.uuid(),
    quota: p.integer(),
    windowSeconds: p.integer(),
    justification: p.string().length(1000),
    until: p.datetime().nullable(),
    status: p.enum([...LIMIT_REQUEST_STATUS_VALUES]),
    createdAt: p.datetime(),
    decidedAt: p.datetime().nullable(),
    decidedBy: p.string().length(200).nullable(),
    decisionNote: p.string().length(500).nullable(),
    /** The override an approval created. */
    overrideId: p.uuid().nullable(),
  },
  indexes: [
    { properties: ['organization', 'createdAt'], name: 'limit_requests_org_time_idx' },
    {
      name: 'limit_requests_one_pending_per_org',
      expression:
        'create unique index "limit_requests_one_pending_per_org" on "limit_requests" ("organization_id") where "status" = \'pending\'',
    },
  ],
});
export type LimitRequest = InferEntity<typeof LimitRequest>;
