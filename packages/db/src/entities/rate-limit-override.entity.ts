import { defineEntity, type InferEntity, p } from '@mikro-orm/core';
import { ApiKey } from './api-key.entity.ts';
import { Organization } from './organization.entity.ts';

/** A higher limit granted by an operator to a justified production workload: per organization or per key. */
export const RateLimitOverride = defineEntity({
  name: 'RateLimitOverride',
  tableName: 'rate_limit_overrides',
  properties: {
    id: p.uuid().primary(),
    organization: () => p.manyToOne(Organization).nullable().deleteRule('cascade').index(),
    apiKey: () => p.manyToOne(ApiKey).nullable().deleteRule('cascade').index(),
    quota: p.integer(),
    windowSeconds: p.integer(),
    reason: p.string().length(500),
    expiresAt: p.datetime().nullable(),
    createdBy: p.string().length(200),
    createdAt: p.datetime(),
  },
  checks: [
    {
      name: 'rate_limit_overrides_one_target',
      expression: '(organization_id is null) <> (api_key_id is null)',
    },
    { name: 'rate_limit_overrides_positive', expression: 'quota > 0 and window_seconds > 0' },
  ],
});
export type RateLimitOverride = InferEntity<typeof RateLimitOverride>;
