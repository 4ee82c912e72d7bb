import type { EntityManager } from '@mikro-orm/postgresql';
import type { Request, Response } from 'express';
import type { Auth, RequestInfo, SessionCookieWriter } from '../context.ts';
import { requestSlot } from './request-slot.ts';

/** What the authentication middleware learned about a request, for tRPC contexts and the rate limiter. */
export interface RequestState {
  em: EntityManager;
  auth: Auth;
  info: RequestInfo;
  cookies: SessionCookieWriter;
  /** Organizations this request's calls acted in (passed the org check): where its usage is counted. */
  actedIn: Set<string>;
}

const states = requestSlot<RequestState>('crowdee.requestState');

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

/** Sets or clears the session cookie of one response. A class, so a request allocates one small object for it. */
class ResponseCookies implements SessionCookieWriter {
  constructor(
    private readonly req: Request,
    private readonly res: Response,
  ) {}

  private options() {
    return { httpOnly: true, sameSite: 'lax' as const, secure: this.req.secure, path: '/' };
  }

  set(token: string, expiresAt: Date): void {
    this.res.cookie(sessionCookieName(this.req), token, { ...this.options(), expires: expiresAt });
  }

  clear(): void {
    this.res.clearCookie(sessionCookieName(this.req), this.options());
  }
}

export function cookieWriter(req: Request, res: Response): SessionCookieWriter {
  return new ResponseCookies(req, res);
}
