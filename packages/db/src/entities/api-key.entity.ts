import { KEY_ROLES } from '@crowdee/core';
import { defineEntity, type InferEntity, p } from '@mikro-orm/core';
import { User } from './user.entity.ts';

export const API_KEY_REVOCATION_REASONS = [
  'settings',
  'self',
  'leak-report',
  'rotation',
  'admin',
  'unused',
] as const;
export type ApiKeyRevocationReason = (typeof API_KEY_REVOCATION_REASONS)[number];

export const ApiKey = defineEntity({
  name: 'ApiKey',
  tableName: 'api_keys',
  properties: {
    id: p.uuid().primary(),
    name: p.string().length(100),
    /** SHA-256 (hex) of the full key: the only form stored, and what keys are looked up by. */
    hash: p.string().length(64).unique().hidden(),
    hint: p.string().length(16),
    role: p.enum([...KEY_ROLES]),
    creator: () => p.manyToOne(User).deleteRule('cascade').index(),
    /**
     * Organizations the key is confined to; null = any organization its creator belongs to. A plain array (not a
     * join table) on purpose: deleting an organization must never turn a scoped key into an unscoped one.
     */
    scopeOrgIds: p.array().columnType('uuid[]').nullable(),
    /**
     * The permission subset the key was restricted to at creation (catalogue names); null = everything its
     * effective role allows. Fixed for the key's life: widening a key means a new key.
     */
    permissions: p.array().columnType('text[]').nullable(),
    /** Normalised CIDR ranges the key may be used from; null = anywhere. Its owner may change the list. */
    allowedIps: p.array().columnType('text[]').nullable(),
    expiresAt: p.datetime().nullable(),
    revokedAt: p.datetime().nullable(),
    revokedReason: p.enum([...API_KEY_REVOCATION_REASONS]).nullable(),
    revokedBy: p.uuid().nullable(),
    /** With reason `unused`: the organization policy's number of days the key went unused. */
    revokedUnusedDays: p.integer().nullable(),
    lastUsedAt: p.datetime().nullable(),
    lastUsedIp: p.string().length(64).nullable(),
    rotatedFrom: p.uuid().nullable(),
    createdAt: p.datetime(),
  },
});
export type ApiKey = InferEntity<typeof ApiKey>;
