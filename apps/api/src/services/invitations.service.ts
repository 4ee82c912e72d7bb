import { randomUUID } from 'node:crypto';
import {
  constantTimeEqual,
  DomainError,
  decideInvitationResponse,
  decideInvite,
  generateOneTimeToken,
  hashOneTimeToken,
  type InvitationStatus,
  invitationStatus,
  normalizeEmail,
  oneTimeTokenExpiresAt,
  parseOneTimeToken,
  type Role,
} from '@crowdee/core';
import { Invitation, Membership, Organization, User } from '@crowdee/db';
import type { EntityManager } from '@mikro-orm/postgresql';
import type { AppDeps } from '../app-deps.ts';
import { publishInvalidation } from '../invalidation/index.ts';
import { invitationMail, tokenLink } from '../mail/messages.ts';
import { type Actor, recordAudit } from './audit.service.ts';
import { type ActorRole, inOrgTransaction, lockOrganization } from './members.service.ts';

export interface InvitationView {
  id: string;
  email: string;
  role: Role;
  status: InvitationStatus;
  invitedBy: { id: string; name: string } | null;
  createdAt: string;
  expiresAt: string;
}

export interface MyInvitationView {
  id: string;
  organization: { id: string; name: string };
  role: Role;
  invitedBy: { name: string } | null;
  createdAt: string;
  expiresAt: string;
}

const notFound = () => new DomainError('NOT_FOUND', 'Invitation not found.');

function view(
  i: Invitation,
  now: Date,
): Omit<InvitationView, 'invitedBy'> & Pick<InvitationView, 'invitedBy'> {
  return {
    id: i.id,
    email: i.email,
    role: i.role,
    status: invitationStatus(i, now),
    invitedBy: i.invitedBy ? { id: i.invitedBy.id, name: i.invitedBy.name } : null,
    createdAt: i.createdAt.toISOString(),
    expiresAt: i.expiresAt.toISOString(),
  };
}

/**
 * Marks pending invitations past their expiry as expired, with an audit event each. Done lazily where
 * invitations are read (no background job): the rules in core already treat them as expired either way.
 */
async function expireOverdue(em: EntityManager, where: { organization?: string; email?: string }, now: Date) {
  const overdue = await em.find(Invitation, { ...where, status: 'pending', expiresAt: { $lte: now } });
  if (overdue.length === 0) return;
  for (const i of overdue) {
    i.status = 'expired';
    recordAudit(
      em,
      { type: 'system', userId: null, keyId: null, ip: null, userAgent: null },
      {
        action: 'invitation.expired',
        organizationId: i.organization.id,
        target: { type: 'invitation', id: i.id },
        metadata: { email: i.email, role: i.role },
        at: now,
      },
    );
  }
  await em.flush();
}

/**
 * Invites an address into an organization. The answer is the same whether or not an account uses the address.
 * Inviting an address that already has a pending invitation replaces it (new link, new role, new expiry): that
 * is how an admin resends one. Nobody joins here: only their accept does that.
 */
export async function inviteMember(
  deps: AppDeps,
  em: EntityManager,
  actor: Actor & { userId: string },
  orgId: string,
  actorRole: ActorRole,
  input: { email: string; role: Role },
): Promise<InvitationView> {
  const email = normalizeEmail(input.email);
  const now = deps.clock();
  const { token, hash } = generateOneTimeToken('invitation');
  const result = await inOrgTransaction(em, orgId, actorRole, async (tem, role) => {
    const decision = decideInvite(role, input.role);
    if (!decision.ok) throw new DomainError(decision.code, decision.reason);
    const member = await tem.count(Membership, { organization: orgId, user: { email } });
    if (member > 0) throw new DomainError('CONFLICT', 'That address already belongs to a member.');
    const org = await tem.findOneOrFail(Organization, { id: orgId }, { fields: ['name'] });
    const inviter = await tem.findOneOrFail(User, { id: actor.userId }, { fields: ['id', 'name'] });
    await tem.nativeUpdate(
      Invitation,
      { organization: orgId, email, status: 'pending' },
      { status: 'cancelled', respondedAt: now },
    );
    const invitation = tem.create(Invitation, {
      id: randomUUID(),
      organization: orgId,
      email,
      role: input.role,
      invitedBy: actor.userId,
      tokenHash: hash,
      status: 'pending',
      expiresAt: oneTimeTokenExpiresAt('invitation', now),
      createdAt: now,
      respondedAt: null,
    });
    recordAudit(tem, actor, {
      action: 'invitation.created',
      organizationId: orgId,
      target: { type: 'invitation', id: invitation.id },
      metadata: { email, role: input.role },
      at: now,
    });
    await tem.flush();
    return {
      invitation: { ...view(invitation, now), invitedBy: { id: inviter.id, name: inviter.name } },
      orgName: org.name,
      inviterName: inviter.name,
    };
  });
  const link = tokenLink(deps.appUrl(), 'invitations', token, { invitation: result.invitation.id });
  deps.mailer.enqueue(invitationMail(email, result.inviterName, result.orgName, input.role, link));
  return result.invitation;
}

/** An organization's pending invitations (what its admins may still cancel). */
export async function listOrgInvitations(
  deps: AppDeps,
  em: EntityManager,
  orgId: string,
): Promise<InvitationView[]> {
  const now = deps.clock();
  await expireOverdue(em, { organization: orgId }, now);
  const rows = await em.find(
    Invitation,
    { organization: orgId, status: 'pending' },
    { populate: ['invitedBy'], orderBy: { createdAt: 'desc' } },
  );
  return rows.map((i) => view(i, now));
}

export async function cancelInvitation(
  deps: AppDeps,
  em: EntityManager,
  actor: Actor,
  orgId: string,
  actorRole: ActorRole,
  invitationId: string,
): Promise<void> {
  const now = deps.clock();
  await inOrgTransaction(em, orgId, actorRole, async (tem, role) => {
    const invitation = await tem.findOne(Invitation, { id: invitationId, organization: orgId });
    if (!invitation || invitationStatus(invitation, now) !== 'pending') throw notFound();
    // Whoever could not have sent it cannot withdraw it either: an admin does not cancel an owner's invitation.
    const decision = decideInvite(role, invitation.role);
    if (!decision.ok) throw new DomainError(decision.code, decision.reason);
    invitation.status = 'cancelled';
    invitation.respondedAt = now;
    recordAudit(tem, actor, {
      action: 'invitation.cancelled',
      organizationId: orgId,
      target: { type: 'invitation', id: invitation.id },
      metadata: { email: invitation.email, role: invitation.role },
      at: now,
    });
    await tem.flush();
  });
}

/**
 * The signed-in user's pending invitations. Only once the address is verified: someone who merely registered an
 * address learns nothing about the invitations sent to it, not even which organizations sent them.
 */
export async function listMyInvitations(
  deps: AppDeps,
  em: EntityManager,
  user: { email: string; emailVerified: boolean },
): Promise<MyInvitationView[]> {
  if (!user.emailVerified) return [];
  const now = deps.clock();
  await expireOverdue(em, { email: user.email }, now);
  const rows = await em.find(
    Invitation,
    { email: user.email, status: 'pending' },
    { populate: ['organization', 'invitedBy'], orderBy: { createdAt: 'desc' } },
  );
  return rows.map((i) => ({
    id: i.id,
    organization: { id: i.organization.id, name: i.organization.name },
    role: i.role,
    invitedBy: i.invitedBy ? { name: i.invitedBy.name } : null,
    createdAt: i.createdAt.toISOString(),
    expiresAt: i.expiresAt.toISOString(),
  }));
}

/**
 * Accepts or declines. The rules (core `decideInvitationResponse`) need the invited address, verified; the link's
 * token, when the answer comes from the mailed link, must belong to this invitation. The status moves from
 * pending by a conditional update, so an invitation is answered once even under concurrent clicks.
 */
export async function respondToInvitation(
  deps: AppDeps,
  em: EntityManager,
  actor: Actor,
  user: { id: string; email: string; emailVerified: boolean },
  input: { invitationId: string; token?: string | undefined },
  answer: 'accept' | 'decline',
): Promise<{ orgId: string; role: Role }> {
  const now = deps.clock();
  const found = await em.findOne(Invitation, { id: input.invitationId }, { fields: ['organization'] });
  if (!found) throw notFound();
  const orgId = found.organization.id;
  const result = await em.transactional(async (tem) => {
    // Under the organization's lock, like every other membership change.
    await lockOrganization(tem, orgId);
    const invitation = await tem.findOne(Invitation, { id: input.invitationId });
    if (!invitation) throw notFound();
    const decision = decideInvitationResponse({ invitation, user, now });
    if (!decision.ok) throw new DomainError(decision.code, decision.reason);
    if (input.token !== undefined) {
      const tokenOk =
        parseOneTimeToken('invitation', input.token).ok &&
        constantTimeEqual(hashOneTimeToken(input.token), invitation.tokenHash);
      if (!tokenOk) throw notFound();
    }
    const status = answer === 'accept' ? 'accepted' : 'declined';
    const moved = await tem.nativeUpdate(
      Invitation,
      { id: invitation.id, status: 'pending' },
      { status, respondedAt: now },
    );
    if (moved !== 1) throw notFound();
    if (answer === 'accept') {
      const already = await tem.count(Membership, { organization: orgId, user: user.id });
      if (already === 0)
        tem.create(Membership, {
          id: randomUUID(),
          user: user.id,
          organization: orgId,
          role: invitation.role,
          createdAt: now,
          updatedAt: now,
        });
    }
    recordAudit(
      tem,
      { ...actor, userId: user.id },
      {
        action: answer === 'accept' ? 'invitation.accepted' : 'invitation.declined',
        organizationId: orgId,
        target: { type: 'invitation', id: invitation.id },
        metadata: { email: invitation.email, role: invitation.role, userId: user.id },
        at: now,
      },
    );
    await tem.flush();
    return { orgId, role: invitation.role };
  });
  // The new member's keys reach the organization on their very next request, on every node.
  if (answer === 'accept')
    await publishInvalidation(deps, em, {
      cause: 'member.added',
      targets: [{ kind: 'user', userId: user.id }],
    });
  return result;
}
