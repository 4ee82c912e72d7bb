import { DomainError, findInputProblem, runPollAfterSeconds, type Verdict } from '@crowdee/core';
import type { Request, RequestHandler } from 'express';
import { getPathRegExp, normalizePath } from 'trpc-to-openapi';
import { z } from 'zod';
import type { AppDeps } from '../app-deps.ts';
import { callerOf } from '../context.ts';
import { toDomainError } from '../errors.ts';
import { sendError } from '../http/error-response.ts';
import { createContextFromRequest } from '../http/trpc-context.ts';
import { resolvedProcedures } from '../rate-limit/index.ts';
import { appRouter } from '../routers/index.ts';
import { requireOrgPermission } from '../services/access.service.ts';
import { type DatasetRef, runVersion, streamResults } from '../services/runs.service.ts';
import { ifNoneMatchMatches, runETag } from './run-etag.ts';

/** The one procedure a REST request resolved to (REST requests are never batches). */
function resolvedProcedure(req: Request): string | null {
  const paths = resolvedProcedures(req);
  return paths.length === 1 ? (paths[0] ?? null) : null;
}

const RUN_PATH = '/orgs/{orgId}/projects/{projectId}/datasets/{datasetId}/runs/{runId}';
const runPattern = getPathRegExp(normalizePath(RUN_PATH));
const exportPattern = getPathRegExp(normalizePath(`${RUN_PATH}/results.jsonl`));

const runParams = z.object({
  // One spelling of ids, as orgProcedure reads them.
  orgId: z.uuid().transform((id) => id.toLowerCase()),
  projectId: z.uuid(),
  datasetId: z.uuid(),
  runId: z.uuid(),
});

/** The path parameters as trpc-to-openapi's matcher reads them (the same normalised pathname). */
function paramsOf(req: Request, pattern: RegExp): (DatasetRef & { runId: string }) | null {
  let pathname: string;
  try {
    pathname = new URL(`http://127.0.0.1${req.url.startsWith('/') ? req.url : `/${req.url}`}`).pathname;
  } catch {
    return null;
  }
  const groups = pattern.exec(normalizePath(pathname))?.groups;
  if (!groups) return null;
  const decoded: Record<string, string> = {};
  try {
    for (const [k, v] of Object.entries(groups)) decoded[k] = decodeURIComponent(v);
  } catch {
    return null;
  }
  const parsed = runParams.safeParse(decoded);
  return parsed.success ? parsed.data : null;
}

/**
 * `GET …/runs/{runId}` with `If-None-Match`, answered before the rate limiter charges: when the caller's
 * credentials are valid, they may read runs in the organization, the run is theirs to read and its version still
 * matches, the answer is `304 Not Modified` and costs nothing. In every other case the request goes on and is
 * charged and answered as usual — so a 304 never tells anyone more than a 200 would have, and never skips a
 * refusal (bad key, wrong organization, missing run: those are charged and refused by the procedure).
 */
export function conditionalRunGet(deps: AppDeps): RequestHandler {
  return async (req, res, next) => {
    const header = req.headers['if-none-match'];
    if (req.method !== 'GET' || typeof header !== 'string' || resolvedProcedure(req) !== 'runs.get')
      return next();
    try {
      const params = paramsOf(req, runPattern);
      // Input the procedure would refuse (NUL, lone surrogates anywhere in the query) is refused there, charged.
      if (!params || findInputProblem({ ...(req.query as Record<string, unknown>) })) return next();
      const ctx = createContextFromRequest(deps, req, res);
      const caller = callerOf(ctx.auth);
      if (!caller) return next();
      await requireOrgPermission({ deps, em: ctx.em, ip: ctx.request.ip }, caller, params.orgId, 'runs:read');
      const current = await runVersion(ctx.em, params, params.runId);
      if (!current) return next();
      const etag = runETag(current.version);
      if (!ifNoneMatchMatches(header, etag)) return next();
      res.setHeader('ETag', etag);
      const after = runPollAfterSeconds(current.status);
      if (after !== null) res.setHeader('Retry-After', String(after));
      res.status(304).end();
    } catch {
      // Any refusal or fault: the ordinary path charges the request and answers it with the right error.
      next();
    }
  };
}

const verdictQuery = z.enum(['pass', 'flag', 'fail']).optional();

/**
 * `GET …/runs/{runId}/results.jsonl`, after authentication and the charge: access is checked by calling
 * `runs.get` itself (the same middleware chain as every procedure), then results are streamed a database page at a
 * time, respecting the socket's backpressure, so memory stays flat whatever the run's size.
 */
export function exportRunResults(deps: AppDeps): RequestHandler {
  return async (req, res, next) => {
    if (req.method !== 'GET' || resolvedProcedure(req) !== 'runs.exportResults') return next();
    const params = paramsOf(req, exportPattern);
    const query = typeof req.query.verdict === 'string' ? req.query.verdict : undefined;
    const verdict = verdictQuery.safeParse(query);
    if (!params || !verdict.success) return next();
    const ctx = createContextFromRequest(deps, req, res);
    try {
      // The whole input (query and path) goes through `runs.get`, so the input boundary sees every string of it
      // (NUL, lone surrogates) exactly as for any procedure, before access is checked the same way.
      await appRouter.createCaller(ctx).runs.get({ ...(req.query as Record<string, unknown>), ...params });
    } catch (error) {
      sendError(req, res, toDomainError(error));
      return;
    }
    res.status(200);
    res.setHeader('Content-Type', 'application/x-ndjson; charset=utf-8');
    res.setHeader('Content-Disposition', `attachment; filename="run-${params.runId}.jsonl"`);
    let aborted = false;
    res.on('close', () => {
      aborted = !res.writableEnded;
    });
    try {
      for await (const result of streamResults(ctx.em, params.runId, verdict.data as Verdict | undefined)) {
        if (aborted) return;
        if (!res.write(`${JSON.stringify(result)}\n`))
          await new Promise<void>((resolve) => {
            res.once('drain', resolve);
            res.once('close', resolve);
          });
      }
      res.end();
    } catch (error) {
      deps.logger.error({ err: error, runId: params.runId }, 'results export failed');
      // Headers are gone: ending early is the only signal left (the client sees a truncated stream).
      res.destroy(new DomainError('INTERNAL'));
    }
  };
}
