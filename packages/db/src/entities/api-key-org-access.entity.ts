import { defineEntity, type InferEntity, p } from '@mikro-orm/core';
import { ApiKey } from './api-key.entity.ts';
import { Organization } from './organization.entity.ts';

export const API_KEY_CUT_OFF_REASONS = ['admin', 'unused'] as const;
export type ApiKeyCutOffReason = (typeof API_KEY_CUT_OFF_REASONS)[number];

/**
 * One key in one organization: its last use there (what that organization's admins may see, instead of the key's
 * use everywhere) and, when an admin of the organization cut it off, when and by whom. A cut-off removes the key
 * from this organization only; the key keeps working in its creator's other organizations.
 */
export const ApiKeyOrgAccess = defineEntity({
  name: 'ApiKeyOrgAccess',
  tableName: 'api_key_org_access',
  properties: {
    id: p.uuid().primary(),
    apiKey: () => p.manyToOne(ApiKey).deleteRule('cascade'),
    organization: () => p.manyToOne(Organization).deleteRule('cascade').index(),
    lastUsedAt: p.datetime().nullable(),
    lastUsedIp: p.string().length(64).nullable(),
    cutOffAt: p.datetime().nullable(),
    /** The admin who cut the key off (a plain id: the record outlives their account). */
    cutOffBy: p.uuid().nullable(),
    /** Why: an admin cut it off, or the organization's stale-key policy did (`unused`, by the system). */
    cutOffReason: p.enum([...API_KEY_CUT_OFF_REASONS]).nullable(),
    /** With reason `unused`: the policy's number of days the key went unused here. */
    cutOffUnusedDays: p.integer().nullable(),
  },
  uniques: [{ properties: ['apiKey', 'organization'], name: 'api_key_org_access_key_org_unique' }],
});
export type ApiKeyOrgAccess = InferEntity<typeof ApiKeyOrgAccess>;
