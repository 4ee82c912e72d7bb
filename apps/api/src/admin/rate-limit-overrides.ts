import { randomUUID } from 'node:crypto';
import { DomainError, validQuota } from '@crowdee/core';
import { ApiKey, Organization, RateLimitOverride } from '@crowdee/db';
import type { EntityManager } from '@mikro-orm/postgresql';

export interface OverrideInput {
  orgId?: string | undefined;
  keyId?: string | undefined;
  quota: number;
  windowSeconds: number;
  reason: string;
  expiresAt?: Date | null | undefined;
  createdBy: string;
}

export interface OverrideView {
  id: string;
  target: string;
  quota: number;
  windowSeconds: number;
  reason: string;
  expiresAt: string | null;
  createdBy: string;
  createdAt: string;
}

/** Grants a higher limit to an organization's keys or to one key. Operators only: there is no API for this. */
export async function setOverride(em: EntityManager, input: OverrideInput, now: Date): Promise<OverrideView> {
  if ((input.orgId === undefined) === (input.keyId === undefined)) {
    throw new DomainError('VALIDATION_FAILED', 'Give exactly one of --org or --key.');
  }
  if (!validQuota(input.quota, input.windowSeconds)) {
    throw new DomainError('VALIDATION_FAILED', 'Quota must be 1–1,000,000 per a window of 1 s to 24 h.');
  }
  if (input.reason.trim().length < 3)
    throw new DomainError('VALIDATION_FAILED', 'Say why (--reason): overrides are audited.');
  if (input.expiresAt && input.expiresAt.getTime() <= now.getTime()) {
    throw new DomainError('VALIDATION_FAILED', '--until must be in the future.');
  }
  if (input.orgId && !(await em.findOne(Organization, { id: input.orgId })))
    throw new DomainError('NOT_FOUND', 'No such organization.');
  if (input.keyId && !(await em.findOne(ApiKey, { id: input.keyId })))
    throw new DomainError('NOT_FOUND', 'No such key.');
  const override = em.create(RateLimitOverride, {
    id: randomUUID(),
    organization: input.orgId ?? null,
    apiKey: input.keyId ?? null,
    quota: input.quota,
    windowSeconds: input.windowSeconds,
    reason: input.reason.trim(),
    expiresAt: input.expiresAt ?? null,
    createdBy: input.createdBy,
    createdAt: now,
  });
  await em.flush();
  return view(override);
}

export async function listOverrides(
  em: EntityManager,
  includeExpired: boolean,
  now: Date,
): Promise<OverrideView[]> {
  const where = includeExpired ? {} : { $or: [{ expiresAt: null }, { expiresAt: { $gt: now } }] };
  const rows = await em.find(RateLimitOverride, where, { orderBy: { createdAt: 'desc' } });
  return rows.map(view);
}

export async function removeOverride(em: EntityManager, id: string): Promise<boolean> {
  return (await em.nativeDelete(RateLimitOverride, { id })) > 0;
}

function view(o: RateLimitOverride): OverrideView {
  return {
    id: o.id,
    target: o.apiKey ? `key ${o.apiKey.id}` : `org ${o.organization?.id ?? '?'}`,
    quota: o.quota,
    windowSeconds: o.windowSeconds,
    reason: o.reason,
    expiresAt: o.expiresAt?.toISOString() ?? null,
    createdBy: o.createdBy,
    createdAt: o.createdAt.toISOString(),
  };
}
