import { randomUUID } from 'node:crypto';
import {
  canGrantKeyRole,
  DomainError,
  type ExpiryChoice,
  effectiveKeyRole,
  generateKey,
  hashKey,
  isKeyStale,
  isPermission,
  type KeyPolicy,
  type KeyRole,
  keyAccessUnderTwoFactorPolicy,
  keyExpiresSoon,
  keyInScope,
  keyStatus,
  mayCreateAnotherKey,
  orgsKeyMayReach,
  type Permission,
  parseAllowlist,
  parseKey,
  parseSessionBoundToken,
  type Role,
  type RotationGrace,
  resolveKeyExpiry,
  resolveKeyPermissions,
  rotatedKeyEnd,
  rotatedKeyExpiry,
  scopeWithinMemberships,
  strictestPolicy,
} from '@crowdee/core';
import {
  ApiKey,
  type ApiKeyCutOffReason,
  ApiKeyOrgAccess,
  type ApiKeyRevocationReason,
  Membership,
  Organization,
  User,
} from '@crowdee/db';
import { LockMode } from '@mikro-orm/core';
import type { EntityManager } from '@mikro-orm/postgresql';
import type { AppDeps } from '../app-deps.ts';
import type { Caller } from '../context.ts';
import { publishInvalidation } from '../invalidation/index.ts';
import { requireOrgPermission } from './access.service.ts';
import { type Actor, type AuditAction, recordAudit } from './audit.service.ts';
import type { CachedKey } from './key-cache.ts';
import { keyPolicyOf } from './organizations.service.ts';
import { hasSecondFactor, usersWithSecondFactor } from './second-factors.ts';
import { endLeakedSessionTokens } from './session-tokens.service.ts';

export interface ApiKeyView {
  id: string;
  name: string;
  hint: string;
  role: KeyRole;
  scope: string[] | null;
  creator: { id: string; name: string; email: string };
  createdAt: string;
  expiresAt: string | null;
  revokedAt: string | null;
  revokedReason: string | null;
  /** With reason `unused`: the organization policy's number of days. */
  revokedUnusedDays: number | null;
  lastUsedAt: string | null;
  lastUsedIp: string | null;
  rotatedFrom: string | null;
  status: 'active' | 'revoked' | 'expired';
  stale: boolean;
  /** Active and within 7 days of its expiry: time to rotate it. */
  expiresSoon: boolean;
  /** The permission subset it was restricted to; null = everything its effective role allows. */
  permissions: Permission[] | null;
  /** CIDR ranges it may be used from; null = anywhere. */
  allowedIps: string[] | null;
  cutOffs: KeyCutOffView[];
  /** Organizations whose two-factor policy stops the key until its creator enrols a second factor. */
  blockedByTwoFactorPolicy: { orgId: string; orgName: string }[];
}

/** An organization whose admins cut the key off: the key no longer works there (and only there). */
export interface KeyCutOffView {
  orgId: string;
  orgName: string;
  at: string;
  /** `admin`: an admin cut it off; `unused`: the organization's stale-key policy did, after `unusedDays`. */
  reason: ApiKeyCutOffReason;
  unusedDays: number | null;
}

function cutOffView(row: ApiKeyOrgAccess, at: Date): KeyCutOffView {
  return {
    orgId: row.organization.id,
    orgName: row.organization.name,
    at: at.toISOString(),
    reason: row.cutOffReason ?? 'admin',
    unusedDays: row.cutOffUnusedDays ?? null,
  };
}

const keyNotFound = () => new DomainError('NOT_FOUND', 'API key not found.');

function iso(date: Date | null | undefined): string | null {
  return date ? date.toISOString() : null;
}

/** The stored subset; a name no longer in the catalogue is dropped (narrower, never wider). */
export function storedPermissions(key: Pick<ApiKey, 'permissions'>): Permission[] | null {
  return key.permissions ? key.permissions.filter(isPermission) : null;
}

export function apiKeyView(
  key: ApiKey,
  creator: { id: string; name: string; email: string },
  now: Date,
  cutOffs: KeyCutOffView[] = [],
  blockedByTwoFactorPolicy: ApiKeyView['blockedByTwoFactorPolicy'] = [],
): ApiKeyView {
  const status = keyStatus({ revokedAt: key.revokedAt ?? null, expiresAt: key.expiresAt ?? null }, now);
  return {
    id: key.id,
    name: key.name,
    hint: key.hint,
    role: key.role,
    scope: key.scopeOrgIds ?? null,
    creator,
    createdAt: key.createdAt.toISOString(),
    expiresAt: iso(key.expiresAt),
    revokedAt: iso(key.revokedAt),
    revokedReason: key.revokedReason ?? null,
    revokedUnusedDays: key.revokedUnusedDays ?? null,
    lastUsedAt: iso(key.lastUsedAt),
    lastUsedIp: key.lastUsedIp ?? null,
    rotatedFrom: key.rotatedFrom ?? null,
    status,
    stale: isKeyStale({ lastUsedAt: key.lastUsedAt ?? null, createdAt: key.createdAt }, now),
    expiresSoon: status === 'active' && keyExpiresSoon(key.expiresAt ?? null, now),
    permissions: storedPermissions(key),
    allowedIps: key.allowedIps ?? null,
    cutOffs,
    blockedByTwoFactorPolicy: status === 'active' ? blockedByTwoFactorPolicy : [],
  };
}

/**
 * A key as one organization's admins see it: its use *in that organization* (never its last IP elsewhere), its
 * scope narrowed to that organization (never the ids of the creator's other organizations), and — once they cut it
 * off — revoked as far as they are concerned.
 */
function orgKeyView(
  key: ApiKey,
  orgId: string,
  access: ApiKeyOrgAccess | null,
  now: Date,
  blockedByTwoFactorPolicy: ApiKeyView['blockedByTwoFactorPolicy'] = [],
): ApiKeyView {
  const base = apiKeyView(key, key.creator, now, [], blockedByTwoFactorPolicy);
  const lastUsedAt = access?.lastUsedAt ?? null;
  const cutOffAt = access?.cutOffAt ?? null;
  return {
    ...base,
    scope: key.scopeOrgIds ? [orgId] : null,
    lastUsedAt: iso(lastUsedAt),
    lastUsedIp: access?.lastUsedIp ?? null,
    stale: isKeyStale({ lastUsedAt, createdAt: key.createdAt }, now),
    cutOffs: cutOffAt && access ? [cutOffView(access, cutOffAt)] : [],
    ...(cutOffAt && base.status === 'active'
      ? {
          status: 'revoked' as const,
          revokedAt: cutOffAt.toISOString(),
          revokedReason: access?.cutOffReason ?? 'admin',
          revokedUnusedDays: access?.cutOffUnusedDays ?? null,
        }
      : {}),
  };
}

/** Every cut-off of these keys, by key id, oldest first. */
async function cutOffsOf(em: EntityManager, keyIds: string[]): Promise<Map<string, KeyCutOffView[]>> {
  const out = new Map<string, KeyCutOffView[]>();
  if (keyIds.length === 0) return out;
  const rows = await em.find(
    ApiKeyOrgAccess,
    { apiKey: { $in: keyIds }, cutOffAt: { $ne: null } },
    { populate: ['organization'], orderBy: { cutOffAt: 'asc', id: 'asc' } },
  );
  for (const row of rows) {
    if (!row.cutOffAt) continue;
    const list = out.get(row.apiKey.id) ?? [];
    list.push(cutOffView(row, row.cutOffAt));
    out.set(row.apiKey.id, list);
  }
  return out;
}

/** The organizations a key may act on today (scope, cut-offs, its creator's memberships), from the database. */
async function reachOf(em: EntityManager, key: ApiKey, creatorOrgIds: Iterable<string>): Promise<string[]> {
  const cutOffs = (await cutOffsOf(em, [key.id])).get(key.id) ?? [];
  return orgsKeyMayReach(
    { scopeOrgIds: key.scopeOrgIds ?? null, cutOffOrgIds: cutOffs.map((c) => c.orgId) },
    creatorOrgIds,
  );
}

async function membershipsOf(
  em: EntityManager,
  userId: string,
): Promise<Map<string, { role: Role; policy: KeyPolicy }>> {
  const rows = await em.find(Membership, { user: userId }, { populate: ['organization'] });
  return new Map(rows.map((m) => [m.organization.id, { role: m.role, policy: keyPolicyOf(m.organization) }]));
}

/**
 * Key events are written into the audit log of every organization the key can act on, so their admins see them.
 * When the actor is the key itself (or an anonymous leak reporter), where the request came from is not those
 * organizations' business: their copies carry no IP or user agent, and one copy outside any organization keeps
 * the full record.
 */
function auditKey(
  em: EntityManager,
  actor: Actor,
  action: AuditAction,
  key: { id: string; name: string; hint: string },
  orgIds: string[],
  at: Date,
  metadata: Record<string, unknown> = {},
): void {
  const event = (organizationId: string | null) => ({
    action,
    organizationId,
    target: { type: 'api_key', id: key.id },
    metadata: { name: key.name, hint: key.hint, ...metadata },
    at,
  });
  const fromElsewhere = actor.type === 'key' || actor.type === 'anonymous';
  if (orgIds.length === 0 || fromElsewhere) recordAudit(em, actor, event(null));
  const orgActor = fromElsewhere ? { ...actor, ip: null, userAgent: null } : actor;
  for (const organizationId of orgIds) recordAudit(em, orgActor, event(organizationId));
}

export interface CreateKeyInput {
  name: string;
  role: KeyRole;
  orgIds?: string[] | undefined;
  expiresInDays?: number | undefined;
  expiresAt?: string | undefined;
  /** Restrict the key to these catalogue permissions; absent = everything its effective role allows. */
  permissions?: string[] | undefined;
  /** CIDR ranges the key may be used from; absent or empty = anywhere. */
  allowedIps?: string[] | undefined;
}

/** Validates an allowlist in core's parser; the field errors name the bad entries by position. */
function allowlistOrThrow(entries: readonly string[]): string[] | null {
  const parsed = parseAllowlist(entries);
  if (!parsed.ok) {
    throw new DomainError('VALIDATION_FAILED', parsed.errors.map((e) => e.message).join(' '), {
      fieldErrors: parsed.errors.map((e) => ({ path: `allowedIps.${e.index}`, message: e.message })),
    });
  }
  return parsed.entries.length === 0 ? null : parsed.entries;
}

function expiryChoice(input: {
  expiresInDays?: number | undefined;
  expiresAt?: string | undefined;
}): ExpiryChoice {
  if (input.expiresInDays !== undefined && input.expiresAt !== undefined) {
    throw new DomainError('VALIDATION_FAILED', 'Choose either expiresInDays or expiresAt, not both.', {
      fieldErrors: [{ path: 'expiresAt', message: 'Give either expiresInDays or expiresAt.' }],
    });
  }
  if (input.expiresInDays !== undefined) return { expiresInDays: input.expiresInDays };
  if (input.expiresAt !== undefined) return { expiresAt: new Date(input.expiresAt) };
  return { never: true };
}

/**
 * Issues a key. Its role must be at or below the creator's role in the active organization; its scope only
 * organizations the creator belongs to; its expiry within the strictest policy of every organization it can reach.
 * Returns the full key exactly once: only its SHA-256 is stored.
 */
export async function createKey(
  deps: AppDeps,
  em: EntityManager,
  actor: Actor,
  creator: { id: string; activeOrganizationId: string | null },
  input: CreateKeyInput,
): Promise<{ key: string; apiKey: ApiKeyView }> {
  const now = deps.clock();
  const memberships = await membershipsOf(em, creator.id);
  const activeRole = creator.activeOrganizationId
    ? (memberships.get(creator.activeOrganizationId)?.role ?? null)
    : null;
  if (activeRole === null) {
    throw new DomainError(
      'BAD_REQUEST',
      "Choose an active organization first: a key's role is checked against your role there.",
    );
  }
  if (!canGrantKeyRole(activeRole, input.role)) {
    throw new DomainError(
      'FORBIDDEN',
      `Your role in the active organization is ${activeRole}: a key cannot be ${input.role}.`,
      {
        requiredRole: input.role,
      },
    );
  }
  let permissions: Permission[] | null = null;
  if (input.permissions !== undefined) {
    const resolved = resolveKeyPermissions(input.permissions, input.role);
    if (!resolved.ok) {
      throw new DomainError('VALIDATION_FAILED', resolved.message, {
        fieldErrors: [{ path: 'permissions', message: resolved.message }],
      });
    }
    permissions = resolved.permissions;
  }
  const allowedIps = input.allowedIps === undefined ? null : allowlistOrThrow(input.allowedIps);
  let scope: string[] | null = null;
  if (input.orgIds !== undefined) {
    scope = [...new Set(input.orgIds)];
    if (!scopeWithinMemberships(scope, new Set(memberships.keys()))) {
      throw new DomainError('VALIDATION_FAILED', 'A key can only be scoped to organizations you belong to.', {
        fieldErrors: [{ path: 'orgIds', message: 'Not one of your organizations.' }],
      });
    }
  }
  const reachable = orgsKeyMayReach({ scopeOrgIds: scope, cutOffOrgIds: [] }, memberships.keys());
  const policy = strictestPolicy(
    reachable.map((id) => memberships.get(id)?.policy).filter((p): p is KeyPolicy => !!p),
  );
  const expiry = resolveKeyExpiry(expiryChoice(input), now, policy);
  if (!expiry.ok) {
    throw new DomainError(expiry.code, expiry.message, {
      fieldErrors: [{ path: 'expiresAt', message: expiry.message }],
    });
  }
  const cap = deps.config.maxActiveKeysPerUser;
  return em.transactional(async (tem) => {
    // The user's row lock serialises their concurrent creations, so a burst cannot count past the cap.
    const user = await tem.findOneOrFail(User, { id: creator.id }, { lockMode: LockMode.PESSIMISTIC_WRITE });
    const active = await tem.count(ApiKey, {
      creator: creator.id,
      revokedAt: null,
      $or: [{ expiresAt: null }, { expiresAt: { $gt: now } }],
    });
    if (!mayCreateAnotherKey(active, cap)) {
      throw new DomainError(
        'KEY_LIMIT_REACHED',
        `You already hold ${active} active API keys, the most one account may hold (${cap}): revoke one you no longer use first.`,
      );
    }
    const { key, hash, hint } = generateKey();
    const apiKey = tem.create(ApiKey, {
      id: randomUUID(),
      name: input.name,
      hash,
      hint,
      role: input.role,
      creator: user,
      scopeOrgIds: scope,
      permissions,
      allowedIps,
      expiresAt: expiry.expiresAt,
      createdAt: now,
    });
    auditKey(tem, actor, 'key.created', apiKey, reachable, now, {
      role: input.role,
      scope,
      expiresAt: iso(expiry.expiresAt),
      permissions,
      allowedIps,
    });
    await tem.flush();
    return { key, apiKey: apiKeyView(apiKey, { id: user.id, name: user.name, email: user.email }, now) };
  });
}

export async function listMyKeys(em: EntityManager, userId: string, now: Date): Promise<ApiKeyView[]> {
  const keys = await em.find(
    ApiKey,
    { creator: userId },
    { populate: ['creator'], orderBy: { createdAt: 'desc', id: 'desc' } },
  );
  const cutOffs = await cutOffsOf(
    em,
    keys.map((k) => k.id),
  );
  const stoppedIn = await twoFactorStopsMyKeys(em, userId);
  return keys.map((k) => {
    const cuts = cutOffs.get(k.id) ?? [];
    return apiKeyView(
      k,
      { id: k.creator.id, name: k.creator.name, email: k.creator.email },
      now,
      cuts,
      stoppedIn(k, cuts),
    );
  });
}

/**
 * Where the two-factor policy stops a user's keys, for the key table: packages/core's rule over each of the user's
 * memberships (a key out of scope or cut off there is stopped by that, not by the policy, and says so instead).
 */
async function twoFactorStopsMyKeys(
  em: EntityManager,
  userId: string,
): Promise<(key: ApiKey, cutOffs: KeyCutOffView[]) => ApiKeyView['blockedByTwoFactorPolicy']> {
  const requiring = await em.find(
    Membership,
    { user: userId, organization: { requireTwoFactor: true } },
    { populate: ['organization'], orderBy: { organization: { name: 'asc' } } },
  );
  if (requiring.length === 0 || (await hasSecondFactor(em, userId))) return () => [];
  const standing = { orgRequiresTwoFactor: true, userHasSecondFactor: false };
  return (key, cutOffs) => {
    const grant = {
      role: key.role,
      scopeOrgIds: key.scopeOrgIds ?? null,
      cutOffOrgIds: cutOffs.map((c) => c.orgId),
    };
    return requiring
      .filter((m) => {
        const access = keyAccessUnderTwoFactorPolicy(grant, m.organization.id, m.role, standing);
        return !access.ok && access.reason === 'two-factor-required';
      })
      .map((m) => ({ orgId: m.organization.id, orgName: m.organization.name }));
  };
}

/**
 * Every active key that can act on the organization, with its creator and its effective role there, as the
 * organization sees it (its use here only). Keys the organization cut off are gone from the list.
 */
export async function listKeysForOrg(
  em: EntityManager,
  orgId: string,
  now: Date,
): Promise<(ApiKeyView & { effectiveRole: KeyRole })[]> {
  const members = await em.find(Membership, { organization: orgId }, { fields: ['user', 'role'] });
  const roles = new Map(members.map((m) => [m.user.id, m.role]));
  if (roles.size === 0) return [];
  const keys = await em.find(
    ApiKey,
    {
      creator: { $in: [...roles.keys()] },
      $and: [
        { $or: [{ revokedAt: null }, { revokedAt: { $gt: now } }] },
        { $or: [{ expiresAt: null }, { expiresAt: { $gt: now } }] },
      ],
    },
    { populate: ['creator'], orderBy: { createdAt: 'desc', id: 'desc' } },
  );
  const inScope = keys.filter((k) => keyInScope({ scopeOrgIds: k.scopeOrgIds ?? null }, orgId));
  const accessRows =
    inScope.length === 0
      ? []
      : await em.find(
          ApiKeyOrgAccess,
          { organization: orgId, apiKey: { $in: inScope.map((k) => k.id) } },
          { populate: ['organization'] },
        );
  const access = new Map(accessRows.map((a) => [a.apiKey.id, a]));
  // The organization's two-factor policy, against each creator's factors: the table shows which keys it stops.
  const org = await em.findOne(Organization, { id: orgId }, { fields: ['name', 'requireTwoFactor'] });
  const enrolled = org?.requireTwoFactor
    ? await usersWithSecondFactor(em, [...new Set(inScope.map((k) => k.creator.id))])
    : null;
  const out: (ApiKeyView & { effectiveRole: KeyRole })[] = [];
  for (const k of inScope) {
    const here = access.get(k.id) ?? null;
    const grant = {
      role: k.role,
      scopeOrgIds: k.scopeOrgIds ?? null,
      cutOffOrgIds: here?.cutOffAt ? [orgId] : [],
    };
    const creatorRole = roles.get(k.creator.id) ?? null;
    const effectiveRole = effectiveKeyRole(grant, orgId, creatorRole);
    if (effectiveRole === null) continue;
    const policy = keyAccessUnderTwoFactorPolicy(grant, orgId, creatorRole, {
      orgRequiresTwoFactor: org?.requireTwoFactor ?? false,
      userHasSecondFactor: enrolled === null || enrolled.has(k.creator.id),
    });
    const stopped =
      !policy.ok && policy.reason === 'two-factor-required' ? [{ orgId, orgName: org?.name ?? '' }] : [];
    out.push({ ...orgKeyView(k, orgId, here, now, stopped), effectiveRole });
  }
  return out;
}

async function ownKey(em: EntityManager, userId: string, id: string): Promise<ApiKey> {
  const key = await em.findOne(ApiKey, { id, creator: userId }, { populate: ['creator'] });
  if (!key) throw keyNotFound();
  return key;
}

async function revoke(
  deps: AppDeps,
  em: EntityManager,
  actor: Actor,
  key: ApiKey,
  reason: ApiKeyRevocationReason,
  now: Date,
): Promise<void> {
  const memberships = await membershipsOf(em, key.creator.id);
  key.revokedAt = now;
  key.revokedReason = reason;
  key.revokedBy = actor.userId;
  auditKey(em, actor, 'key.revoked', key, await reachOf(em, key, memberships.keys()), now, {
    via: reason,
  });
  await em.flush();
  // Refused on the very next request on this node, and within milliseconds on every other node.
  await publishInvalidation(deps, em, { cause: 'key.revoked', targets: [{ kind: 'key', keyId: key.id }] });
}

/**
 * Revokes one of my keys, everywhere. With `orgId`, a caller who may manage that organization's keys may also act
 * on other members' keys that can act there — but only there: the key is cut off from that organization and keeps
 * working in its creator's others. Only a key's owner (or a leak report) revokes it everywhere.
 */
export async function revokeKey(
  deps: AppDeps,
  em: EntityManager,
  actor: Actor,
  caller: Caller,
  input: { id: string; orgId?: string | undefined },
): Promise<ApiKeyView> {
  const now = deps.clock();
  const userId = caller.userId;
  if (input.orgId !== undefined) {
    await requireOrgPermission({ deps, em, ip: actor.ip }, caller, input.orgId, 'keys:manage-org');
    const candidate = await em.findOne(ApiKey, { id: input.id }, { populate: ['creator'] });
    if (!candidate) throw keyNotFound();
    if (candidate.creator.id !== userId) {
      return cutOffKey(deps, em, actor, userId, candidate, input.orgId, now);
    }
    // An admin's own key, revoked from the organization's list: it is theirs, so it is revoked everywhere —
    // provided it can act here at all (else it answers like any key the organization cannot see).
    const creatorRole = await creatorRoleIn(em, candidate, input.orgId);
    const grant = { role: candidate.role, scopeOrgIds: candidate.scopeOrgIds ?? null, cutOffOrgIds: [] };
    if (effectiveKeyRole(grant, input.orgId, creatorRole) === null) throw keyNotFound();
  }
  const key = await ownKey(em, userId, input.id);
  const cutOffs = (await cutOffsOf(em, [key.id])).get(key.id);
  if (keyStatus({ revokedAt: key.revokedAt ?? null, expiresAt: key.expiresAt ?? null }, now) === 'revoked') {
    return apiKeyView(key, key.creator, now, cutOffs);
  }
  await revoke(deps, em, actor, key, 'settings', now);
  return apiKeyView(key, key.creator, now, cutOffs);
}

async function creatorRoleIn(em: EntityManager, key: ApiKey, orgId: string): Promise<Role | null> {
  const membership = await em.findOne(
    Membership,
    { user: key.creator.id, organization: orgId },
    { fields: ['role'] },
  );
  return membership?.role ?? null;
}

const CUT_OFF_SQL = `
  insert into api_key_org_access (id, api_key_id, organization_id, cut_off_at, cut_off_by, cut_off_reason)
       values (?, ?, ?, ?, ?, 'admin')
  on conflict (api_key_id, organization_id)
    do update set cut_off_at = coalesce(api_key_org_access.cut_off_at, excluded.cut_off_at),
                  cut_off_by = coalesce(api_key_org_access.cut_off_by, excluded.cut_off_by),
                  cut_off_reason = coalesce(api_key_org_access.cut_off_reason, excluded.cut_off_reason)`;

/**
 * An admin of `orgId` removes someone else's key from that organization, and from nowhere else. The key must be
 * able to act there (else 404, exactly like a key the organization cannot see); cutting off twice changes nothing.
 * Written as an upsert: the key's use may be recording itself in the same row at the same moment.
 */
async function cutOffKey(
  deps: AppDeps,
  em: EntityManager,
  actor: Actor,
  adminId: string,
  key: ApiKey,
  orgId: string,
  now: Date,
): Promise<ApiKeyView> {
  const existing = await em.findOne(
    ApiKeyOrgAccess,
    { apiKey: key.id, organization: orgId },
    { populate: ['organization'] },
  );
  if (existing?.cutOffAt) return orgKeyView(key, orgId, existing, now);
  const grant = { role: key.role, scopeOrgIds: key.scopeOrgIds ?? null, cutOffOrgIds: [] };
  if (effectiveKeyRole(grant, orgId, await creatorRoleIn(em, key, orgId)) === null) throw keyNotFound();
  await em.transactional(async (tem) => {
    await tem.execute(CUT_OFF_SQL, [randomUUID(), key.id, orgId, now, adminId], 'run');
    recordAudit(tem, actor, {
      action: 'key.cut_off',
      organizationId: orgId,
      target: { type: 'api_key', id: key.id },
      metadata: { name: key.name, hint: key.hint, creatorId: key.creator.id },
      at: now,
    });
  });
  // Refused on the very next request on this node, and within milliseconds on every other node.
  await publishInvalidation(deps, em, { cause: 'key.cut_off', targets: [{ kind: 'key', keyId: key.id }] });
  const access = await em.findOneOrFail(
    ApiKeyOrgAccess,
    { apiKey: key.id, organization: orgId },
    { populate: ['organization'], refresh: true },
  );
  return orgKeyView(key, orgId, access, now);
}

export async function renameKey(
  deps: AppDeps,
  em: EntityManager,
  actor: Actor,
  userId: string,
  input: { id: string; name: string },
): Promise<ApiKeyView> {
  const now = deps.clock();
  const key = await ownKey(em, userId, input.id);
  const before = key.name;
  key.name = input.name;
  const memberships = await membershipsOf(em, userId);
  auditKey(em, actor, 'key.updated', key, await reachOf(em, key, memberships.keys()), now, {
    from: before,
  });
  await em.flush();
  await publishInvalidation(deps, em, { cause: 'key.updated', targets: [{ kind: 'key', keyId: key.id }] });
  return apiKeyView(key, key.creator, now, (await cutOffsOf(em, [key.id])).get(key.id));
}

/**
 * The key's owner changes where it may be used from (empty = anywhere). Audited in every organization the key can
 * act on, and announced on the invalidation bus so every node drops its cached copy of the old list at once.
 */
export async function updateAllowedIps(
  deps: AppDeps,
  em: EntityManager,
  actor: Actor,
  userId: string,
  input: { id: string; allowedIps: string[] },
): Promise<ApiKeyView> {
  const now = deps.clock();
  const key = await ownKey(em, userId, input.id);
  const allowedIps = allowlistOrThrow(input.allowedIps);
  const before = key.allowedIps ?? null;
  key.allowedIps = allowedIps;
  const memberships = await membershipsOf(em, userId);
  auditKey(em, actor, 'key.allowed_ips_changed', key, await reachOf(em, key, memberships.keys()), now, {
    from: before,
    to: allowedIps,
  });
  await em.flush();
  await publishInvalidation(deps, em, {
    cause: 'key.allowed_ips_changed',
    targets: [{ kind: 'key', keyId: key.id }],
  });
  return apiKeyView(key, key.creator, now, (await cutOffsOf(em, [key.id])).get(key.id));
}

/**
 * Replaces a key with a new one (same name, role and scope; lifetime kept within today's policy), shown once.
 * The old key keeps working until the end of the grace period, never past its own expiry.
 */
export async function rotateKey(
  deps: AppDeps,
  em: EntityManager,
  actor: Actor,
  userId: string,
  input: { id: string; gracePeriod: RotationGrace },
): Promise<{ key: string; apiKey: ApiKeyView; previous: ApiKeyView }> {
  const now = deps.clock();
  const old = await ownKey(em, userId, input.id);
  const status = keyStatus({ revokedAt: old.revokedAt ?? null, expiresAt: old.expiresAt ?? null }, now);
  if (status !== 'active')
    throw new DomainError('CONFLICT', `This key is ${status}: create a new one instead.`);
  if (old.revokedAt)
    throw new DomainError('CONFLICT', 'This key has already been rotated; rotate its replacement instead.');
  const memberships = await membershipsOf(em, userId);
  const cutOffRows = await em.find(ApiKeyOrgAccess, { apiKey: old.id, cutOffAt: { $ne: null } });
  const reachable = orgsKeyMayReach(
    { scopeOrgIds: old.scopeOrgIds ?? null, cutOffOrgIds: cutOffRows.map((r) => r.organization.id) },
    memberships.keys(),
  );
  const policy = strictestPolicy(
    reachable.map((id) => memberships.get(id)?.policy).filter((p): p is KeyPolicy => !!p),
  );
  const expiry = resolveKeyExpiry(
    rotatedKeyExpiry({ createdAt: old.createdAt, expiresAt: old.expiresAt ?? null }, now, policy),
    now,
    policy,
  );
  if (!expiry.ok) throw new DomainError(expiry.code, expiry.message);

  const { key, hash, hint } = generateKey();
  const replacement = em.create(ApiKey, {
    id: randomUUID(),
    name: old.name,
    hash,
    hint,
    role: old.role,
    creator: old.creator,
    scopeOrgIds: old.scopeOrgIds ?? null,
    // Rotation replaces the secret, never what it may do or where from.
    permissions: old.permissions ?? null,
    allowedIps: old.allowedIps ?? null,
    expiresAt: expiry.expiresAt,
    rotatedFrom: old.id,
    createdAt: now,
  });
  // A replacement inherits every cut-off: rotating must never undo an organization's decision.
  for (const row of cutOffRows) {
    em.create(ApiKeyOrgAccess, {
      id: randomUUID(),
      apiKey: replacement,
      organization: row.organization,
      lastUsedAt: null,
      lastUsedIp: null,
      cutOffAt: row.cutOffAt ?? now,
      cutOffBy: row.cutOffBy ?? null,
      cutOffReason: row.cutOffReason ?? 'admin',
      cutOffUnusedDays: row.cutOffUnusedDays ?? null,
    });
  }
  old.revokedAt = rotatedKeyEnd(old.expiresAt ?? null, now, input.gracePeriod);
  old.revokedReason = 'rotation';
  old.revokedBy = userId;
  auditKey(em, actor, 'key.rotated', old, reachable, now, {
    replacement: replacement.id,
    replacementHint: hint,
    grace: input.gracePeriod,
    oldKeyStopsAt: old.revokedAt.toISOString(),
  });
  await em.flush();
  await publishInvalidation(deps, em, { cause: 'key.rotated', targets: [{ kind: 'key', keyId: old.id }] });
  const cutOffs = await cutOffsOf(em, [old.id, replacement.id]);
  return {
    key,
    apiKey: apiKeyView(replacement, old.creator, now, cutOffs.get(replacement.id)),
    previous: apiKeyView(old, old.creator, now, cutOffs.get(old.id)),
  };
}

/** A key revoking itself: for a holder who finds it exposed. */
export async function revokeCurrentKey(
  deps: AppDeps,
  em: EntityManager,
  actor: Actor,
  current: CachedKey,
): Promise<void> {
  const key = await em.findOne(ApiKey, { id: current.id }, { populate: ['creator'] });
  if (!key) throw keyNotFound();
  await revoke(deps, em, actor, key, 'self', deps.clock());
}

/**
 * Public leak reporting: anyone who finds our keys (in a repository, a paste, a log) posts them and valid ones
 * are revoked. The answer reveals only how many were revoked — never which, whose, or whether one existed.
 */
export async function revokeLeakedKeys(
  deps: AppDeps,
  em: EntityManager,
  actor: Actor,
  candidates: string[],
): Promise<number> {
  const hashes = [...new Set(candidates.filter((k) => parseKey(k).ok).map(hashKey))];
  const tokenHashes = [...new Set(candidates.filter((k) => parseSessionBoundToken(k).ok).map(hashKey))];
  if (hashes.length === 0 && tokenHashes.length === 0) return 0;
  const now = deps.clock();
  const endedTokens = await endLeakedSessionTokens(deps, em, actor, tokenHashes, now);
  if (hashes.length === 0) return endedTokens;
  const keys = await em.find(ApiKey, { hash: { $in: hashes } }, { populate: ['creator'] });
  let revoked = 0;
  for (const key of keys) {
    if (keyStatus({ revokedAt: key.revokedAt ?? null, expiresAt: key.expiresAt ?? null }, now) !== 'active')
      continue;
    await revoke(deps, em, actor, key, 'leak-report', now);
    revoked++;
  }
  return revoked + endedTokens;
}
