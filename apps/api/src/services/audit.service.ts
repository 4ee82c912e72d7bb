import { randomUUID } from 'node:crypto';
import { AuditEvent, User } from '@crowdee/db';
import type { EntityManager } from '@mikro-orm/postgresql';
import { z } from 'zod';

/** Who did something, and from where. Built once per request from the authenticated caller. */
export interface Actor {
  type: 'user' | 'key' | 'session-token' | 'anonymous' | 'system';
  userId: string | null;
  keyId: string | null;
  /** The session token acted with (type `session-token`). */
  tokenId?: string | null;
  ip: string | null;
  userAgent: string | null;
}

export const AUDIT_ACTIONS = [
  'auth.sign_up',
  'auth.sign_in',
  'auth.sign_in_failed',
  'auth.sign_out',
  'auth.email_verified',
  'auth.email_change_requested',
  'auth.email_changed',
  'auth.password_changed',
  'auth.password_reset_requested',
  'auth.password_reset',
  'session.revoked',
  'session_token.created',
  'session_token.refreshed',
  'org.created',
  'org.updated',
  'org.deleted',
  'org.key_policy_changed',
  'member.added',
  'invitation.created',
  'invitation.accepted',
  'invitation.declined',
  'invitation.cancelled',
  'invitation.expired',
  'member.role_changed',
  'member.removed',
  'member.left',
  'key.created',
  'key.updated',
  'key.rotated',
  'key.revoked',
  'key.cut_off',
  'project.created',
  'project.updated',
  'project.deleted',
  'dataset.created',
  'dataset.deleted',
  'dataset.items_added',
  'dataset.item_deleted',
  'run.started',
  'run.cancelled',
] as const;
export type AuditAction = (typeof AUDIT_ACTIONS)[number];

export interface AuditInput {
  action: AuditAction;
  organizationId?: string | null;
  target?: { type: string; id: string } | null;
  metadata?: Record<string, unknown>;
  at: Date;
}

/**
 * Queues an audit event in the caller's unit of work: it is written by the same flush (and transaction) as the
 * change it describes, so a change is never recorded without its event or the other way round.
 */
export function recordAudit(em: EntityManager, actor: Actor, input: AuditInput): void {
  em.create(AuditEvent, {
    id: randomUUID(),
    action: input.action,
    actorType: actor.type,
    actorUserId: actor.userId,
    actorKeyId: actor.keyId,
    actorTokenId: actor.tokenId ?? null,
    organizationId: input.organizationId ?? null,
    targetType: input.target?.type ?? null,
    targetId: input.target?.id ?? null,
    ip: actor.ip,
    userAgent: actor.userAgent,
    metadata: input.metadata ?? null,
    createdAt: input.at,
  });
}

export interface AuditPage {
  items: {
    id: string;
    action: string;
    actorType: string;
    actorUserId: string | null;
    actorName: string | null;
    actorKeyId: string | null;
    actorTokenId: string | null;
    targetType: string | null;
    targetId: string | null;
    ip: string | null;
    userAgent: string | null;
    metadata: Record<string, unknown> | null;
    createdAt: string;
  }[];
  nextCursor: string | null;
}

function encodeCursor(createdAt: Date, id: string): string {
  return Buffer.from(`${createdAt.toISOString()}|${id}`).toString('base64url');
}

const CURSOR_ID = z.uuid();
const CURSOR_TIME = z.iso.datetime();

/** A cursor is ours only if it decodes to exactly `<ISO time>|<uuid>`: anything else never reaches SQL. */
function decodeCursor(cursor: string): { createdAt: Date; id: string } | null {
  if (!/^[A-Za-z0-9_-]+$/.test(cursor)) return null;
  const parts = Buffer.from(cursor, 'base64url').toString('utf8').split('|');
  if (parts.length !== 2) return null;
  const [at, id] = parts;
  if (!CURSOR_TIME.safeParse(at).success || !CURSOR_ID.safeParse(id).success || !at || !id) return null;
  return { createdAt: new Date(at), id };
}

/** Newest first, keyset-paginated (stable under concurrent inserts, unlike offsets). */
export async function listAudit(
  em: EntityManager,
  orgId: string,
  limit: number,
  cursor: string | undefined,
): Promise<AuditPage | null> {
  const after = cursor ? decodeCursor(cursor) : null;
  if (cursor && !after) return null;
  const where = after
    ? {
        organizationId: orgId,
        $or: [{ createdAt: { $lt: after.createdAt } }, { createdAt: after.createdAt, id: { $lt: after.id } }],
      }
    : { organizationId: orgId };
  const rows = await em.find(AuditEvent, where, {
    orderBy: { createdAt: 'desc', id: 'desc' },
    limit: limit + 1,
  });
  const page = rows.slice(0, limit);
  const userIds = [...new Set(page.map((r) => r.actorUserId).filter((id): id is string => id !== null))];
  const names = new Map<string, string>();
  if (userIds.length > 0) {
    const users = await em.find(User, { id: { $in: userIds } }, { fields: ['id', 'name'] });
    for (const u of users) names.set(u.id, u.name);
  }
  const last = page[page.length - 1];
  return {
    items: page.map((r) => ({
      id: r.id,
      action: r.action,
      actorType: r.actorType,
      actorUserId: r.actorUserId ?? null,
      actorName: r.actorUserId ? (names.get(r.actorUserId) ?? null) : null,
      actorKeyId: r.actorKeyId ?? null,
      actorTokenId: r.actorTokenId ?? null,
      targetType: r.targetType ?? null,
      targetId: r.targetId ?? null,
      ip: r.ip ?? null,
      userAgent: r.userAgent ?? null,
      metadata: r.metadata ?? null,
      createdAt: r.createdAt.toISOString(),
    })),
    nextCursor: rows.length > limit && last ? encodeCursor(last.createdAt, last.id) : null,
  };
}
