import type { IncomingMessage, ServerResponse } from 'node:http';
import type { RequestHandler } from 'express';

export const REALM = 'crowdee';

/**
 * The challenge of a 401 (RFC 9110 §11.6.1 requires one; RFC 6750 §3 says how a Bearer resource spells it).
 * Without credentials the bare challenge; with a bearer token that was refused, `error="invalid_token"`; with an
 * Authorization header that is not a bearer token at all, `error="invalid_request"`.
 */
export function bearerChallenge(authorization: string | undefined): string {
  if (authorization === undefined) return `Bearer realm="${REALM}"`;
  const error = /^Bearer[ ]+\S/i.test(authorization) ? 'invalid_token' : 'invalid_request';
  return `Bearer realm="${REALM}", error="${error}"`;
}

/**
 * Every 401, whichever layer answered it (REST problem, tRPC envelope, middleware), leaves with a challenge. It is
 * added when the status line is written, because three different libraries write 401s and none of them lets us
 * add a header from one place.
 */
export const wwwAuthenticate: RequestHandler = (req, res, next) => {
  const writeHead = res.writeHead.bind(res) as (...args: unknown[]) => ServerResponse<IncomingMessage>;
  res.writeHead = ((statusCode: number, ...rest: unknown[]) => {
    if (statusCode === 401 && !res.hasHeader('WWW-Authenticate')) {
      res.setHeader('WWW-Authenticate', bearerChallenge(req.headers.authorization));
    }
    return writeHead(statusCode, ...rest);
  }) as typeof res.writeHead;
  next();
};
