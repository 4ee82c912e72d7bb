import { DomainError, ERROR_TABLE } from '@crowdee/core';
import { TRPC_ERROR_CODES_BY_KEY } from '@trpc/server/rpc';
import type { ErrorRequestHandler, Request, RequestHandler, Response } from 'express';
import { isServerFault, PROBLEM_CONTENT_TYPE, problemDetails, toDomainError } from '../errors.ts';
import type { Logger } from '../logger.ts';

/** The tRPC error envelope for an error raised before the tRPC adapter ran (CSRF, body, rate limit). */
export function trpcErrorEnvelope(error: DomainError, path: string | null) {
  const details = error.details ?? {};
  return {
    error: {
      message: error.message,
      code: TRPC_ERROR_CODES_BY_KEY[ERROR_TABLE[error.code].trpc],
      data: {
        code: error.code,
        trpcCode: ERROR_TABLE[error.code].trpc,
        httpStatus: error.status,
        path,
        ...(typeof details.retryAfter === 'number' ? { retryAfter: details.retryAfter } : {}),
        ...(Array.isArray(details.fieldErrors) ? { fieldErrors: details.fieldErrors } : {}),
      },
    },
  };
}

/** Procedure paths of a /trpc request: `a.b` or, batched, `a.b,c.d`. */
export function trpcPaths(req: Request): string[] {
  let path: string;
  try {
    path = decodeURIComponent((req.path || '/').replace(/^\//, ''));
  } catch {
    // A path that is not valid percent-encoding names no procedure; the error must still be answered.
    return [];
  }
  return path ? path.split(',') : [];
}

/** Express mounts /trpc case-insensitively, so `/TRPC/…` is a tRPC request too. */
export function isTrpcRequest(req: Request): boolean {
  return req.baseUrl.toLowerCase() === '/trpc' || /^\/trpc(\/|\?|$)/i.test(req.originalUrl);
}

/** Answers with an error in the caller's dialect: tRPC envelopes on /trpc, problem+json everywhere else. */
export function sendError(req: Request, res: Response, error: DomainError): void {
  res.status(error.status);
  if (isTrpcRequest(req)) {
    const paths = trpcPaths(req);
    const batched = req.query.batch === '1' || req.query.batch === 'true';
    const body = batched
      ? paths.map((p) => trpcErrorEnvelope(error, p))
      : trpcErrorEnvelope(error, paths[0] ?? null);
    res.json(body);
    return;
  }
  res.type(PROBLEM_CONTENT_TYPE).send(JSON.stringify(problemDetails(error, req.originalUrl.split('?')[0])));
}

/** Errors from Express body parsing, reduced to our codes (413, 415, 400) with a clear message. */
function fromBodyParser(error: unknown): DomainError | null {
  const type = (error as { type?: unknown }).type;
  switch (type) {
    case 'entity.too.large':
      return new DomainError('PAYLOAD_TOO_LARGE');
    case 'entity.parse.failed':
      return new DomainError('BAD_REQUEST', 'The request body is not valid JSON.');
    case 'encoding.unsupported':
    case 'charset.unsupported':
      return new DomainError('UNSUPPORTED_MEDIA_TYPE', 'Send the body as UTF-8 JSON.');
    case 'request.aborted':
      return new DomainError('BAD_REQUEST', 'The request was aborted.');
    default:
      return null;
  }
}

export function errorHandler(logger: Logger): ErrorRequestHandler {
  return (error: unknown, req, res, next) => {
    if (res.headersSent) return next(error);
    const domain = fromBodyParser(error) ?? toDomainError(error);
    if (isServerFault(domain)) logger.error({ err: error, path: req.path }, 'request failed');
    sendError(req, res, domain);
  };
}

export const notFound: RequestHandler = (req, res) => {
  sendError(req, res, new DomainError('NOT_FOUND', `No route for ${req.method} ${req.path}.`));
};

const heldErrors = new WeakMap<Request, unknown>();

/**
 * Runs `handlers` (body checks and parsing) in order, but holds back an error they raise until `raiseHeldError`:
 * a malformed, oversized or non-JSON body is still charged to its caller and answered with RateLimit headers,
 * like every other response, instead of escaping before the limiter.
 */
export function holdErrors(...handlers: RequestHandler[]): RequestHandler {
  return (req, res, next) => {
    const run = (index: number): void => {
      const handler = handlers[index];
      if (!handler) {
        next();
        return;
      }
      const done = (error?: unknown) => {
        if (error !== undefined && error !== 'route' && error !== 'router') {
          heldErrors.set(req, error);
          next();
          return;
        }
        run(index + 1);
      };
      try {
        handler(req, res, done);
      } catch (error) {
        done(error);
      }
    };
    run(0);
  };
}

/** Raises the error `holdErrors` kept back, once the request has been authenticated and rate-limited. */
export const raiseHeldError: RequestHandler = (req, _res, next) => {
  if (!heldErrors.has(req)) return next();
  const error = heldErrors.get(req);
  heldErrors.delete(req);
  next(error);
};

const BODY_METHODS = new Set(['POST', 'PUT', 'PATCH', 'DELETE']);

/** A body we would parse must be JSON: anything else is a 415, never silently ignored. */
export const requireJsonBody: RequestHandler = (req, _res, next) => {
  if (!BODY_METHODS.has(req.method)) return next();
  const length = req.headers['content-length'];
  const hasBody = req.headers['transfer-encoding'] !== undefined || (length !== undefined && length !== '0');
  if (!hasBody || req.is('application/json')) return next();
  next(new DomainError('UNSUPPORTED_MEDIA_TYPE'));
};
