import { DomainError } from '@crowdee/core';
import type { Request, RequestHandler } from 'express';
import { sendError } from './error-response.ts';

/** Answers 405 with `Allow` (RFC 9110 §15.5.6) for a request that reached a known path with another method. */
export function methodNotAllowed(allowed: readonly string[]): RequestHandler {
  const allow = allowed.join(', ');
  return (req, res) => {
    res.setHeader('Allow', allow);
    sendError(
      req,
      res,
      new DomainError('METHOD_NOT_ALLOWED', `${req.method} is not allowed here; use ${allow}.`),
    );
  };
}

/** Path templates like `/orgs/{orgId}/projects` as matchers on concrete paths (one segment per parameter). */
function templateMatcher(template: string): RegExp {
  const pattern = template
    .split('/')
    .map((segment) => (/^\{[^}]+\}$/.test(segment) ? '[^/]+' : segment.replace(/[.*+?^$()|[\]\\]/g, '\\$&')))
    .join('/');
  return new RegExp(`^${pattern}/*$`);
}

/**
 * For the REST API: the methods each documented path answers, from the OpenAPI document's paths, or null for a path
 * that matches no template (a 404).
 */
export function restAllowedMethods(paths: Record<string, object>): (req: Request) => string[] | null {
  const routes = Object.entries(paths).map(([template, item]) => {
    const methods = Object.keys(item)
      .filter((m) => ['get', 'put', 'post', 'delete', 'patch'].includes(m))
      .map((m) => m.toUpperCase());
    // HEAD is answered wherever GET is (see headAsGet); CORS preflights for every path under /api/v1.
    const head = methods.includes('GET') ? ['HEAD'] : [];
    return { matcher: templateMatcher(template), allowed: [...methods, ...head, 'OPTIONS'] };
  });
  return (req) => {
    const matching = routes.filter((r) => r.matcher.test(req.path));
    return matching.length === 0 ? null : [...new Set(matching.flatMap((r) => r.allowed))];
  };
}

/**
 * HEAD wherever GET is answered (RFC 9110 §9.3.2): the REST adapter routes GET only, so it runs the GET operation;
 * Node already knows the request was HEAD and sends no body.
 */
export const headAsGet: RequestHandler = (req, _res, next) => {
  if (req.method === 'HEAD') req.method = 'GET';
  next();
};
