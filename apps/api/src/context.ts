import type { DomainError } from '@crowdee/core';
import type { EntityManager } from '@mikro-orm/postgresql';
import type { AppDeps } from './app-deps.ts';
import type { Actor } from './services/audit.service.ts';
import type { CachedKey, CachedSessionToken } from './services/key-cache.ts';
import type { ActiveSession, SessionUser } from './services/sessions.service.ts';

/** Who is calling. `rejected` = credentials were presented and are bad: every procedure refuses, even public ones. */
export type Auth =
  | { kind: 'anonymous' }
  | { kind: 'session'; session: ActiveSession; user: SessionUser }
  | { kind: 'key'; key: CachedKey }
  /** A session token: acts as the signed-in user it is bound to, never for session-only actions. */
  | { kind: 'session-token'; token: CachedSessionToken }
  | { kind: 'rejected'; error: DomainError };

export interface RequestInfo {
  ip: string | null;
  userAgent: string | null;
}

/** Lets sign-in and sign-out set or clear the session cookie without procedures knowing about HTTP. */
export interface SessionCookieWriter {
  set(token: string, expiresAt: Date): void;
  clear(): void;
}

export interface Context {
  deps: AppDeps;
  /** This call's EntityManager: a fork per call (each call of a tRPC batch has its own), never the global one. */
  em: EntityManager;
  auth: Auth;
  request: RequestInfo;
  cookies: SessionCookieWriter;
  /** Organizations this request acted in, for usage counting (shared by the calls of a batch). */
  actedIn: Set<string>;
  /**
   * Sets a header on the HTTP response of a REST call (ETag, Retry-After). Absent over tRPC, where one response
   * carries a whole batch.
   */
  setResponseHeader?: (name: string, value: string) => void;
}

/**
 * The caller on whose behalf a procedure acts: a signed-in user, a key acting for its creator, or a session token
 * acting as the user whose sign-in it is bound to (with their current roles, uncapped, but never session-only).
 */
export type Caller =
  | { kind: 'session'; userId: string; user: SessionUser; session: ActiveSession }
  | { kind: 'key'; userId: string; key: CachedKey }
  | { kind: 'token'; userId: string; token: CachedSessionToken };

/** The caller behind valid credentials, or null when there are none. */
export function callerOf(auth: Auth): Caller | null {
  if (auth.kind === 'session')
    return { kind: 'session', userId: auth.user.id, user: auth.user, session: auth.session };
  if (auth.kind === 'key') return { kind: 'key', userId: auth.key.creator.id, key: auth.key };
  if (auth.kind === 'session-token')
    return { kind: 'token', userId: auth.token.creator.id, token: auth.token };
  return null;
}

export function actorOf(ctx: Pick<Context, 'auth' | 'request'>): Actor {
  const base = { ip: ctx.request.ip, userAgent: ctx.request.userAgent };
  switch (ctx.auth.kind) {
    case 'session':
      return { ...base, type: 'user', userId: ctx.auth.user.id, keyId: null };
    case 'key':
      return {
        ...base,
        type: 'key',
        userId: ctx.auth.key.creator.id,
        keyId: ctx.auth.key.id,
        credential: { name: ctx.auth.key.name, hint: ctx.auth.key.hint },
      };
    case 'session-token':
      return {
        ...base,
        type: 'session-token',
        userId: ctx.auth.token.creator.id,
        keyId: null,
        tokenId: ctx.auth.token.id,
        credential: { name: ctx.auth.token.audience, hint: ctx.auth.token.hint },
      };
    default:
      return { ...base, type: 'anonymous', userId: null, keyId: null };
  }
}
