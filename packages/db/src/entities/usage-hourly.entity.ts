import { defineEntity, type InferEntity, p } from '@mikro-orm/core';

export const USAGE_SUBJECT_KINDS = ['key', 'org'] as const;

/**
 * Requests per hour by outcome, for one key or one organization. Written only by the usage flush (one statement
 * per node every few seconds adding to these rows, never a write per request); rows older than 90 days are pruned.
 * The subject is a plain id, not a foreign key: a flush never fails because a key or organization was deleted
 * meanwhile, and the prune removes what is left of them.
 */
export const UsageHourly = defineEntity({
  name: 'UsageHourly',
  tableName: 'usage_hourly',
  properties: {
    subjectKind: p.enum([...USAGE_SUBJECT_KINDS]).primary(),
    subjectId: p.uuid().primary(),
    hour: p.datetime().primary(),
    ok: p.integer().default(0),
    clientError: p.integer().default(0),
    rateLimited: p.integer().default(0),
    serverError: p.integer().default(0),
  },
  indexes: [{ properties: ['hour'], name: 'usage_hourly_hour_idx' }],
});
export type UsageHourly = InferEntity<typeof UsageHourly>;
