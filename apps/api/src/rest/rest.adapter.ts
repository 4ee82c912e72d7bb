import { type DomainError, isDomainError } from '@crowdee/core';
import type { Request, RequestHandler, Response } from 'express';
import { createOpenApiNodeHttpHandler } from 'trpc-to-openapi';
import type { AppDeps } from '../app-deps.ts';
import { isServerFault, PROBLEM_CONTENT_TYPE, problemDetails, toDomainError } from '../errors.ts';
import { createContextFromRequest } from '../http/trpc-context.ts';
import type { AppRouter } from '../routers/index.ts';
import { isAcceptance, isCreation } from './openapi.ts';

const restErrors = new WeakMap<Request, DomainError>();

/**
 * trpc-to-openapi answers errors in its own JSON shape with tRPC's code. Scripts need RFC 9457 problem details
 * with our stable code, so for this response we render the error it reported through `onError` instead.
 */
function renderProblems(req: Request, res: Response): void {
  const end = res.end.bind(res) as (...args: unknown[]) => Response;
  res.end = ((...args: unknown[]) => {
    const error = restErrors.get(req);
    if (error && !res.headersSent) {
      restErrors.delete(req);
      const body = JSON.stringify(problemDetails(error, req.originalUrl.split('?')[0]));
      res.statusCode = error.status;
      res.setHeader('Content-Type', PROBLEM_CONTENT_TYPE);
      res.setHeader('Content-Length', Buffer.byteLength(body));
      return end(body);
    }
    return end(...args);
  }) as Response['end'];
}

/** The key-authenticated REST API: the same procedures as /trpc, at the paths their `openapi` meta declares. */
export function restAdapter(deps: AppDeps, router: AppRouter): RequestHandler {
  const handler = createOpenApiNodeHttpHandler<AppRouter, Request, Response>({
    router,
    createContext: ({ req, res }) => ({
      ...createContextFromRequest(deps, req, res),
      setResponseHeader: (name: string, value: string) => {
        if (!res.headersSent) res.setHeader(name, value);
      },
    }),
    maxBodySize: deps.config.bodyLimitBytes,
    responseMeta: ({ errors, paths, type }) => {
      if (errors.length === 0 && type === 'mutation' && paths?.every(isCreation)) {
        return { status: 201 };
      }
      if (errors.length === 0 && type === 'mutation' && paths?.every(isAcceptance)) {
        return { status: 202 };
      }
      return {};
    },
    onError: ({ error, req, path }) => {
      const domain = toDomainError(isDomainError(error.cause) ? error.cause : error);
      restErrors.set(req as Request, domain);
      if (isServerFault(domain))
        deps.logger.error({ err: error.cause ?? error, path }, 'REST request failed');
    },
  });
  return (req, res, next) => {
    renderProblems(req, res);
    return handler(req, res, next);
  };
}
