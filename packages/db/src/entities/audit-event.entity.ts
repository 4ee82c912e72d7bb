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
    /**
     * The acting key's name (or the session token's audience) and hint as they were when it acted: what the log
     * shows instead of a bare "(API key)", and still there after a token is gone with its session.
     */
    actorCredentialName: p.string().length(100).nullable(),
    actorCredentialHint: p.string().length(16).nullable(),
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
    // The audit page filters one organization's log by event type (and pages it newest first).
    { properties: ['organizationId', 'action', 'createdAt'], name: 'audit_events_org_action_time_idx' },
  ],
});
export type AuditEvent = InferEntity<typeof AuditEvent>;
