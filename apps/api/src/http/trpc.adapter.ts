import type { AnyProcedure, AnyRouter } from '@trpc/server';
import { createExpressMiddleware } from '@trpc/server/adapters/express';
import {
  getErrorShape,
  getHTTPStatusCode,
  getTRPCErrorFromUnknown,
  TRPCError,
} from '@trpc/server/unstable-core-do-not-import';
import type { Request, RequestHandler, Response } from 'express';
import type { AppDeps } from '../app-deps.ts';
import type { Context } from '../context.ts';
import { isServerFault, toDomainError } from '../errors.ts';
import type { ResolvedCalls } from '../rate-limit/call-resolver.ts';
import { resolvedCallsOf } from '../rate-limit/rate-limit.middleware.ts';
import { callProcedure } from './call-procedure.ts';
import { toJson } from './shared-answer.ts';
import { createContextFromRequest } from './trpc-context.ts';

type CallType = 'query' | 'mutation';
const NO_HEADERS: Record<string, string> = Object.freeze({}) as Record<string, string>;
type CallResult = { error: TRPCError; data?: undefined } | { error?: undefined; data: unknown };

/** The methods each procedure type takes (tRPC 11.22's TYPE_ACCEPTED_METHOD_MAP, no method override). */
const ACCEPTED_METHOD: Record<CallType, string> = { query: 'GET', mutation: 'POST' };

function isObject(value: unknown): value is Record<string, unknown> {
  return !!value && !Array.isArray(value) && typeof value === 'object';
}

/** tRPC's `hasContentType`: media types compare case-insensitively, parameters ignored. */
function isJsonContentType(header: string | undefined): boolean {
  return header?.toLowerCase().split(';', 1)[0]?.trim() === 'application/json';
}

/** The raw `input` of a GET, read as tRPC reads it (URLSearchParams over the request's query string). */
function queryInput(req: Request): string | null {
  const query = req.url.indexOf('?');
  return query === -1 ? null : new URLSearchParams(req.url.slice(query + 1)).get('input');
}

const NO_INPUT: Promise<unknown> = Promise.resolve(undefined);
const noInput = (): Promise<unknown> => NO_INPUT;

/**
 * tRPC's memoised input reader: every call of a request shares one parse of the inputs; a failure is the same
 * BAD_REQUEST (with the parser's message) for each of them, raised when the call reads its input.
 */
function inputReader(req: Request, calls: ResolvedCalls): (index: number) => Promise<unknown> {
  // A GET without a query string has no input (and, without `batch=1`, is one call): nothing to parse or remember.
  if (req.method === 'GET' && !req.url.includes('?')) return noInput;
  let inputs: Promise<Record<number, unknown>> | undefined;
  const parse = async (): Promise<Record<number, unknown>> => {
    const raw = req.method === 'GET' ? queryInput(req) : null;
    // A POST's body was parsed (and depth-checked) by `jsonBody`; tRPC would parse the same JSON again.
    const all: unknown = req.method === 'GET' ? (raw ? JSON.parse(raw) : undefined) : req.body;
    if (all === undefined) return {};
    if (!calls.batched) return { 0: all };
    if (!isObject(all))
      throw new TRPCError({
        code: 'BAD_REQUEST',
        message: '"input" needs to be an object when doing a batch call',
      });
    const byIndex: Record<number, unknown> = {};
    for (const index of calls.paths.keys()) if (all[index] !== undefined) byIndex[index] = all[index];
    return byIndex;
  };
  return async (index) => {
    inputs ??= parse().catch((cause: unknown) => {
      if (cause instanceof TRPCError) throw cause;
      throw new TRPCError({
        code: 'BAD_REQUEST',
        message: cause instanceof Error ? cause.message : 'Invalid input',
        cause,
      });
    });
    return (await inputs)[index];
  };
}

interface Prepared {
  procedures: AnyProcedure[];
  type: CallType;
}

/**
 * The calls a request makes, when they are the everyday shape this adapter answers itself: GET or POST with JSON,
 * known query or mutation procedures of one type, no streaming or connection parameters. Anything else (null)
 * goes to tRPC's own adapter, which knows every corner of its protocol.
 */
function prepare(req: Request, calls: ResolvedCalls, procedures: Map<string, AnyProcedure>): Prepared | null {
  if (req.method !== 'GET' && req.method !== 'POST') return null;
  if (req.headers['trpc-accept'] !== undefined) return null;
  const contentType = req.headers['content-type'];
  if (contentType !== undefined && !isJsonContentType(contentType)) return null;
  if (req.method === 'POST' && (contentType === undefined || req.body === undefined)) return null;
  if (req.url.includes('connectionParams')) return null;
  const found: AnyProcedure[] = [];
  let type: CallType | null = null;
  for (const path of calls.paths) {
    const procedure = procedures.get(path);
    const procedureType = procedure?._def.type;
    if (!procedure || (procedureType !== 'query' && procedureType !== 'mutation')) return null;
    if (type !== null && type !== procedureType) return null;
    type = procedureType;
    found.push(procedure);
  }
  return type === null ? null : { procedures: found, type };
}

export interface TrpcAdapterOptions {
  /** Extra response headers for a request whose calls failed (`Allow` for a call sent with the wrong method). */
  errorHeaders(errors: TRPCError[], type: CallType): Record<string, string>;
}

/**
 * /trpc, Express-native: tRPC's HTTP protocol for the calls `resolveCalls` found (and the rate limiter charged),
 * each procedure called directly with the request's context — the same middlewares, input boundary and error
 * formatter as ever, without turning the request into a Fetch `Request` and the answer back from a `Response`.
 * Rare shapes (streaming, form data, subscriptions, a body tRPC must read itself) go to tRPC's own adapter.
 */
export function trpcAdapter(deps: AppDeps, router: AnyRouter, options: TrpcAdapterOptions): RequestHandler {
  const procedures = new Map(
    Object.entries(router._def.procedures as Record<string, AnyProcedure>).map(([path, p]) => [path, p]),
  );
  const config = router._def._config;
  const onError = (error: TRPCError, path: string | undefined) => {
    const domain = toDomainError(error);
    if (isServerFault(domain)) deps.logger.error({ err: error.cause ?? error, path }, 'tRPC call failed');
  };
  const fallback = createExpressMiddleware({
    router,
    createContext: ({ req, res }) => createContextFromRequest(deps, req, res),
    maxBodySize: deps.config.bodyLimitBytes,
    responseMeta: ({ errors, type }) =>
      errors.length > 0 && type !== 'unknown' && type !== 'subscription'
        ? { headers: options.errorHeaders(errors, type) }
        : {},
    onError: ({ error, path }) => onError(error, path),
  });

  async function call(
    req: Request,
    ctx: Context,
    path: string,
    procedure: AnyProcedure,
    type: CallType,
    index: number,
    input: (index: number) => Promise<unknown>,
  ): Promise<CallResult> {
    try {
      if (req.method !== ACCEPTED_METHOD[type])
        throw new TRPCError({
          code: 'METHOD_NOT_SUPPORTED',
          message: `Unsupported ${req.method}-request to ${type} procedure at path "${path}"`,
        });
      const data: unknown = await callProcedure(procedure, {
        path,
        getRawInput: () => input(index),
        ctx,
        type,
        signal: undefined,
        batchIndex: index,
      });
      return { data };
    } catch (cause) {
      const error = getTRPCErrorFromUnknown(cause);
      onError(error, path);
      return { error };
    }
  }

  function send(res: Response, status: number, headers: Record<string, string>, body: string): void {
    // As tRPC's node adapter: a status set earlier by a middleware stands.
    if (res.statusCode === 200) res.statusCode = status;
    res.setHeader('Vary', 'trpc-accept, accept');
    res.setHeader('Content-Type', 'application/json');
    if (headers !== NO_HEADERS)
      for (const [name, value] of Object.entries(headers)) res.setHeader(name, value);
    res.end(body);
  }

  return async (req, res, next) => {
    if (req.method === 'HEAD') {
      res.statusCode = 204;
      res.end();
      return;
    }
    const calls = resolvedCallsOf(req);
    const prepared = calls ? prepare(req, calls, procedures) : null;
    if (!calls || !prepared) return fallback(req, res, next);
    const { type } = prepared;
    const ctx = createContextFromRequest(deps, req, res);
    const input = inputReader(req, calls);
    const results =
      calls.paths.length === 1
        ? [
            await call(
              req,
              ctx,
              calls.paths[0] as string,
              prepared.procedures[0] as AnyProcedure,
              type,
              0,
              input,
            ),
          ]
        : await Promise.all(
            calls.paths.map((path, index) =>
              call(req, ctx, path, prepared.procedures[index] as AnyProcedure, type, index, input),
            ),
          );
    // The everyday answer, one call that succeeded: 200 (what getHTTPStatusCode gives it) and its data.
    const only = results.length === 1 ? results[0] : undefined;
    if (only && !only.error) {
      // `{"result":{"data":…}}` around the data's JSON (remembered for a shared answer); no data, no `data` key.
      const data = toJson(only.data);
      const shape = data === undefined ? '{"result":{}}' : `{"result":{"data":${data}}}`;
      send(res, 200, NO_HEADERS, calls.batched ? `[${shape}]` : shape);
      return;
    }
    const shapes = results.map((result, index) =>
      result.error
        ? {
            error: getErrorShape({
              config,
              ctx,
              error: result.error,
              input: undefined,
              path: calls.paths[index],
              type,
            }),
          }
        : { result: { data: result.data } },
    );
    const errors = results.flatMap((result) => (result.error ? [result.error] : []));
    const headers = errors.length > 0 ? options.errorHeaders(errors, type) : {};
    send(res, getHTTPStatusCode(shapes), headers, JSON.stringify(calls.batched ? shapes : shapes[0]));
  };
}
