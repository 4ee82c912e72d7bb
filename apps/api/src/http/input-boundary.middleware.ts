import { DomainError, jsonDepthExceeds, MAX_BATCH_CALLS } from '@crowdee/core';
import express, { type Request, type RequestHandler } from 'express';
import { decodedPath, isBatchRequest, JsonTooDeepError, tooDeep, trpcPaths } from './error-response.ts';
import { recordBodyFingerprint } from './idempotency.middleware.ts';

/**
 * JSON bodies on methods that carry one. Bodies come uncompressed (`inflate: false`: any Content-Encoding is a 415,
 * so a decompression bomb or a broken gzip stream never reaches zlib), and the raw text is checked for nesting
 * depth before `JSON.parse` or any validator recurses into it.
 */
export function jsonBody(limitBytes: number): RequestHandler {
  const parse = express.json({
    limit: limitBytes,
    type: 'application/json',
    inflate: false,
    verify: (req, _res, buf) => {
      if (jsonDepthExceeds(buf.toString('utf8'))) throw new JsonTooDeepError();
      recordBodyFingerprint(req, buf);
    },
  });
  // GETs skip body-parser entirely.
  return (req, res, next) => (req.method === 'GET' || req.method === 'HEAD' ? next() : parse(req, res, next));
}

/**
 * A path that is not valid percent-encoding answers 400 problem+json. Mounted after the rate limiter, so such
 * requests are still counted.
 */
export const rejectMalformedUri: RequestHandler = (req, _res, next) => {
  if (decodedPath(req) === null) {
    next(new DomainError('BAD_REQUEST', 'The URL is not valid percent-encoding.'));
    return;
  }
  next();
};

/**
 * The limits of /trpc that the adapter does not enforce: at most MAX_BATCH_CALLS calls per batch (each call is a
 * unit of work and a database transaction), and a GET's `input` parameter nested at most MAX_JSON_DEPTH deep.
 */
export const trpcRequestLimits: RequestHandler = (req, _res, next) => {
  // Without a query string there is neither a batch nor an input to check (and Express would parse one per read).
  if (!req.url.includes('?')) {
    next();
    return;
  }
  if (isBatchRequest(req) && trpcPaths(req).length > MAX_BATCH_CALLS) {
    next(new DomainError('BATCH_TOO_LARGE'));
    return;
  }
  const input = req.query.input;
  if (typeof input === 'string' && jsonDepthExceeds(input)) {
    next(tooDeep());
    return;
  }
  next();
};

/**
 * The body handling of one request, chosen by the procedure(s) it resolved to: the item routes take larger JSON
 * batches (`ITEM_BATCH_BODY_MAX_BYTES`) than every other route (`BODY_LIMIT_BYTES`), and the multipart upload route
 * reads its own body (`streamed`). A tRPC batch mixing them gets the default limit.
 */
export function bodyByProcedure(options: {
  resolved: (req: Request) => readonly string[];
  standard: RequestHandler[];
  large: { procedures: ReadonlySet<string>; handlers: RequestHandler[] };
  streamed?: (req: Request) => boolean;
}): RequestHandler[] {
  const choose = (req: Request): RequestHandler[] | null => {
    if (options.streamed?.(req)) return null;
    const paths = options.resolved(req);
    return paths.length > 0 && paths.every((p) => options.large.procedures.has(p))
      ? options.large.handlers
      : options.standard;
  };
  const at =
    (index: number): RequestHandler =>
    (req, res, next) => {
      const handler = choose(req)?.[index];
      return handler ? handler(req, res, next) : next();
    };
  const length = Math.max(options.standard.length, options.large.handlers.length);
  return Array.from({ length }, (_, i) => at(i));
}
