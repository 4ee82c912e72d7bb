import { randomUUID } from 'node:crypto';
import { toCsv } from '@crowdee/core';
import { ApiKey, type AUDIT_ACTOR_TYPES, AuditEvent, SessionToken, User } from '@crowdee/db';
import type { EntityManager } from '@mikro-orm/postgresql';
import { z } from 'zod';

/** Who did something, and from where. Built once per request from the authenticated caller. */
export interface Actor {
  type: 'user' | 'key' | 'session-token' | 'anonymous' | 'system';
  userId: string | null;
  keyId: string | null;
  /** The session token acted with (type `session-token`). */
  tokenId?: string | null;
  /**
   * The acting key's name (a session token's audience) and its hint, recorded with each event so the log can say
   * which credential acted — never the secret, only the hint that is shown everywhere else.
   */
  credential?: { name: string; hint: string } | null;
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
  'auth.second_factor_failed',
  'auth.totp_enabled',
  'auth.totp_disabled',
  'auth.recovery_codes_regenerated',
  'auth.passkey_added',
  'auth.passkey_renamed',
  'auth.passkey_removed',
  /** Sudo mode: the holder of a session confirmed who they are (or failed to). */
  'auth.sudo_confirmed',
  'auth.sudo_failed',
  'session.revoked',
  'session_token.created',
  'session_token.refreshed',
  'session_token.revoked',
  'org.created',
  'org.updated',
  'org.deleted',
  'org.key_policy_changed',
  'org.two_factor_policy_changed',
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
  'key.allowed_ips_changed',
  'project.created',
  'project.updated',
  'project.deleted',
  'dataset.created',
  'dataset.deleted',
  'dataset.items_added',
  'dataset.item_deleted',
  'limit.requested',
  'limit.request_approved',
  'limit.request_denied',
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
    actorCredentialName: actor.credential?.name.slice(0, 100) ?? null,
    actorCredentialHint: actor.credential?.hint.slice(0, 16) ?? null,
    organizationId: input.organizationId ?? null,
    targetType: input.target?.type ?? null,
    targetId: input.target?.id ?? null,
    ip: actor.ip,
    userAgent: actor.userAgent,
    metadata: input.metadata ?? null,
    createdAt: input.at,
  });
}

export type AuditActorType = (typeof AUDIT_ACTOR_TYPES)[number];

/** What the audit page (and an export) narrows the log to. Every filter is optional; all given ones apply. */
export interface AuditFilters {
  /** Events by this user, whether they acted in the browser, with one of their keys or with a session token. */
  actorUserId?: string | undefined;
  /** Events done with this key. */
  actorKeyId?: string | undefined;
  actorType?: AuditActorType | undefined;
  /** Any of these event types. */
  actions?: readonly AuditAction[] | undefined;
  /** From this moment (inclusive) ... */
  from?: Date | undefined;
  /** ... to this one (exclusive). */
  to?: Date | undefined;
}

export interface AuditItem {
  id: string;
  action: string;
  actorType: string;
  actorUserId: string | null;
  actorName: string | null;
  actorKeyId: string | null;
  actorTokenId: string | null;
  /** The key that acted (type `key`), by name and hint as they were when it acted. */
  actorKey: { id: string; name: string | null; hint: string | null } | null;
  /** The session token that acted (type `session-token`), by audience and hint. */
  actorToken: { id: string; audience: string | null; hint: string | null } | null;
  /** One line naming the actor, e.g. `Ada Lovelace · key “deploy” (cdk_AbCd…wxyz)`. */
  actorLabel: string;
  targetType: string | null;
  targetId: string | null;
  ip: string | null;
  userAgent: string | null;
  metadata: Record<string, unknown> | null;
  createdAt: string;
}

export interface AuditPage {
  items: AuditItem[];
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

/** The organization's events that pass every filter given, strictly older than `after` in (time, id) order. */
function whereOf(orgId: string, filters: AuditFilters, after: { createdAt: Date; id: string } | null) {
  const and: Record<string, unknown>[] = [{ organizationId: orgId }];
  if (filters.actorUserId) and.push({ actorUserId: filters.actorUserId });
  if (filters.actorKeyId) and.push({ actorKeyId: filters.actorKeyId });
  if (filters.actorType) and.push({ actorType: filters.actorType });
  if (filters.actions && filters.actions.length > 0) and.push({ action: { $in: [...filters.actions] } });
  if (filters.from) and.push({ createdAt: { $gte: filters.from } });
  if (filters.to) and.push({ createdAt: { $lt: filters.to } });
  if (after)
    and.push({
      $or: [{ createdAt: { $lt: after.createdAt } }, { createdAt: after.createdAt, id: { $lt: after.id } }],
    });
  return { $and: and };
}

/** Keys, tokens and users named in these rows, three queries at most whatever the page size. */
async function nameActors(em: EntityManager, rows: AuditEvent[]): Promise<AuditItem[]> {
  const ids = (pick: (r: AuditEvent) => string | null | undefined, need: (r: AuditEvent) => boolean) => [
    ...new Set(
      rows
        .filter(need)
        .map(pick)
        .filter((id): id is string => !!id),
    ),
  ];
  const userIds = ids(
    (r) => r.actorUserId,
    () => true,
  );
  // Rows written before names were recorded: look the credential up (a key outlives its revocation; a session
  // token may be gone with its session, and then only its id is left).
  const keyIds = ids(
    (r) => r.actorKeyId,
    (r) => !r.actorCredentialHint,
  );
  const tokenIds = ids(
    (r) => r.actorTokenId,
    (r) => !r.actorCredentialHint,
  );
  const [users, keys, tokens] = await Promise.all([
    userIds.length ? em.find(User, { id: { $in: userIds } }, { fields: ['id', 'name'] }) : [],
    keyIds.length ? em.find(ApiKey, { id: { $in: keyIds } }, { fields: ['id', 'name', 'hint'] }) : [],
    tokenIds.length
      ? em.find(SessionToken, { id: { $in: tokenIds } }, { fields: ['id', 'audience', 'hint'] })
      : [],
  ]);
  const userNames = new Map(users.map((u) => [u.id, u.name]));
  const keyNames = new Map(keys.map((k) => [k.id, { name: k.name, hint: k.hint }]));
  const tokenNames = new Map(tokens.map((t) => [t.id, { name: t.audience, hint: t.hint }]));
  return rows.map((r) => {
    const actorName = r.actorUserId ? (userNames.get(r.actorUserId) ?? null) : null;
    const stored = r.actorCredentialHint
      ? { name: r.actorCredentialName ?? null, hint: r.actorCredentialHint }
      : null;
    const key =
      r.actorKeyId && r.actorType === 'key'
        ? { id: r.actorKeyId, ...(stored ?? keyNames.get(r.actorKeyId) ?? { name: null, hint: null }) }
        : null;
    const token =
      r.actorTokenId && r.actorType === 'session-token'
        ? { id: r.actorTokenId, ...(stored ?? tokenNames.get(r.actorTokenId) ?? { name: null, hint: null }) }
        : null;
    return {
      id: r.id,
      action: r.action,
      actorType: r.actorType,
      actorUserId: r.actorUserId ?? null,
      actorName,
      actorKeyId: r.actorKeyId ?? null,
      actorTokenId: r.actorTokenId ?? null,
      actorKey: key,
      actorToken: token ? { id: token.id, audience: token.name, hint: token.hint } : null,
      actorLabel: actorLabel(r.actorType, actorName, !!r.actorUserId, key, token),
      targetType: r.targetType ?? null,
      targetId: r.targetId ?? null,
      ip: r.ip ?? null,
      userAgent: r.userAgent ?? null,
      metadata: r.metadata ?? null,
      createdAt: r.createdAt.toISOString(),
    };
  });
}

function credentialLabel(kind: string, c: { name: string | null; hint: string | null }): string {
  const name = c.name ? ` “${c.name}”` : '';
  const hint = c.hint ? ` (${c.hint})` : '';
  return `${kind}${name}${hint}`;
}

function actorLabel(
  type: string,
  userName: string | null,
  hasUser: boolean,
  key: { name: string | null; hint: string | null } | null,
  token: { name: string | null; hint: string | null } | null,
): string {
  const who = userName ?? (hasUser ? 'Deleted user' : null);
  const via = key
    ? credentialLabel('key', key)
    : token
      ? credentialLabel('session token', token)
      : type === 'key'
        ? 'API key'
        : type === 'session-token'
          ? 'session token'
          : null;
  if (via) return who ? `${who} · ${via}` : via;
  if (type === 'system') return 'Crowdee (automatic)';
  if (type === 'anonymous') return 'Anonymous';
  return who ?? 'Unknown';
}

/**
 * Newest first, keyset-paginated on (time, id): stable under concurrent inserts, unlike offsets — an event written
 * while someone pages is never shown twice and never pushes another off a page. Null for a cursor that is not ours.
 */
export async function listAudit(
  em: EntityManager,
  orgId: string,
  limit: number,
  cursor: string | undefined,
  filters: AuditFilters = {},
): Promise<AuditPage | null> {
  const after = cursor ? decodeCursor(cursor) : null;
  if (cursor && !after) return null;
  const rows = await em.find(AuditEvent, whereOf(orgId, filters, after), {
    orderBy: { createdAt: 'desc', id: 'desc' },
    limit: limit + 1,
  });
  const page = rows.slice(0, limit);
  const last = page[page.length - 1];
  return {
    items: await nameActors(em, page),
    nextCursor: rows.length > limit && last ? encodeCursor(last.createdAt, last.id) : null,
  };
}

/** At most this many events per export; a larger log is exported in parts (`nextCursor`). */
export const AUDIT_EXPORT_MAX_EVENTS = 10_000;
const EXPORT_BATCH = 500;

export const AUDIT_EXPORT_FORMATS = ['jsonl', 'csv'] as const;
export type AuditExportFormat = (typeof AUDIT_EXPORT_FORMATS)[number];

export interface AuditExport {
  format: AuditExportFormat;
  contentType: string;
  filename: string;
  /** How many events `content` holds. */
  count: number;
  content: string;
  /** Set when the filtered log holds more than one export takes: pass it as `cursor` for the next part. */
  nextCursor: string | null;
}

const CSV_COLUMNS = [
  'id',
  'time',
  'action',
  'actor',
  'actor_type',
  'actor_user_id',
  'actor_key_id',
  'actor_key_name',
  'actor_key_hint',
  'actor_token_id',
  'target_type',
  'target_id',
  'ip',
  'user_agent',
  'metadata',
] as const;

function csvFields(e: AuditItem): (string | null)[] {
  return [
    e.id,
    e.createdAt,
    e.action,
    e.actorLabel,
    e.actorType,
    e.actorUserId,
    e.actorKeyId,
    e.actorKey?.name ?? null,
    e.actorKey?.hint ?? e.actorToken?.hint ?? null,
    e.actorTokenId,
    e.targetType,
    e.targetId,
    e.ip,
    e.userAgent,
    e.metadata ? JSON.stringify(e.metadata) : null,
  ];
}

/**
 * The filtered log, newest first, as JSON Lines (one event per line, the same fields as `audit.list`) or CSV
 * (spreadsheet-safe: see `toCsv`). Read in keyset batches, so it is exactly the set `audit.list` pages through.
 */
export async function exportAudit(
  em: EntityManager,
  orgId: string,
  format: AuditExportFormat,
  filters: AuditFilters,
  cursor: string | undefined,
  now: Date,
): Promise<AuditExport | null> {
  const items: AuditItem[] = [];
  let next = cursor;
  let more = true;
  while (more && items.length < AUDIT_EXPORT_MAX_EVENTS) {
    const page = await listAudit(
      em,
      orgId,
      Math.min(EXPORT_BATCH, AUDIT_EXPORT_MAX_EVENTS - items.length),
      next,
      filters,
    );
    if (!page) return null;
    items.push(...page.items);
    next = page.nextCursor ?? undefined;
    more = page.nextCursor !== null;
  }
  const stamp = now.toISOString().slice(0, 19).replaceAll(':', '-');
  const content =
    format === 'csv'
      ? toCsv(CSV_COLUMNS, items.map(csvFields))
      : items.map((e) => `${JSON.stringify(e)}\n`).join('');
  return {
    format,
    contentType: format === 'csv' ? 'text/csv; charset=utf-8' : 'application/x-ndjson',
    filename: `audit-${orgId.slice(0, 8)}-${stamp}.${format}`,
    count: items.length,
    content,
    nextCursor: more ? (next ?? null) : null,
  };
}
