import { DomainError, isDomainError, MAX_JSON_DEPTH } from '@crowdee/core';
import type { ErrorRequestHandler, Request, RequestHandler, Response } from 'express';
import {
  isServerFault,
  PROBLEM_CONTENT_TYPE,
  problemDetails,
  toDomainError,
  trpcErrorShape,
} from '../errors.ts';
import type { Logger } from '../logger.ts';
import { requestSlot } from './request-slot.ts';

/** The tRPC error envelope for an error raised before the tRPC adapter ran (CSRF, body, rate limit). */
export function trpcErrorEnvelope(error: DomainError, path: string | null) {
  return { error: trpcErrorShape(error, path) };
}

/** The request path, percent-decoded; null when it is not valid percent-encoding. */
export function decodedPath(req: Request): string | null {
  try {
    return decodeURIComponent(req.path || '/');
  } catch {
    return null;
  }
}

/**
 * Procedure paths of a /trpc request: `a.b` or, batched, `a.b,c.d`. None when the path cannot be decoded.
 * Works inside the /trpc router and in app-level handlers (where the mount point is still part of the path).
 */
export function trpcPaths(req: Request): string[] {
  const path = decodedPath(req)
    ?.replace(req.baseUrl === '' ? /^\/trpc(\/|$)/i : /^\//, '')
    .replace(/^\//, '');
  return path ? path.split(',') : [];
}

export function isBatchRequest(req: Request): boolean {
  return req.query.batch === '1' || req.query.batch === 'true';
}

/** Express mounts /trpc case-insensitively, so `/TRPC/…` is a tRPC request too. */
export function isTrpcRequest(req: Request): boolean {
  return req.baseUrl.toLowerCase() === '/trpc' || /^\/trpc(\/|\?|$)/i.test(req.originalUrl);
}

/**
 * Answers with an error in the caller's dialect: tRPC envelopes on /trpc, problem+json everywhere else (and for
 * a /trpc URL that cannot even be decoded into procedure paths).
 */
export function sendError(req: Request, res: Response, error: DomainError): void {
  res.status(error.status);
  if (isTrpcRequest(req) && decodedPath(req) !== null) {
    const paths = trpcPaths(req);
    const batched = isBatchRequest(req);
    const body = batched
      ? paths.map((p) => trpcErrorEnvelope(error, p))
      : trpcErrorEnvelope(error, paths[0] ?? null);
    res.json(body);
    return;
  }
  res.type(PROBLEM_CONTENT_TYPE).send(JSON.stringify(problemDetails(error, req.originalUrl.split('?')[0])));
}

/** Errors other middleware raise with an HTTP status (Express's router, express.static), reduced to our codes. */
function fromHttpStatus(error: unknown): DomainError | null {
  if (typeof error !== 'object' || error === null) return null;
  const status =
    (error as { status?: unknown; statusCode?: unknown }).status ??
    (error as { statusCode?: unknown }).statusCode;
  if (typeof status !== 'number' || status < 400 || status >= 500) return null;
  switch (status) {
    case 404:
      return new DomainError('NOT_FOUND');
    case 405:
      return new DomainError('METHOD_NOT_ALLOWED');
    case 413:
      return new DomainError('PAYLOAD_TOO_LARGE');
    case 415:
      return new DomainError('UNSUPPORTED_MEDIA_TYPE');
    default:
      return new DomainError('BAD_REQUEST');
  }
}

/** Raised from body-parser's `verify` hook: body-parser wraps it, the error handler recognises it by class. */
export class JsonTooDeepError extends Error {
  override readonly name = 'JsonTooDeepError';
}

export const tooDeep = () =>
  new DomainError('BAD_REQUEST', `The JSON is nested deeper than ${MAX_JSON_DEPTH} levels.`);

/** Errors from Express body parsing, reduced to our codes (413, 415, 400) with a clear message. */
function fromBodyParser(error: unknown): DomainError | null {
  const type = (error as { type?: unknown }).type;
  switch (type) {
    case 'entity.too.large':
      return new DomainError('PAYLOAD_TOO_LARGE');
    case 'entity.parse.failed':
      return new DomainError('BAD_REQUEST', 'The request body is not valid JSON.');
    case 'encoding.unsupported':
      return new DomainError(
        'UNSUPPORTED_MEDIA_TYPE',
        'Content-Encoding is not supported: send the body uncompressed.',
      );
    case 'charset.unsupported':
      return new DomainError('UNSUPPORTED_MEDIA_TYPE', 'Send the body as UTF-8 JSON.');
    case 'request.aborted':
      return new DomainError('BAD_REQUEST', 'The request was aborted.');
    default:
      return error instanceof JsonTooDeepError ? tooDeep() : null;
  }
}

/**
 * The last handler: every error becomes our JSON, never Express's HTML page (which shows the stack outside
 * production). It must not throw itself, or Express's default handler would answer after all.
 */
export function errorHandler(logger: Logger): ErrorRequestHandler {
  return (error: unknown, req, res, next) => {
    if (res.headersSent) return next(error);
    const domain = isDomainError(error)
      ? error
      : (fromBodyParser(error) ?? fromHttpStatus(error) ?? toDomainError(error));
    try {
      if (isServerFault(domain)) logger.error({ err: error, path: req.path }, 'request failed');
      sendError(req, res, domain);
    } catch (failure) {
      logger.error({ err: failure }, 'could not render an error response');
      const body = JSON.stringify(problemDetails(new DomainError('INTERNAL')));
      res.status(500).setHeader('Content-Type', PROBLEM_CONTENT_TYPE);
      res.end(body);
    }
  };
}

export const notFound: RequestHandler = (req, res) => {
  sendError(req, res, new DomainError('NOT_FOUND', `No route for ${req.method} ${req.path}.`));
};

const heldErrors = requestSlot<{ error: unknown }>('crowdee.heldError');

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
          heldErrors.set(req, { error });
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
  const held = heldErrors.take(req);
  if (!held) return next();
  const { error } = held;
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
