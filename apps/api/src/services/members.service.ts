import {
  DomainError,
  decideLeave,
  decideRemoveMember,
  decideRoleChange,
  type MembershipDecision,
  type Role,
} from '@crowdee/core';
import { Membership, Organization } from '@crowdee/db';
import { LockMode } from '@mikro-orm/core';
import type { EntityManager } from '@mikro-orm/postgresql';
import type { AppDeps } from '../app-deps.ts';
import { publishInvalidation } from '../invalidation/index.ts';
import { type Actor, recordAudit } from './audit.service.ts';

export interface MemberView {
  userId: string;
  name: string;
  email: string;
  role: Role;
  joinedAt: string;
}

function enforce(decision: MembershipDecision): void {
  if (!decision.ok) throw new DomainError(decision.code, decision.reason);
}

const memberNotFound = () => new DomainError('NOT_FOUND', 'Member not found.');

export async function listMembers(em: EntityManager, orgId: string): Promise<MemberView[]> {
  const rows = await em.find(
    Membership,
    { organization: orgId },
    { populate: ['user'], orderBy: { createdAt: 'asc' } },
  );
  return rows.map((m) => ({
    userId: m.user.id,
    name: m.user.name,
    email: m.user.email,
    role: m.role,
    joinedAt: m.createdAt.toISOString(),
  }));
}

/**
 * Membership changes of one organization are serialised by locking its row: two owners demoting each other at
 * the same moment must not leave the organization without an owner.
 */
export async function inOrgTransaction<T>(
  em: EntityManager,
  orgId: string,
  actorRole: ActorRole,
  work: (tem: EntityManager, role: Role) => Promise<T>,
): Promise<T> {
  return em.transactional(async (tem) => {
    await lockOrganization(tem, orgId);
    return work(tem, await actorRole(tem));
  });
}

/** Takes the organization's row lock for the rest of the transaction `tem` belongs to. */
export async function lockOrganization(tem: EntityManager, orgId: string): Promise<void> {
  const org = await tem.findOne(Organization, { id: orgId }, { lockMode: LockMode.PESSIMISTIC_WRITE });
  if (!org) throw new DomainError('NOT_FOUND', 'Organization not found.');
}

/** Reads the actor's role under the organization lock (see `lockedRoleInOrganization` in access.service.ts). */
export type ActorRole = (tem: EntityManager) => Promise<Role>;

async function ownerCount(em: EntityManager, orgId: string): Promise<number> {
  return em.count(Membership, { organization: orgId, role: 'owner' });
}

export async function updateMemberRole(
  deps: AppDeps,
  em: EntityManager,
  actor: Actor,
  orgId: string,
  actorRole: ActorRole,
  input: { userId: string; role: Role },
): Promise<MemberView> {
  const now = deps.clock();
  const view = await inOrgTransaction(em, orgId, actorRole, async (tem, role) => {
    const m = await tem.findOne(
      Membership,
      { organization: orgId, user: input.userId },
      { populate: ['user'] },
    );
    if (!m) throw memberNotFound();
    enforce(
      decideRoleChange({
        actor: role,
        targetCurrent: m.role,
        targetNew: input.role,
        ownerCount: await ownerCount(tem, orgId),
      }),
    );
    const from = m.role;
    m.role = input.role;
    m.updatedAt = now;
    recordAudit(tem, actor, {
      action: 'member.role_changed',
      organizationId: orgId,
      target: { type: 'user', id: input.userId },
      metadata: { from, to: input.role },
      at: now,
    });
    await tem.flush();
    return {
      userId: m.user.id,
      name: m.user.name,
      email: m.user.email,
      role: m.role,
      joinedAt: m.createdAt.toISOString(),
    };
  });
  // The member's keys shrink (or grow back up to their own role) on their very next request, on every node.
  await publishInvalidation(deps, em, {
    cause: 'member.role_changed',
    targets: [{ kind: 'user', userId: input.userId }],
  });
  return view;
}

export async function removeMember(
  deps: AppDeps,
  em: EntityManager,
  actor: Actor,
  orgId: string,
  actorRole: ActorRole,
  userId: string,
): Promise<void> {
  const now = deps.clock();
  await inOrgTransaction(em, orgId, actorRole, async (tem, role) => {
    const m = await tem.findOne(Membership, { organization: orgId, user: userId });
    if (!m) throw memberNotFound();
    enforce(decideRemoveMember({ actor: role, target: m.role, ownerCount: await ownerCount(tem, orgId) }));
    tem.remove(m);
    recordAudit(tem, actor, {
      action: 'member.removed',
      organizationId: orgId,
      target: { type: 'user', id: userId },
      metadata: { role: m.role },
      at: now,
    });
    await tem.flush();
  });
  await publishInvalidation(deps, em, { cause: 'member.removed', targets: [{ kind: 'user', userId }] });
}

export async function leaveOrganization(
  deps: AppDeps,
  em: EntityManager,
  actor: Actor & { userId: string },
  orgId: string,
  actorRole: ActorRole,
): Promise<void> {
  const now = deps.clock();
  await inOrgTransaction(em, orgId, actorRole, async (tem) => {
    const m = await tem.findOne(Membership, { organization: orgId, user: actor.userId });
    if (!m) throw new DomainError('NOT_FOUND', 'Organization not found.');
    enforce(decideLeave({ role: m.role, ownerCount: await ownerCount(tem, orgId) }));
    tem.remove(m);
    recordAudit(tem, actor, {
      action: 'member.left',
      organizationId: orgId,
      target: { type: 'user', id: actor.userId },
      metadata: { role: m.role },
      at: now,
    });
    await tem.flush();
  });
  await publishInvalidation(deps, em, {
    cause: 'member.left',
    targets: [{ kind: 'user', userId: actor.userId }],
  });
}
