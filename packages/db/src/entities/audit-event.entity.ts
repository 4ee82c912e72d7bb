import { defineEntity, type InferEntity, p } from '@mikro-orm/core';

export const AUDIT_ACTOR_TYPES = ['user', 'key', 'session-token', 'anonymous', 'system'] as const;

/**
 * Append-only. Organization, actor and target are plain ids rather than foreign keys so the record outlives
 * what it describes (an audit trail that vanishes with a deleted organization is not one).
 */
export const AuditEvent = defineEntity({
  name: 'AuditEvent',
  tableName: 'audit_events',
  properties: {
    id: p.uuid().primary(),
    action: p.string().length(64),
    actorType: p.enum([...AUDIT_ACTOR_TYPES]),
    actorUserId: p.uuid().nullable(),
    actorKeyId: p.uuid().nullable(),
    /** The session token an action was taken with (actor type `session-token`), named by id. */
    actorTokenId: p.uuid().nullable(),
    organizationId: p.uuid().nullable(),
    targetType: p.string().length(32).nullable(),
    targetId: p.string().length(64).nullable(),
    ip: p.string().length(64).nullable(),
    userAgent: p.string().length(512).nullable(),
    metadata: p.json<Record<string, unknown>>().nullable(),
    createdAt: p.datetime(),
  },
  indexes: [
    { properties: ['organizationId', 'createdAt', 'id'], name: 'audit_events_org_time_idx' },
    { properties: ['actorUserId', 'createdAt'], name: 'audit_events_actor_time_idx' },
  ],
});
export type AuditEvent = InferEntity<typeof AuditEvent>;
