import { DomainError } from '@crowdee/core';
import type { Request, Response } from 'express';
import type { AppDeps } from '../app-deps.ts';
import type { Context } from '../context.ts';
import { cookieWriter, getRequestState } from './request-state.ts';

/** The tRPC context of an HTTP request, from what the authentication middleware resolved. */
export function createContextFromRequest(deps: AppDeps, req: Request, res: Response): Context {
  const state = getRequestState(req);
  if (!state) {
    // The authentication middleware always runs first; without it we refuse rather than guess a caller.
    return {
      deps,
      em: deps.orm.em.fork(),
      auth: { kind: 'rejected', error: new DomainError('INTERNAL') },
      request: { ip: req.ip ?? null, userAgent: null },
      cookies: cookieWriter(req, res),
      actedIn: new Set(),
    };
  }
  return {
    deps,
    em: state.em,
    auth: state.auth,
    request: state.info,
    cookies: state.cookies,
    actedIn: state.actedIn,
  };
}
