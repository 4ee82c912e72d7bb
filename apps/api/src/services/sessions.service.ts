import {
  DomainError,
  generateSessionToken,
  isSudoFresh,
  parseSessionToken,
  type Role,
  type SecondFactorKind,
  type SessionTimeouts,
  type SignInMethod,
  sessionExpiresAt,
  sessionState,
  shouldTouchSession,
  sudoExpiresAt,
  type VerificationMethod,
  verifySessionSecret,
} from '@crowdee/core';
import { Membership, Organization, Session } from '@crowdee/db';
import type { EntityManager } from '@mikro-orm/postgresql';
import type { AppDeps } from '../app-deps.ts';
import { publishInvalidation } from '../invalidation/index.ts';
import { type Actor, recordAudit } from './audit.service.ts';
import { pendingEmailChange } from './email-verification.service.ts';
import { sessionTokensBySession } from './session-tokens.service.ts';
import { sqlDate } from './sql.ts';
import { enrolledFactors } from './two-factor.service.ts';

export interface SessionUser {
  id: string;
  email: string;
  name: string;
  /** Whether the account proved it owns `email`: needed to create and join organizations. */
  emailVerified: boolean;
}

export interface ActiveSession {
  id: string;
  userId: string;
  activeOrganizationId: string | null;
  createdAt: Date;
  expiresAt: Date;
  lastSeenAt: Date;
  /** How this sign-in was proven. */
  authMethod: SignInMethod;
  /** When the holder last proved who they are (sign-in or a sudo confirmation since): the sudo window's start. */
  verifiedAt: Date | null;
  /** Which method that last proof used. */
  verifiedMethod: VerificationMethod | null;
}

export interface RequestOrigin {
  ip: string | null;
  userAgent: string | null;
}

/**
 * A new session with a fresh random token (never reused: no session fixation). Returns the raw token once. `proof`
 * records how the sign-in was proven; the sign-in itself is the session's first proof of identity (`verifiedAt`).
 */
export async function createSession(
  em: EntityManager,
  userId: string,
  origin: RequestOrigin,
  now: Date,
  timeouts: SessionTimeouts,
  proof: { method: SignInMethod; verifiedMethod: VerificationMethod } = {
    method: 'password',
    verifiedMethod: 'password',
  },
): Promise<{ token: string; expiresAt: Date; id: string }> {
  const { token, id, secretHash } = generateSessionToken();
  const expiresAt = sessionExpiresAt(now, timeouts);
  em.create(Session, {
    id,
    secretHash,
    user: userId,
    activeOrganization: null,
    createdAt: now,
    lastSeenAt: now,
    expiresAt,
    authMethod: proof.method,
    verifiedAt: now,
    verifiedMethod: proof.verifiedMethod,
    ip: origin.ip,
    userAgent: origin.userAgent?.slice(0, 512) ?? null,
  });
  await em.flush();
  return { token, expiresAt, id };
}

interface SessionRow {
  id: string;
  secret_hash: string;
  user_id: string;
  active_organization_id: string | null;
  created_at: Date | string;
  last_seen_at: Date | string;
  expires_at: Date | string;
  email: string;
  name: string;
  email_verified_at: Date | string | null;
  auth_method: string;
  verified_at: Date | string | null;
  verified_method: string | null;
}

/**
 * Resolves a session token: lookup by its public id, constant-time check of the secret's hash, absolute and idle
 * expiry enforced here on the server (an expired session is deleted). `lastSeenAt` is written at most once a minute.
 */
export async function resolveSession(
  em: EntityManager,
  token: string,
  now: Date,
  timeouts: SessionTimeouts,
): Promise<{ session: ActiveSession; user: SessionUser } | null> {
  const parsed = parseSessionToken(token);
  if (!parsed) return null;
  const rows = await em.getConnection().execute<SessionRow[]>(
    `select s.id, s.secret_hash, s.user_id, s.active_organization_id, s.created_at, s.last_seen_at, s.expires_at,
            s.auth_method, s.verified_at, s.verified_method, u.email, u.name, u.email_verified_at
       from sessions s join users u on u.id = s.user_id
      where s.id = ?`,
    [parsed.id],
  );
  const row = rows[0];
  if (!row || !verifySessionSecret(parsed.secret, row.secret_hash)) return null;
  const expiresAt = sqlDate(row.expires_at);
  const state = sessionState({ expiresAt, lastSeenAt: sqlDate(row.last_seen_at) }, now, timeouts);
  if (state !== 'valid') {
    await em.getConnection().execute('delete from sessions where id = ?', [row.id]);
    return null;
  }
  let lastSeenAt = sqlDate(row.last_seen_at);
  if (shouldTouchSession(lastSeenAt, now)) {
    await em.getConnection().execute('update sessions set last_seen_at = ? where id = ?', [now, row.id]);
    lastSeenAt = now;
  }
  return {
    session: {
      id: row.id,
      userId: row.user_id,
      activeOrganizationId: row.active_organization_id,
      createdAt: sqlDate(row.created_at),
      expiresAt,
      lastSeenAt,
      authMethod: row.auth_method as SignInMethod,
      verifiedAt: row.verified_at === null ? null : sqlDate(row.verified_at),
      verifiedMethod: row.verified_method as VerificationMethod | null,
    },
    user: {
      id: row.user_id,
      email: row.email,
      name: row.name,
      emailVerified: row.email_verified_at !== null,
    },
  };
}

export interface SignedIn {
  user: SessionUser;
  /** An address the account asked to move to, waiting for its verification link. */
  pendingEmail: string | null;
  session: {
    createdAt: string;
    expiresAt: string;
    authMethod: SignInMethod;
    /** When the holder last proved who they are (sign-in or sudo confirmation). */
    verifiedAt: string | null;
    /** When the open sudo window closes, by the server's clock; null when none is open. */
    sudoExpiresAt: string | null;
  };
  activeOrganization: { id: string; name: string; role: Role } | null;
  twoFactor: { enabled: boolean; methods: SecondFactorKind[] };
}

/** Who is signed in with this session, and in which organization it acts (only while still a member of it). */
export async function describeSignedIn(
  em: EntityManager,
  user: SessionUser,
  session: ActiveSession,
  now: Date,
): Promise<SignedIn> {
  let activeOrganization: SignedIn['activeOrganization'] = null;
  const orgId = session.activeOrganizationId;
  if (orgId) {
    // A removed member's session forgets the organization.
    const membership = await em.findOne(
      Membership,
      { user: user.id, organization: orgId },
      { fields: ['role'] },
    );
    const org = membership ? await em.findOne(Organization, { id: orgId }, { fields: ['name'] }) : null;
    if (membership && org) activeOrganization = { id: orgId, name: org.name, role: membership.role };
  }
  const factors = await enrolledFactors(em, user.id);
  const { verifiedAt } = session;
  return {
    user,
    pendingEmail: await pendingEmailChange(em, user, now),
    session: {
      createdAt: session.createdAt.toISOString(),
      expiresAt: session.expiresAt.toISOString(),
      authMethod: session.authMethod,
      verifiedAt: verifiedAt?.toISOString() ?? null,
      sudoExpiresAt:
        verifiedAt && isSudoFresh(verifiedAt, now) ? sudoExpiresAt(verifiedAt).toISOString() : null,
    },
    activeOrganization,
    twoFactor: { enabled: factors.length > 0, methods: factors },
  };
}

/**
 * Ending a session ends the session tokens bound to it: the rows go with it (foreign key cascade) and the user's
 * cached credentials are dropped on every node (this one at once), so a token is refused on the very next request.
 */
type Invalidates = Pick<AppDeps, 'invalidation'>;

function sessionsEnded(deps: Invalidates, em: EntityManager, userId: string): Promise<void> {
  return publishInvalidation(deps, em, { cause: 'session.ended', targets: [{ kind: 'user', userId }] });
}

export async function deleteSession(em: EntityManager, deps: Invalidates, userId: string, id: string) {
  await em.nativeDelete(Session, { id, user: userId });
  await sessionsEnded(deps, em, userId);
}

export async function listSessions(em: EntityManager, userId: string, currentId: string, now: Date) {
  const tokens = await sessionTokensBySession(em, userId, now);
  const sessions = await em.find(
    Session,
    { user: userId, expiresAt: { $gt: now } },
    {
      orderBy: { lastSeenAt: 'desc' },
      fields: ['id', 'createdAt', 'lastSeenAt', 'expiresAt', 'ip', 'userAgent'],
    },
  );
  return sessions.map((s) => ({
    id: s.id,
    createdAt: s.createdAt.toISOString(),
    lastSeenAt: s.lastSeenAt.toISOString(),
    expiresAt: s.expiresAt.toISOString(),
    ip: s.ip ?? null,
    userAgent: s.userAgent ?? null,
    current: s.id === currentId,
    tokens: tokens.get(s.id) ?? [],
  }));
}

/** Returns how many sessions were ended. Only the user's own sessions can match. */
/** Signs this session out: it ends (with its session tokens) and the audit log says so. */
export async function signOut(
  deps: Pick<AppDeps, 'invalidation' | 'clock'>,
  em: EntityManager,
  actor: Actor,
  userId: string,
  sessionId: string,
): Promise<void> {
  await deleteSession(em, deps, userId, sessionId);
  recordAudit(em, actor, {
    action: 'auth.sign_out',
    target: { type: 'session', id: sessionId },
    at: deps.clock(),
  });
  await em.flush();
}

/** Ends one of the user's sessions (NOT_FOUND for anyone else's, exactly like a missing one), audited. */
export async function revokeSession(
  deps: Pick<AppDeps, 'invalidation' | 'clock'>,
  em: EntityManager,
  actor: Actor,
  userId: string,
  id: string,
): Promise<number> {
  const revoked = await em.nativeDelete(Session, { id, user: userId });
  if (revoked === 0) throw new DomainError('NOT_FOUND', 'Session not found.');
  await sessionsEnded(deps, em, userId);
  recordAudit(em, actor, { action: 'session.revoked', target: { type: 'session', id }, at: deps.clock() });
  await em.flush();
  return revoked;
}

/** Ends every session of the user but the current one, audited as one event with the count. */
export async function revokeOtherSessions(
  deps: Pick<AppDeps, 'invalidation' | 'clock'>,
  em: EntityManager,
  actor: Actor,
  userId: string,
  currentId: string,
): Promise<number> {
  const revoked = await em.nativeDelete(Session, { user: userId, id: { $ne: currentId } });
  await sessionsEnded(deps, em, userId);
  recordAudit(em, actor, {
    action: 'session.revoked',
    target: { type: 'user', id: userId },
    metadata: { others: revoked },
    at: deps.clock(),
  });
  await em.flush();
  return revoked;
}
