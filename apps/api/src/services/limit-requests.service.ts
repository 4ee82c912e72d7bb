import { randomUUID } from 'node:crypto';
import {
  canDecide,
  checkLimitRequest,
  DomainError,
  type LimitRequestStatus,
  type RatePolicy,
  resolveKeyPolicy,
} from '@crowdee/core';
import { LimitRequest, RateLimitOverride, User } from '@crowdee/db';
import { type EntityManager, LockMode } from '@mikro-orm/postgresql';
import { setOverride } from '../admin/rate-limit-overrides.ts';
import type { AppDeps } from '../app-deps.ts';
import type { Mailer } from '../mail/mailer.ts';
import { limitDecisionMail } from '../mail/messages.ts';
import { type Actor, recordAudit } from './audit.service.ts';

export interface LimitRequestView {
  id: string;
  orgId: string;
  quota: number;
  windowSeconds: number;
  justification: string;
  until: string | null;
  status: LimitRequestStatus;
  requestedBy: { id: string; name: string } | null;
  createdAt: string;
  decidedAt: string | null;
  decisionNote: string | null;
}

function view(r: LimitRequest, requester: { id: string; name: string } | null): LimitRequestView {
  return {
    id: r.id,
    orgId: r.organization.id,
    quota: r.quota,
    windowSeconds: r.windowSeconds,
    justification: r.justification,
    until: r.until?.toISOString() ?? null,
    status: r.status,
    requestedBy: requester,
    createdAt: r.createdAt.toISOString(),
    decidedAt: r.decidedAt?.toISOString() ?? null,
    decisionNote: r.decisionNote ?? null,
  };
}

async function requesters(
  em: EntityManager,
  ids: string[],
): Promise<Map<string, { id: string; name: string }>> {
  if (ids.length === 0) return new Map();
  const users = await em.find(User, { id: { $in: [...new Set(ids)] } }, { fields: ['id', 'name'] });
  return new Map(users.map((u) => [u.id, { id: u.id, name: u.name }]));
}

export interface OrgLimits {
  /** The per-user budget every member's session and keys share, as configured. */
  base: { quota: number; windowSeconds: number } | null;
  /** What a member's key acting within this organization gets: the base, or an operator override above it. */
  effective: { quota: number; windowSeconds: number } | null;
  overrides: { id: string; quota: number; windowSeconds: number; reason: string; expiresAt: string | null }[];
  requests: LimitRequestView[];
}

/** The organization's limits, overrides in force and its limit requests (newest first, the last 20). */
export async function orgLimits(deps: AppDeps, em: EntityManager, orgId: string): Promise<OrgLimits> {
  const now = deps.clock();
  const overrides = await em.find(
    RateLimitOverride,
    { organization: orgId, $or: [{ expiresAt: null }, { expiresAt: { $gt: now } }] },
    { orderBy: { createdAt: 'desc' } },
  );
  const requests = await em.find(
    LimitRequest,
    { organization: orgId },
    { orderBy: { createdAt: 'desc', id: 'desc' }, limit: 20 },
  );
  const names = await requesters(
    em,
    requests.map((r) => r.requestedBy),
  );
  const base: RatePolicy | null = deps.limits?.policies.authenticated ?? null;
  const effective = base
    ? resolveKeyPolicy(
        base,
        overrides.map((o) => ({
          target: { kind: 'org' as const, orgId },
          quota: o.quota,
          windowSeconds: o.windowSeconds,
          expiresAt: o.expiresAt ?? null,
        })),
        '',
        [orgId],
        now,
      )
    : null;
  return {
    base: base ? { quota: base.quota, windowSeconds: base.windowSeconds } : null,
    effective: effective ? { quota: effective.quota, windowSeconds: effective.windowSeconds } : null,
    overrides: overrides.map((o) => ({
      id: o.id,
      quota: o.quota,
      windowSeconds: o.windowSeconds,
      reason: o.reason,
      expiresAt: o.expiresAt?.toISOString() ?? null,
    })),
    requests: requests.map((r) => view(r, names.get(r.requestedBy) ?? null)),
  };
}

export interface LimitRequestInput {
  orgId: string;
  quota: number;
  windowSeconds: number;
  justification: string;
  until?: string | null | undefined;
}

/** An org admin asks for a higher limit; an operator decides. One pending request per organization at a time. */
export async function requestLimit(
  deps: AppDeps,
  em: EntityManager,
  actor: Actor & { userId: string },
  input: LimitRequestInput,
): Promise<LimitRequestView> {
  const now = deps.clock();
  const until = input.until ? new Date(input.until) : null;
  const justification = input.justification.trim();
  const check = checkLimitRequest(
    { quota: input.quota, windowSeconds: input.windowSeconds, justification, until },
    now,
  );
  if (!check.ok)
    throw new DomainError(check.code, check.message, {
      fieldErrors: [{ path: check.field, message: check.message }],
    });
  const pending = await em.count(LimitRequest, { organization: input.orgId, status: 'pending' });
  if (pending > 0) throw new DomainError('LIMIT_REQUEST_PENDING');
  const request = em.create(LimitRequest, {
    id: randomUUID(),
    organization: input.orgId,
    requestedBy: actor.userId,
    quota: input.quota,
    windowSeconds: input.windowSeconds,
    justification,
    until,
    status: 'pending',
    createdAt: now,
  });
  recordAudit(em, actor, {
    action: 'limit.requested',
    organizationId: input.orgId,
    target: { type: 'limit_request', id: request.id },
    metadata: { quota: input.quota, windowSeconds: input.windowSeconds, until: until?.toISOString() ?? null },
    at: now,
  });
  try {
    await em.flush();
  } catch (error) {
    // Two admins asking at the same moment: the partial unique index lets one through.
    if ((error as { code?: string }).code === '23505' || /unique/i.test(String(error)))
      throw new DomainError('LIMIT_REQUEST_PENDING');
    throw error;
  }
  const user = await em.findOne(User, { id: actor.userId }, { fields: ['id', 'name'] });
  return view(request, user ? { id: user.id, name: user.name } : null);
}

/* -------------------------------------------------------------------------------- operator side (admin CLI) */

export interface OperatorRequestView extends LimitRequestView {
  orgName: string;
  requesterEmail: string | null;
  overrideId: string | null;
  decidedBy: string | null;
}

export async function listLimitRequests(em: EntityManager, all: boolean): Promise<OperatorRequestView[]> {
  const rows = await em.find(LimitRequest, all ? {} : { status: 'pending' }, {
    populate: ['organization'],
    orderBy: { createdAt: 'asc', id: 'asc' },
  });
  const users = await em.find(User, { id: { $in: [...new Set(rows.map((r) => r.requestedBy))] } });
  const byId = new Map(users.map((u) => [u.id, u]));
  return rows.map((r) => {
    const u = byId.get(r.requestedBy);
    return {
      ...view(r, u ? { id: u.id, name: u.name } : null),
      orgName: r.organization.name,
      requesterEmail: u?.email ?? null,
      overrideId: r.overrideId ?? null,
      decidedBy: r.decidedBy ?? null,
    };
  });
}

/**
 * An operator approves or denies a pending request. Approval creates the organization's rate-limit override (in the
 * same transaction), both are audited in the organization's log, and the requester is mailed the outcome. The
 * caller announces the override change to running servers after this returns (after commit).
 */
export async function decideLimitRequest(
  em: EntityManager,
  mailer: Mailer | null,
  appUrl: string,
  input: { id: string; approve: boolean; note: string | null; by: string },
  now: Date,
): Promise<OperatorRequestView> {
  const decided = await em.transactional(async (tem) => {
    const request = await tem.findOne(
      LimitRequest,
      { id: input.id },
      {
        populate: ['organization'], // Two operators deciding at once: the second waits, then finds it decided.
        lockMode: LockMode.PESSIMISTIC_WRITE,
      },
    );
    if (!request) throw new DomainError('NOT_FOUND', `No limit request ${input.id}.`);
    if (!canDecide(request.status)) throw new DomainError('LIMIT_REQUEST_DECIDED');
    let overrideId: string | null = null;
    if (input.approve) {
      const override = await setOverride(
        tem,
        {
          orgId: request.organization.id,
          quota: request.quota,
          windowSeconds: request.windowSeconds,
          reason: `limit request ${request.id}: ${request.justification}`.slice(0, 500),
          expiresAt: request.until ?? null,
          createdBy: input.by,
        },
        now,
      );
      overrideId = override.id;
    }
    request.status = input.approve ? 'approved' : 'denied';
    request.decidedAt = now;
    request.decidedBy = input.by.slice(0, 200);
    request.decisionNote = input.note?.slice(0, 500) ?? null;
    request.overrideId = overrideId;
    recordAudit(
      tem,
      { type: 'system', userId: null, keyId: null, ip: null, userAgent: null },
      {
        action: input.approve ? 'limit.request_approved' : 'limit.request_denied',
        organizationId: request.organization.id,
        target: { type: 'limit_request', id: request.id },
        metadata: {
          quota: request.quota,
          windowSeconds: request.windowSeconds,
          operator: request.decidedBy,
          note: request.decisionNote,
          overrideId,
        },
        at: now,
      },
    );
    await tem.flush();
    return request;
  });
  const requester = await em.findOne(User, { id: decided.requestedBy });
  if (mailer && requester)
    mailer.enqueue(
      limitDecisionMail(requester.email, requester.name, decided.organization.name, {
        approved: decided.status === 'approved',
        quota: decided.quota,
        windowSeconds: decided.windowSeconds,
        note: decided.decisionNote ?? null,
        link: new URL('/settings/limits', appUrl).toString(),
      }),
    );
  return {
    ...view(decided, requester ? { id: requester.id, name: requester.name } : null),
    orgName: decided.organization.name,
    requesterEmail: requester?.email ?? null,
    overrideId: decided.overrideId ?? null,
    decidedBy: decided.decidedBy ?? null,
  };
}
