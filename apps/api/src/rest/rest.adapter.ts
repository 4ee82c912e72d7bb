import { TRPCError } from '@trpc/server';
import type { Request, RequestHandler, Response } from 'express';
import type { AppDeps } from '../app-deps.ts';
import { isServerFault, PROBLEM_CONTENT_TYPE, problemDetails, toDomainError } from '../errors.ts';
import { callProcedure } from '../http/call-procedure.ts';
import { toJson } from '../http/shared-answer.ts';
import { createContextFromRequest } from '../http/trpc-context.ts';
import { resolvedCallsOf } from '../rate-limit/rate-limit.middleware.ts';
import { isAcceptance, isCreation } from './openapi.ts';
import type { RestRoute } from './rest-routes.ts';

/** trpc-to-openapi 3.3's `getQuery`: first value of a repeated parameter only when it is alone; empty ones dropped. */
function queryInput(req: Request): Record<string, unknown> {
  const query: Record<string, unknown> = {};
  // No query string, no parameters (Express would parse the absent query string on every read of `req.query`).
  if (!req.url.includes('?')) return query;
  const parsed = req.query as Record<string, unknown>;
  for (const key of Object.keys(parsed)) {
    const value = parsed[key];
    if (value) query[key] = Array.isArray(value) && value.length === 1 ? value[0] : value;
  }
  return query;
}

/**
 * The input trpc-to-openapi 3.3 assembles: the JSON body (already parsed and depth-checked by `jsonBody`) or the
 * query string, overlaid with the path parameters, with declared arrays wrapped; `undefined` for procedures
 * without input. Path parameters win over body and query fields of the same name.
 */
function inputOf(req: Request, route: RestRoute, pathInput: Record<string, string>): unknown {
  if (!route.takesInput) return undefined;
  if (route.usesBody) return { ...(req.body as object | undefined), ...pathInput };
  const input: Record<string, unknown> = { ...queryInput(req), ...pathInput };
  for (const key of route.arrayKeys) {
    const value = input[key];
    if (value !== undefined && !Array.isArray(value)) input[key] = [value];
  }
  return input;
}

/** The content-type rule of trpc-to-openapi 3.3, with its messages: bodies are JSON, even an empty one. */
function assertJsonContentType(req: Request, route: RestRoute): void {
  if (!route.usesBody) return;
  const contentType = req.headers['content-type'];
  if (contentType?.startsWith('application/json')) return;
  throw new TRPCError({
    code: 'UNSUPPORTED_MEDIA_TYPE',
    message: contentType ? `Unsupported content-type "${contentType}` : 'Missing content-type header',
  });
}

function send(res: Response, status: number, contentType: string, body: string | undefined): void {
  res.statusCode = status;
  res.setHeader('Content-Type', contentType);
  res.end(body);
}

/**
 * The key-authenticated REST API: the same procedures as /trpc, at the paths their `openapi` meta declares
 * (rest-routes.ts builds the table once). Express-native: the operation `resolveCalls` matched (and the rate limiter
 * charged) is called directly, with the same context, middlewares and input rules trpc-to-openapi's handler used,
 * and its errors are answered as RFC 9457 problem details with our stable code.
 */
export function restAdapter(deps: AppDeps): RequestHandler {
  return async (req, res, next) => {
    const match = resolvedCallsOf(req)?.rest;
    // resolveCalls answers every request that names no operation; without a match there is nothing to run.
    if (!match) return next();
    const { route, pathInput } = match;
    try {
      assertJsonContentType(req, route);
      const input = inputOf(req, route, pathInput);
      const data: unknown = await callProcedure(route.procedure, {
        path: route.path,
        getRawInput: async () => input,
        ctx: {
          ...createContextFromRequest(deps, req, res),
          // REST answers one call per response, so a procedure may set its headers (a run's ETag, Retry-After).
          setResponseHeader: (name: string, value: string) => {
            if (!res.headersSent) res.setHeader(name, value);
          },
        },
        type: route.type,
        signal: undefined,
        batchIndex: 0,
      });
      const status =
        route.type !== 'mutation' ? 200 : isCreation(route.path) ? 201 : isAcceptance(route.path) ? 202 : 200;
      send(res, status, 'application/json', toJson(data));
    } catch (cause) {
      const error = toDomainError(cause);
      if (isServerFault(error)) deps.logger.error({ err: error, path: route.path }, 'REST request failed');
      if (res.headersSent) return;
      send(
        res,
        error.status,
        PROBLEM_CONTENT_TYPE,
        JSON.stringify(problemDetails(error, req.originalUrl.split('?')[0])),
      );
    }
  };
}
