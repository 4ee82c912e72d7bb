import { bearerKind, DomainError } from '@crowdee/core';
import type { RequestHandler } from 'express';
import type { AppDeps } from '../app-deps.ts';
import type { Auth } from '../context.ts';
import { isServerFault, toDomainError } from '../errors.ts';
import { resolveSession } from '../services/sessions.service.ts';
import { lazyFork } from './lazy-entity-manager.ts';
import { cookieWriter, readCookie, sessionCookieName, setRequestState } from './request-state.ts';

const BEARER = /^Bearer[ ]+([^\s]+)[ ]*$/i;

/**
 * Resolves who is calling, once per request, for every transport: `Authorization: Bearer <key or session token>`
 * (told apart by prefix) first, then (where
 * sessions are accepted) the session cookie. Bad credentials do not fail here; they are recorded as `rejected`
 * so the rate limiter can still count the caller, and every procedure then refuses with the precise code.
 */
export function authenticate(deps: AppDeps, options: { acceptSession: boolean }): RequestHandler {
  return async (req, res, next) => {
    // Forked on first use: a request answered from the key cache never needs an EntityManager.
    const em = lazyFork(deps);
    const info = {
      ip: req.ip ?? req.socket.remoteAddress ?? null,
      userAgent: req.get('user-agent')?.slice(0, 512) ?? null,
    };
    const cookies = cookieWriter(req, res);
    let auth: Auth = { kind: 'anonymous' };
    try {
      const header = req.headers.authorization;
      if (header !== undefined) {
        const bearer = BEARER.exec(header)?.[1];
        if (!bearer) auth = { kind: 'rejected', error: new DomainError('UNAUTHENTICATED') };
        else if (bearerKind(bearer) === 'session-token')
          auth = { kind: 'session-token', token: await deps.sessionTokenVerifier.verify(bearer) };
        else auth = { kind: 'key', key: await deps.keyVerifier.verify(bearer, info.ip) };
      } else if (options.acceptSession) {
        const token = readCookie(req, sessionCookieName(req));
        if (token) {
          const resolved = await resolveSession(em, token, deps.clock(), deps.config.sessions);
          if (resolved) auth = { kind: 'session', ...resolved };
          else cookies.clear();
        }
      }
    } catch (error) {
      // A database outage must never let a request through: it becomes a 503 for anything that needs a caller.
      const domain = toDomainError(error);
      if (isServerFault(domain)) deps.logger.error({ err: error }, 'authentication failed');
      auth = { kind: 'rejected', error: domain };
    }
    setRequestState(req, {
      em,
      auth,
      info,
      cookies,
      actedIn: new Set(),
    });
    next();
  };
}
