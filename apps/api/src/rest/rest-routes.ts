import type { ProcedureRateTier, RatedCall } from '@crowdee/core';
import type { AnyProcedure, AnyRouter } from '@trpc/server';
import {
  acceptsRequestBody,
  coerceSchema,
  forEachOpenApiProcedure,
  getInputOutputParsers,
  getPathRegExp,
  instanceofZodTypeLikeVoid,
  instanceofZodTypeObject,
  instanceofZodTypeOptional,
  normalizePath,
  type OpenApiProcedureRecord,
  unwrapZodType,
} from 'trpc-to-openapi';
import { ZodArray, type ZodType } from 'zod';
import type { Meta } from '../procedure-meta.ts';

/**
 * One REST operation, prepared at start-up from its procedure's `openapi` meta: everything trpc-to-openapi 3.3's
 * node-http handler works out again on every request (route regex, merged input schema, which query parameters
 * are arrays) is worked out here once.
 */
export interface RestRoute {
  method: string;
  pattern: RegExp;
  /** The procedure's path, e.g. `projects.list`. */
  path: string;
  procedure: AnyProcedure;
  type: 'query' | 'mutation';
  tier: ProcedureRateTier | null;
  /** What the rate limiter sees of a request to this route: one call of the procedure (prepared once, shared). */
  calls: readonly RatedCall[];
  paths: readonly string[];
  /** POST, PUT and PATCH read their input from a JSON body; GET and DELETE from the query string. */
  usesBody: boolean;
  /** False for a procedure without input (`z.void()` and the like): it gets `undefined`, not `{}`. */
  takesInput: boolean;
  /** Query parameters declared as arrays: a single `?k=v` becomes `[v]`. */
  arrayKeys: readonly string[];
}

export interface RestMatch {
  route: RestRoute;
  /** Path parameters as they appear in the path (trpc-to-openapi does not percent-decode them). */
  pathInput: Record<string, string>;
}

export interface RestRouteTable {
  /** `pathname` must already be WHATWG-normalised (see call-resolver.ts); trailing and leading slashes are free. */
  match(method: string, pathname: string): RestMatch | null;
}

function isArraySchema(shape: ZodType): boolean {
  if (shape instanceof ZodArray) return true;
  return instanceofZodTypeOptional(shape) && shape.unwrap() instanceof ZodArray;
}

/**
 * The routes of every procedure with `openapi` meta, per method in procedure order (the first match wins, as in
 * trpc-to-openapi). Input schemas get trpc-to-openapi's coercion (query strings to numbers, booleans, dates) here,
 * once: it used to be applied on each REST call — mutating the same shared schema objects — so doing it at
 * start-up gives the state every server reached after its first REST calls, deterministically.
 */
export function buildRestRoutes(router: AnyRouter): RestRouteTable {
  const routes = new Map<string, RestRoute[]>();
  const procedures = router._def.procedures as unknown as OpenApiProcedureRecord;
  forEachOpenApiProcedure<Meta>(procedures, ({ path, procedure, meta }) => {
    const type = procedure._def.type;
    if (type === 'subscription') return;
    const { inputParser } = getInputOutputParsers(procedure);
    const schema = unwrapZodType(inputParser, true);
    const arrayKeys: string[] = [];
    if (instanceofZodTypeObject(schema)) {
      for (const [key, shape] of Object.entries(schema.shape))
        if (isArraySchema(shape as ZodType)) arrayKeys.push(key);
      coerceSchema(schema);
    }
    const method = meta.openapi.method;
    const tier = meta.rateLimit ?? null;
    const list = routes.get(method) ?? [];
    list.push({
      method,
      pattern: getPathRegExp(normalizePath(meta.openapi.path)),
      path,
      procedure: procedure as unknown as AnyProcedure,
      type,
      tier,
      calls: Object.freeze([{ tier }]),
      paths: Object.freeze([path]),
      usesBody: acceptsRequestBody(method),
      takesInput: !instanceofZodTypeLikeVoid(schema),
      arrayKeys,
    });
    routes.set(method, list);
  });
  return {
    match(method, pathname) {
      const path = normalizePath(pathname);
      for (const route of routes.get(method) ?? []) {
        const found = route.pattern.exec(path);
        if (found) return { route, pathInput: { ...found.groups } };
      }
      return null;
    },
  };
}
