import { DomainError } from '@crowdee/core';
import type { RequestHandler } from 'express';
import { readCookie, sessionCookieName } from './request-state.ts';

const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);

/**
 * State changes only through non-GET requests, and a browser's must come from our own origin. A cookie-carrying
 * mutation is refused unless `Sec-Fetch-Site: same-origin`, or — for browsers that do not send it — its `Origin`
 * matches our host or the configured allowlist. Without a cookie (sign-in, sign-up) the same check applies
 * whenever the browser says where the request came from, which stops login CSRF; plain HTTP clients send neither
 * header and are unaffected. Bearer-key requests carry no ambient credential, so they are exempt.
 */
export function csrfProtection(allowedOrigins: readonly string[]): RequestHandler {
  const allow = new Set(allowedOrigins.map((o) => o.replace(/\/$/, '').toLowerCase()));
  return (req, _res, next) => {
    if (SAFE_METHODS.has(req.method) || req.headers.authorization !== undefined) return next();
    const fetchSite = req.get('sec-fetch-site')?.toLowerCase();
    const origin = req.get('origin')?.toLowerCase();
    const hasCookie = readCookie(req, sessionCookieName(req)) !== undefined;
    const originAllowed = origin !== undefined && (allow.has(origin) || sameHost(origin, req.get('host')));
    let ok: boolean;
    if (fetchSite === 'same-origin') ok = true;
    else if (origin !== undefined && allow.has(origin)) ok = true;
    else if (fetchSite !== undefined) ok = false;
    else if (origin !== undefined) ok = originAllowed;
    else ok = !hasCookie;
    if (ok) return next();
    next(new DomainError('CSRF_REJECTED'));
  };
}

function sameHost(origin: string, host: string | undefined): boolean {
  if (!host || origin === 'null') return false;
  try {
    return new URL(origin).host === host.toLowerCase();
  } catch {
    return false;
  }
}
