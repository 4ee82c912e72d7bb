import { randomUUID } from 'node:crypto';
import {
  DomainError,
  decideCreateOrganization,
  type KeyGrant,
  type KeyPolicy,
  keyAccess,
  type Role,
  type StaleKeyPolicy,
} from '@crowdee/core';
import { Membership, Organization, Session } from '@crowdee/db';
import type { EntityManager } from '@mikro-orm/postgresql';
import type { AppDeps } from '../app-deps.ts';
import { publishInvalidation } from '../invalidation/index.ts';
import { type Actor, recordAudit } from './audit.service.ts';

export interface OrganizationView {
  id: string;
  name: string;
  role: Role;
  keyPolicy: KeyPolicy & StaleKeyPolicy;
  createdAt: string;
}

export function keyPolicyOf(
  org: Pick<Organization, 'keyPolicyRequireExpiry' | 'keyPolicyMaxLifetimeDays'>,
): KeyPolicy {
  return { requireExpiry: org.keyPolicyRequireExpiry, maxLifetimeDays: org.keyPolicyMaxLifetimeDays ?? null };
}

function view(org: Organization, role: Role): OrganizationView {
  return {
    id: org.id,
    name: org.name,
    role,
    keyPolicy: { ...keyPolicyOf(org), revokeUnusedAfterDays: org.keyPolicyRevokeUnusedDays ?? null },
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
 * The organizations the caller belongs to, with the caller's role in each. A key sees only those it may act on
 * (its scope, minus those that cut it off), each with its effective role there — never its creator's role.
 */
export async function listMyOrganizations(
  em: EntityManager,
  userId: string,
  key: KeyGrant | null,
): Promise<OrganizationView[]> {
  const memberships = await em.find(
    Membership,
    { user: userId },
    { populate: ['organization'], orderBy: { organization: { name: 'asc' } } },
  );
  if (key === null) return memberships.map((m) => view(m.organization, m.role));
  return memberships.flatMap((m) => {
    const access = keyAccess(key, m.organization.id, m.role);
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
