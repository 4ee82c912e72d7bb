import type { AnyProcedure } from '@trpc/server';
import {
  getTRPCErrorFromUnknown,
  middlewareMarker,
  TRPCError,
} from '@trpc/server/unstable-core-do-not-import';
import { type ZodType, z } from 'zod';
import { $ZodAsyncError } from 'zod/v4/core';
import { isSharedAnswer, shareAnswer } from './shared-answer.ts';

/** What tRPC 11.22 passes a procedure (`ProcedureCallOptions`). */
export interface ProcedureCall {
  ctx: unknown;
  path: string;
  type: 'query' | 'mutation';
  getRawInput: () => Promise<unknown>;
  input?: unknown;
  signal: AbortSignal | undefined;
  batchIndex: number;
}

interface MiddlewareResult {
  ok: boolean;
  data?: unknown;
  error?: unknown;
  marker?: unknown;
}

interface NextOptions {
  ctx?: Record<string, unknown>;
  input?: unknown;
  getRawInput?: () => Promise<unknown>;
}

type Middleware = ((opts: Record<string, unknown>) => Promise<MiddlewareResult>) & { _type?: string };

interface ProcedureDef {
  middlewares: Middleware[];
  meta: unknown;
  output?: unknown;
}

/** Per procedure, its middlewares as this driver runs them (see `outputValidator`). */
const prepared = new WeakMap<object, ProcedureDef>();

function preparedDef(procedure: AnyProcedure): ProcedureDef {
  let def = prepared.get(procedure);
  if (!def) {
    const own = procedure._def as unknown as ProcedureDef;
    const outputs = own.middlewares.filter((m) => m._type === 'output');
    const schema = own.output;
    def =
      outputs.length === 1 && schema instanceof z.ZodType
        ? {
            ...own,
            middlewares: own.middlewares.map((m) => (m._type === 'output' ? outputValidator(schema) : m)),
          }
        : own;
    prepared.set(procedure, def);
  }
  return def;
}

const validationFailed = (cause: unknown) =>
  new TRPCError({ message: 'Output validation failed', code: 'INTERNAL_SERVER_ERROR', cause });

/**
 * tRPC's output middleware (`createOutputMiddleware`: validate the resolver's data with the procedure's output
 * schema; a failure is an INTERNAL_SERVER_ERROR "Output validation failed"), validating with zod's synchronous
 * `parse` where tRPC uses `parseAsync`: the same checks and the same stripped result, but zod's compiled fast path
 * instead of a promise per value — a third of the time for `GET /me`. A schema with an asynchronous part makes
 * `parse` refuse; then it is `parseAsync`, as in tRPC.
 */
function outputValidator(schema: ZodType): Middleware {
  // Per schema: the validated form of each shared answer it has seen (see shared-answer.ts).
  const validated = new WeakMap<object, unknown>();
  const validator: Middleware = async ({ next }) => {
    const result = await (next as () => Promise<MiddlewareResult>)();
    if (!result.ok) return result;
    if (isSharedAnswer(result.data)) {
      const known = validated.get(result.data);
      if (known !== undefined) return { ...result, data: known };
      try {
        const data = shareAnswer(schema.parse(result.data));
        validated.set(result.data, data);
        return { ...result, data };
      } catch (error) {
        // An asynchronous schema: validated below, every time, as any other answer.
        if (!(error instanceof $ZodAsyncError)) throw validationFailed(error);
      }
    }
    try {
      let data: unknown;
      try {
        data = schema.parse(result.data);
      } catch (error) {
        if (!(error instanceof $ZodAsyncError)) throw error;
        data = await schema.parseAsync(result.data);
      }
      return { ...result, data };
    } catch (cause) {
      throw validationFailed(cause);
    }
  };
  validator._type = 'output';
  return validator;
}

/**
 * Calls a procedure exactly as tRPC 11.22's own `procedure(opts)` does (procedureBuilder.ts: `callRecursive` over
 * the procedure's middlewares — ours, the input and output parsers, the resolver — each `next` merging the context
 * and taking a new input or raw input; any throw becomes a failed result, the first failure is thrown), with the
 * language's object spread where tRPC's build copies objects through a property-by-property helper that was the
 * largest single cost of a key-authenticated request. Same middlewares, same order, same errors — the output
 * validator runs zod synchronously (below).
 */
export async function callProcedure(procedure: AnyProcedure, call: ProcedureCall): Promise<unknown> {
  const result = await callRecursive(0, preparedDef(procedure), call as unknown as Record<string, unknown>);
  if (!result)
    throw new TRPCError({
      code: 'INTERNAL_SERVER_ERROR',
      message: 'No result from middlewares - did you forget to `return next()`?',
    });
  if (!result.ok) throw result.error;
  return result.data;
}

async function callRecursive(
  index: number,
  def: ProcedureDef,
  opts: Record<string, unknown>,
): Promise<MiddlewareResult> {
  try {
    const middleware = def.middlewares[index] as Middleware;
    return await middleware({
      ...opts,
      meta: def.meta,
      input: opts.input,
      next(nextOpts?: NextOptions) {
        return callRecursive(index + 1, def, {
          ...opts,
          ctx: nextOpts?.ctx ? { ...(opts.ctx as object), ...nextOpts.ctx } : opts.ctx,
          input: nextOpts && 'input' in nextOpts ? nextOpts.input : opts.input,
          getRawInput: nextOpts?.getRawInput ?? opts.getRawInput,
        });
      },
    });
  } catch (cause) {
    return { ok: false, error: getTRPCErrorFromUnknown(cause), marker: middlewareMarker };
  }
}
