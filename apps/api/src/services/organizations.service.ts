import { randomUUID } from 'node:crypto';
import {
  DomainError,
  decideCreateOrganization,
  decideTwoFactorPolicyChange,
  type KeyPolicy,
  keyAccessUnderTwoFactorPolicy,
  type Role,
  type StaleKeyPolicy,
  twoFactorPolicyDecision,
} from '@crowdee/core';
import { Membership, Organization, Session } from '@crowdee/db';
import type { EntityManager } from '@mikro-orm/postgresql';
import type { AppDeps } from '../app-deps.ts';
import { publishInvalidation } from '../invalidation/index.ts';
import { type Actor, recordAudit } from './audit.service.ts';
import { cachedTwoFactorStanding } from './credential-memberships.ts';
import type { CachedKey } from './key-cache.ts';
import { hasSecondFactor } from './second-factors.ts';

export interface OrganizationView {
  id: string;
  name: string;
  role: Role;
  keyPolicy: KeyPolicy & StaleKeyPolicy;
  /** The owners' policy "Members must use two-factor sign-in". */
  twoFactorRequired: boolean;
  /** The policy stops the caller here until they enrol a second factor (the app's banner says so). */
  blockedByTwoFactorPolicy: boolean;
  createdAt: string;
}

export function keyPolicyOf(
  org: Pick<Organization, 'keyPolicyRequireExpiry' | 'keyPolicyMaxLifetimeDays'>,
): KeyPolicy {
  return { requireExpiry: org.keyPolicyRequireExpiry, maxLifetimeDays: org.keyPolicyMaxLifetimeDays ?? null };
}

function view(org: Organization, role: Role, blockedByTwoFactorPolicy = false): OrganizationView {
  return {
    id: org.id,
    name: org.name,
    role,
    keyPolicy: { ...keyPolicyOf(org), revokeUnusedAfterDays: org.keyPolicyRevokeUnusedDays ?? null },
    twoFactorRequired: org.requireTwoFactor,
    blockedByTwoFactorPolicy,
    createdAt: org.createdAt.toISOString(),
  };
}

/** A signed-in user founds an organization (and owns it); their address must be verified first. */
export function createOwnOrganization(
  deps: AppDeps,
  em: EntityManager,
  actor: Actor & { userId: string },
  user: { emailVerified: boolean },
  name: string,
): Promise<OrganizationView> {
  const allowed = decideCreateOrganization(user);
  if (!allowed.ok) throw new DomainError(allowed.code, allowed.reason);
  return createOrganization(deps, em, actor, name);
}

/** Creates an organization owned by `actor.userId`, unchecked: createOwnOrganization for users, seeds directly. */
export async function createOrganization(
  deps: AppDeps,
  em: EntityManager,
  actor: Actor & { userId: string },
  name: string,
): Promise<OrganizationView> {
  const now = deps.clock();
  const org = em.create(Organization, { id: randomUUID(), name, createdAt: now, updatedAt: now });
  em.create(Membership, {
    id: randomUUID(),
    user: actor.userId,
    organization: org,
    role: 'owner',
    createdAt: now,
    updatedAt: now,
  });
  recordAudit(em, actor, {
    action: 'org.created',
    organizationId: org.id,
    target: { type: 'organization', id: org.id },
    metadata: { name },
    at: now,
  });
  await em.flush();
  // The creator's unscoped keys can now act here: their cached memberships are out of date.
  await publishInvalidation(deps, em, {
    cause: 'org.created',
    targets: [{ kind: 'user', userId: actor.userId }],
  });
  return view(org, 'owner');
}

/**
 * The organizations the caller belongs to, with the caller's role in each. Open to a member the two-factor policy
 * stops (it asks no organization), and says where it stops them. A key sees only those it may act on (its scope,
 * minus those that cut it off or whose two-factor policy stops it), each with its effective role there — never its
 * creator's role.
 */
export async function listMyOrganizations(
  em: EntityManager,
  userId: string,
  key: CachedKey | null,
): Promise<OrganizationView[]> {
  const memberships = await em.find(
    Membership,
    { user: userId },
    { populate: ['organization'], orderBy: { organization: { name: 'asc' } } },
  );
  if (key === null) {
    const userHasSecondFactor = await hasSecondFactor(em, userId);
    return memberships.map((m) => {
      const standing = { orgRequiresTwoFactor: m.organization.requireTwoFactor, userHasSecondFactor };
      return view(m.organization, m.role, !twoFactorPolicyDecision(standing, null, 'session').ok);
    });
  }
  return memberships.flatMap((m) => {
    const orgId = m.organization.id;
    const access = keyAccessUnderTwoFactorPolicy(key, orgId, m.role, cachedTwoFactorStanding(key, orgId));
    return access.ok ? [view(m.organization, access.role)] : [];
  });
}

export async function getOrganization(
  em: EntityManager,
  orgId: string,
  role: Role,
): Promise<OrganizationView> {
  const org = await em.findOne(Organization, { id: orgId });
  if (!org) throw new DomainError('NOT_FOUND', 'Organization not found.');
  return view(org, role);
}

export async function renameOrganization(
  deps: AppDeps,
  em: EntityManager,
  actor: Actor,
  orgId: string,
  role: Role,
  name: string,
): Promise<OrganizationView> {
  const org = await em.findOne(Organization, { id: orgId });
  if (!org) throw new DomainError('NOT_FOUND', 'Organization not found.');
  const before = org.name;
  org.name = name;
  org.updatedAt = deps.clock();
  recordAudit(em, actor, {
    action: 'org.updated',
    organizationId: orgId,
    target: { type: 'organization', id: orgId },
    metadata: { name: { from: before, to: name } },
    at: org.updatedAt,
  });
  await em.flush();
  // Cached keys carry their organizations' names (for `GET /me`): refresh those of every member's keys.
  const members = await em.find(Membership, { organization: orgId }, { fields: ['user'] });
  await publishInvalidation(deps, em, {
    cause: 'org.updated',
    targets: members.map((m) => ({ kind: 'user' as const, userId: m.user.id })),
  });
  return view(org, role);
}

export async function deleteOrganization(
  deps: AppDeps,
  em: EntityManager,
  actor: Actor,
  orgId: string,
): Promise<void> {
  const members = await em.find(Membership, { organization: orgId }, { fields: ['user'] });
  const org = await em.findOne(Organization, { id: orgId });
  if (!org) throw new DomainError('NOT_FOUND', 'Organization not found.');
  recordAudit(em, actor, {
    action: 'org.deleted',
    organizationId: orgId,
    target: { type: 'organization', id: orgId },
    metadata: { name: org.name, members: members.length },
    at: deps.clock(),
  });
  em.remove(org);
  await em.flush();
  await publishInvalidation(deps, em, {
    cause: 'org.deleted',
    targets: members.map((m) => ({ kind: 'user' as const, userId: m.user.id })),
  });
}

/** The active organization lives on the session; only an organization the user belongs to can be chosen. */
export async function setActiveOrganization(
  em: EntityManager,
  session: { id: string; userId: string },
  orgId: string,
): Promise<void> {
  const member = await em.count(Membership, { user: session.userId, organization: orgId });
  if (member === 0) throw new DomainError('NOT_FOUND', 'Organization not found.');
  await em.nativeUpdate(Session, { id: session.id }, { activeOrganization: orgId });
}

export async function setKeyPolicy(
  deps: AppDeps,
  em: EntityManager,
  actor: Actor,
  orgId: string,
  role: Role,
  policy: KeyPolicy & Partial<StaleKeyPolicy>,
): Promise<OrganizationView> {
  const org = await em.findOne(Organization, { id: orgId });
  if (!org) throw new DomainError('NOT_FOUND', 'Organization not found.');
  const before = { ...keyPolicyOf(org), revokeUnusedAfterDays: org.keyPolicyRevokeUnusedDays ?? null };
  org.keyPolicyRequireExpiry = policy.requireExpiry;
  org.keyPolicyMaxLifetimeDays = policy.maxLifetimeDays;
  // Omitted = unchanged, so clients that predate the stale-key rule never switch it off by saving the others.
  if (policy.revokeUnusedAfterDays !== undefined)
    org.keyPolicyRevokeUnusedDays = policy.revokeUnusedAfterDays;
  org.updatedAt = deps.clock();
  recordAudit(em, actor, {
    action: 'org.key_policy_changed',
    organizationId: orgId,
    target: { type: 'organization', id: orgId },
    metadata: {
      from: before,
      to: { ...keyPolicyOf(org), revokeUnusedAfterDays: org.keyPolicyRevokeUnusedDays ?? null },
    },
    at: org.updatedAt,
  });
  await em.flush();
  return view(org, role);
}

/**
 * The owners' policy "Members must use two-factor sign-in". Switching it on takes a second factor of the acting
 * owner's own (else the next request would lock them out). Every member's cached keys and session tokens carry the
 * policy, so all of them are invalidated, on every node: keys of members without a second factor stop here at once,
 * and start again at once when it is switched off.
 */
export async function setTwoFactorPolicy(
  deps: AppDeps,
  em: EntityManager,
  actor: Actor & { userId: string },
  orgId: string,
  role: Role,
  required: boolean,
): Promise<OrganizationView> {
  const org = await em.findOne(Organization, { id: orgId });
  if (!org) throw new DomainError('NOT_FOUND', 'Organization not found.');
  const decision = decideTwoFactorPolicyChange(required, await hasSecondFactor(em, actor.userId));
  if (!decision.ok) throw new DomainError(decision.code);
  if (org.requireTwoFactor === required) return view(org, role);
  org.requireTwoFactor = required;
  org.updatedAt = deps.clock();
  recordAudit(em, actor, {
    action: 'org.two_factor_policy_changed',
    organizationId: orgId,
    target: { type: 'organization', id: orgId },
    metadata: { required: { from: !required, to: required } },
    at: org.updatedAt,
  });
  await em.flush();
  const members = await em.find(Membership, { organization: orgId }, { fields: ['user'] });
  await publishInvalidation(deps, em, {
    cause: 'org.two_factor_policy_changed',
    targets: members.map((m) => ({ kind: 'user' as const, userId: m.user.id })),
  });
  return view(org, role);
}
