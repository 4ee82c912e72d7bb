import type { ProcedureRateTier, RatedCall } from '@crowdee/core';
import type { AnyRouter } from '@trpc/server';
import type { Request } from 'express';
import type { Meta } from '../procedure-meta.ts';
import { buildRestRoutes, type RestMatch, type RestRouteTable } from '../rest/rest-routes.ts';

/**
 * The calls one request will run, found the way the adapter that serves it will find them — so the budget follows
 * the procedure that runs, whatever the URL's spelling. `calls[i]` is null for a call that names no procedure.
 */
export interface ResolvedCalls {
  calls: readonly RatedCall[];
  /** tRPC procedure paths (one per call); for REST, the matched procedure's path. */
  paths: readonly string[];
  batched: boolean;
  /** The request cannot name any procedure (its path is not valid percent-encoding). */
  malformed: boolean;
  /** For REST: the operation matched, which the adapter runs. */
  rest?: RestMatch;
}

export type CallResolver = (req: Request) => ResolvedCalls;

interface ProcedureRecord {
  procedures: Record<string, { _def: { meta?: Meta; type: string } }>;
  lazy: Record<string, unknown>;
}

function definitionOf(router: AnyRouter): ProcedureRecord {
  const def = router._def as unknown as ProcedureRecord;
  // Lazy routers load procedures on first call; a tier table built at start-up would not know them.
  if (Object.keys(def.lazy).length > 0) throw new Error('rate limits: lazy tRPC routers are not supported');
  return def;
}

function batchParameter(url: string): boolean {
  if (!url.includes('?')) return false;
  return new URL(url, 'http://localhost').searchParams.get('batch') === '1';
}

/**
 * For /trpc, mounted in Express, the same steps as @trpc/server 11.22's express adapter and `resolveResponse`:
 * the procedure path is whatever follows the *last* `/` of `req.path` (so `/x/auth.signIn` runs auth.signIn), it
 * is percent-decoded as a whole (so `%2C` separates batch calls and `auth%2EsignIn` is auth.signIn), a batch is
 * `batch=1` exactly as URLSearchParams reads it, and a procedure is an own key of the router's flat record.
 */
export function trpcCallResolver(router: AnyRouter): CallResolver {
  const tiers = new Map<string, ProcedureRateTier | null>();
  // A call of one procedure (the everyday request) resolves to the same, prepared, answer every time.
  const single = new Map<string, ResolvedCalls>();
  for (const [path, procedure] of Object.entries(definitionOf(router).procedures)) {
    const tier = procedure._def.meta?.rateLimit ?? null;
    tiers.set(path, tier);
    single.set(
      path,
      Object.freeze({
        calls: Object.freeze([{ tier }]),
        paths: Object.freeze([path]),
        batched: false,
        malformed: false,
      }),
    );
  }
  const rated = (path: string): RatedCall => {
    const tier = tiers.get(path);
    return tier === undefined ? null : { tier };
  };
  return (req) => {
    const raw = req.path.slice(req.path.lastIndexOf('/') + 1);
    const batched = batchParameter(req.url);
    let decoded: string;
    try {
      decoded = raw.includes('%') ? decodeURIComponent(raw) : raw;
    } catch {
      return { calls: [null], paths: [], batched, malformed: true };
    }
    if (!batched) {
      const known = single.get(decoded);
      if (known) return known;
    }
    const paths = batched ? decoded.split(',') : [decoded];
    return { calls: paths.map(rated), paths, batched, malformed: false };
  };
}

/** Whether a path is valid percent-encoding (trpc-to-openapi would run nothing for one that is not). */
function decodable(path: string): boolean {
  try {
    decodeURIComponent(path);
    return true;
  } catch {
    return false;
  }
}

/**
 * For /api/v1, the matcher trpc-to-openapi 3.3's node-http handler builds (see rest-routes.ts: routes per method in
 * procedure order, each path `normalizePath`d and compiled by `getPathRegExp`, case-insensitive, one leading and one
 * trailing slash optional), tried against the WHATWG-normalised pathname of `req.url` (so `.` and `..` segments,
 * `%2e` and backslashes resolve as they do there); the first match runs. The REST adapter runs exactly the match
 * found here (`rest` of the result), so the procedure charged is the procedure that runs.
 */
export function restCallResolver(
  router: AnyRouter,
  table: RestRouteTable = buildRestRoutes(router),
): CallResolver {
  definitionOf(router);
  const resolve = (method: string, url: string): ResolvedCalls => {
    let pathname: string;
    try {
      pathname = new URL(url.startsWith('/') ? `http://127.0.0.1${url}` : url).pathname;
    } catch {
      return { calls: [null], paths: [], batched: false, malformed: true };
    }
    if (pathname.includes('%') && !decodable(pathname)) {
      return { calls: [null], paths: [], batched: false, malformed: true };
    }
    const rest = table.match(method, pathname);
    return rest
      ? { calls: rest.route.calls, paths: rest.route.paths, batched: false, malformed: false, rest }
      : { calls: [null], paths: [], batched: false, malformed: false };
  };
  // The answer depends on the method and the URL before its query (where the pathname ends) only, and clients
  // call the same few URLs again and again: remembered (frozen, shared by the requests that ask), bounded.
  const answers = new Map<string, ResolvedCalls>();
  return (req) => {
    const query = req.url.indexOf('?');
    const key = `${req.method} ${query === -1 ? req.url : req.url.slice(0, query)}`;
    let answer = answers.get(key);
    if (answer === undefined) {
      answer = frozen(resolve(req.method, req.url));
      if (answers.size >= 1_000) answers.clear();
      answers.set(key, answer);
    }
    return answer;
  };
}

/** An answer shared between requests: itself, its arrays and its match (not the route, built once) are frozen. */
function frozen(answer: ResolvedCalls): ResolvedCalls {
  Object.freeze(answer.calls);
  Object.freeze(answer.paths);
  if (answer.rest) {
    Object.freeze(answer.rest.pathInput);
    Object.freeze(answer.rest);
  }
  return Object.freeze(answer);
}
