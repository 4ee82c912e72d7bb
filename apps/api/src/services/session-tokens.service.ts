import { randomUUID } from 'node:crypto';
import { DomainError, generateSessionBoundToken, sessionTokenExpiry } from '@crowdee/core';
import { SessionToken } from '@crowdee/db';
import type { EntityManager } from '@mikro-orm/postgresql';
import type { AppDeps } from '../app-deps.ts';
import { publishInvalidation } from '../invalidation/index.ts';
import { type Actor, recordAudit } from './audit.service.ts';
import type { CachedSessionToken } from './key-cache.ts';

const unauthenticated = () => new DomainError('UNAUTHENTICATED');

export interface SessionTokenView {
  id: string;
  hint: string;
  audience: string;
  createdAt: string;
  expiresAt: string;
  lastUsedAt: string | null;
}

function view(row: SessionToken): SessionTokenView {
  return {
    id: row.id,
    hint: row.hint,
    audience: row.audience,
    createdAt: row.createdAt.toISOString(),
    expiresAt: row.expiresAt.toISOString(),
    lastUsedAt: row.lastUsedAt?.toISOString() ?? null,
  };
}

/** A new session token bound to the caller's session. The full token is returned this once and never stored. */
export async function createSessionToken(
  deps: AppDeps,
  em: EntityManager,
  actor: Actor,
  session: { id: string; userId: string; expiresAt: Date },
  input: { audience: string; ttlSeconds?: number | undefined },
): Promise<{ token: string; sessionToken: SessionTokenView }> {
  const now = deps.clock();
  const { key, hash, hint } = generateSessionBoundToken();
  const row = em.create(SessionToken, {
    id: randomUUID(),
    hash,
    hint,
    audience: input.audience,
    session: session.id,
    user: session.userId,
    createdAt: now,
    expiresAt: sessionTokenExpiry(now, session.expiresAt, input.ttlSeconds),
    lastUsedAt: null,
  });
  recordAudit(em, actor, {
    action: 'session_token.created',
    target: { type: 'session_token', id: row.id },
    metadata: { audience: input.audience, hint, expiresAt: row.expiresAt.toISOString() },
    at: now,
  });
  await em.flush();
  return { token: key, sessionToken: view(row) };
}

/**
 * Extends the presenting token from now, by the TTL asked for (default 15 min, at most 1 h), never past its
 * session's end. Only a token that is still valid can be refreshed: an expired one needs a new token.
 */
export async function refreshSessionToken(
  deps: AppDeps,
  em: EntityManager,
  actor: Actor,
  token: CachedSessionToken,
  ttlSeconds: number | undefined,
): Promise<SessionTokenView> {
  const now = deps.clock();
  const row = await em.findOne(SessionToken, { id: token.id, user: token.creator.id });
  if (!row) throw unauthenticated();
  row.expiresAt = sessionTokenExpiry(now, token.sessionExpiresAt, ttlSeconds);
  recordAudit(em, actor, {
    action: 'session_token.refreshed',
    target: { type: 'session_token', id: row.id },
    metadata: { expiresAt: row.expiresAt.toISOString() },
    at: now,
  });
  await em.flush();
  await publishInvalidation(deps, em, {
    cause: 'session_token.refreshed',
    targets: [{ kind: 'key', keyId: row.id }],
  });
  return view(row);
}

/** The live session tokens of each of the user's sessions, for the sessions list. */
export async function sessionTokensBySession(
  em: EntityManager,
  userId: string,
  now: Date,
): Promise<Map<string, SessionTokenView[]>> {
  const rows = await em.find(
    SessionToken,
    { user: userId, expiresAt: { $gt: now } },
    { orderBy: { createdAt: 'desc' } },
  );
  const bySession = new Map<string, SessionTokenView[]>();
  for (const row of rows) {
    const sessionId = row.session.id;
    const list = bySession.get(sessionId) ?? [];
    list.push(view(row));
    bySession.set(sessionId, list);
  }
  return bySession;
}

/**
 * Leak reports (`POST /api/v1/keys/revoke-leaked`) may carry session tokens: each one still live ends now (its
 * expiry moves to now, every node drops it from its cache) and its user sees why in the audit log. Returns how many
 * were live. `tokenHashes` are SHA-256 hashes of checksum-valid tokens.
 */
export async function endLeakedSessionTokens(
  deps: AppDeps,
  em: EntityManager,
  actor: Actor,
  tokenHashes: string[],
  now: Date,
): Promise<number> {
  if (tokenHashes.length === 0) return 0;
  const rows = await em.find(SessionToken, { hash: { $in: tokenHashes }, expiresAt: { $gt: now } });
  for (const row of rows) {
    row.expiresAt = now;
    recordAudit(em, actor, {
      action: 'session_token.revoked',
      target: { type: 'session_token', id: row.id },
      // The token's own user is the one who must see this in their audit trail.
      metadata: { reason: 'leak-report', hint: row.hint, audience: row.audience, userId: row.user.id },
      at: now,
    });
  }
  await em.flush();
  if (rows.length > 0) {
    await publishInvalidation(deps, em, {
      cause: 'session_token.revoked',
      targets: rows.map((row) => ({ kind: 'key' as const, keyId: row.id })),
    });
  }
  return rows.length;
}
