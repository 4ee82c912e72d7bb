import type { EntityManager } from '@mikro-orm/postgresql';
import type { Request, Response } from 'express';
import type { Auth, RequestInfo, SessionCookieWriter } from '../context.ts';

/** What the authentication middleware learned about a request, for tRPC contexts and the rate limiter. */
export interface RequestState {
  em: EntityManager;
  auth: Auth;
  info: RequestInfo;
  cookies: SessionCookieWriter;
  /** Organizations this request's calls acted in (passed the org check): where its usage is counted. */
  actedIn: Set<string>;
}

const states = new WeakMap<Request, RequestState>();

export function setRequestState(req: Request, state: RequestState): void {
  states.set(req, state);
}

export function getRequestState(req: Request): RequestState | undefined {
  return states.get(req);
}

export const SESSION_COOKIE = 'crowdee_session';
/** Over HTTPS the cookie takes the `__Host-` prefix: Secure, Path=/, no Domain — it cannot be set by a subdomain. */
export const SECURE_SESSION_COOKIE = '__Host-crowdee_session';

export function sessionCookieName(req: Request): string {
  return req.secure ? SECURE_SESSION_COOKIE : SESSION_COOKIE;
}

export function readCookie(req: Request, name: string): string | undefined {
  const header = req.headers.cookie;
  if (!header) return undefined;
  for (const part of header.split(';')) {
    const eq = part.indexOf('=');
    if (eq === -1) continue;
    if (part.slice(0, eq).trim() === name) {
      const value = part.slice(eq + 1).trim();
      try {
        return decodeURIComponent(value);
      } catch {
        return undefined;
      }
    }
  }
  return undefined;
}

export function cookieWriter(req: Request, res: Response): SessionCookieWriter {
  const name = sessionCookieName(req);
  const options = { httpOnly: true, sameSite: 'lax' as const, secure: req.secure, path: '/' };
  return {
    set(token, expiresAt) {
      res.cookie(name, token, { ...options, expires: expiresAt });
    },
    clear() {
      res.clearCookie(name, options);
    },
  };
}
