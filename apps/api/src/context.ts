import type { DomainError } from '@crowdee/core';
import type { Orm } from '@crowdee/db';
import type { EntityManager } from '@mikro-orm/postgresql';
import type { Config } from './config.ts';
import type { InvalidationBus } from './invalidation/invalidation-bus.ts';
import type { Logger } from './logger.ts';
import type { Mailer } from './mail/mailer.ts';
import type { RateLimiting } from './rate-limit/index.ts';
import type { RunQueue } from './runs/run-queue.ts';
import type { Actor } from './services/audit.service.ts';
import type { CachedKey, CachedSessionToken, KeyCache } from './services/key-cache.ts';
import type { KeyVerifier } from './services/key-verifier.ts';
import type { PasswordHasher } from './services/passwords.ts';
import type { SessionTokenVerifier } from './services/session-tokens.service.ts';
import type { ActiveSession, SessionUser } from './services/sessions.service.ts';

/** Long-lived collaborators, built once per process (or per test). */
export interface AppDeps {
  config: Config;
  logger: Logger;
  orm: Orm;
  /** Injected so tests can move time (session idle/absolute expiry, key expiry, grace periods). */
  clock: () => Date;
  keyCache: KeyCache;
  /** Applies verification-affecting changes here and on every other API node (`publishInvalidation`). */
  invalidation: InvalidationBus;
  keyVerifier: KeyVerifier;
  sessionTokenVerifier: SessionTokenVerifier;
  passwords: PasswordHasher;
  /** Null when rate limiting is switched off (RATE_LIMITS=off). */
  limits: RateLimiting | null;
  mailer: Mailer;
  /** The settings app's base URL, for links in mails. Never taken from a request's Host header. */
  appUrl: () => string;
  /** Where started runs are queued (pg-boss on the same database); workers may live in this process or others. */
  runQueue: RunQueue;
}

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
  /**
   * Sets a header on the HTTP response of a REST call (ETag, Retry-After). Absent over tRPC, where one response
   * carries a whole batch.
   */
  setResponseHeader?: (name: string, value: string) => void;
}

export function actorOf(ctx: Pick<Context, 'auth' | 'request'>): Actor {
  const base = { ip: ctx.request.ip, userAgent: ctx.request.userAgent };
  switch (ctx.auth.kind) {
    case 'session':
      return { ...base, type: 'user', userId: ctx.auth.user.id, keyId: null };
    case 'key':
      return { ...base, type: 'key', userId: ctx.auth.key.creator.id, keyId: ctx.auth.key.id };
    case 'session-token':
      return {
        ...base,
        type: 'session-token',
        userId: ctx.auth.token.creator.id,
        keyId: null,
        tokenId: ctx.auth.token.id,
      };
    default:
      return { ...base, type: 'anonymous', userId: null, keyId: null };
  }
}
