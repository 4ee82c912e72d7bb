import { DomainError, jsonDepthExceeds, MAX_BATCH_CALLS } from '@crowdee/core';
import express, { type RequestHandler } from 'express';
import { decodedPath, isBatchRequest, JsonTooDeepError, tooDeep, trpcPaths } from './error-response.ts';

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
    verify: (_req, _res, buf) => {
      if (jsonDepthExceeds(buf.toString('utf8'))) throw new JsonTooDeepError();
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
