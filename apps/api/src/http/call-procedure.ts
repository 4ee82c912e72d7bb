import type { AnyProcedure } from '@trpc/server';
import {
  getTRPCErrorFromUnknown,
  middlewareMarker,
  TRPCError,
} from '@trpc/server/unstable-core-do-not-import';

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

type Middleware = (opts: Record<string, unknown>) => Promise<MiddlewareResult>;

interface ProcedureDef {
  middlewares: Middleware[];
  meta: unknown;
}

/**
 * Calls a procedure exactly as tRPC 11.22's own `procedure(opts)` does (procedureBuilder.ts: `callRecursive` over
 * the procedure's middlewares — ours, the input and output parsers, the resolver — each `next` merging the context
 * and taking a new input or raw input; any throw becomes a failed result, the first failure is thrown), with the
 * language's object spread where tRPC's build copies objects through a property-by-property helper that was the
 * largest single cost of a key-authenticated request. Same middlewares, same order, same errors.
 */
export async function callProcedure(procedure: AnyProcedure, call: ProcedureCall): Promise<unknown> {
  const def = procedure._def as unknown as ProcedureDef;
  const result = await callRecursive(0, def, call as unknown as Record<string, unknown>);
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
