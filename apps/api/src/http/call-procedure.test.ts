import { initTRPC, TRPCError } from '@trpc/server';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { callProcedure, type ProcedureCall } from './call-procedure.ts';
import { isSharedAnswer, shareAnswer, toJson } from './shared-answer.ts';

const t = initTRPC.context<{ who: string }>().create({ isDev: false });

/** Every way a call can go, through tRPC's own `procedure(opts)` and through `callProcedure`: both must agree. */
async function both(procedure: Parameters<typeof callProcedure>[0], input?: unknown) {
  const call = (): ProcedureCall => ({
    ctx: { who: 'caller' },
    path: 'p',
    type: 'query',
    getRawInput: async () => input,
    signal: undefined,
    batchIndex: 0,
  });
  const settle = (promise: Promise<unknown>) =>
    promise.then(
      (data) => ({ data }),
      (error: unknown) => ({
        error:
          error instanceof TRPCError
            ? { code: error.code, message: error.message, cause: String(error.cause) }
            : String(error),
      }),
    );
  const theirs = await settle((procedure as unknown as (o: ProcedureCall) => Promise<unknown>)(call()));
  const ours = await settle(callProcedure(procedure, call()));
  return { theirs, ours };
}

describe('callProcedure (tRPC procedure calls with native spread and synchronous output validation)', () => {
  const out = z.object({ id: z.string(), tags: z.array(z.enum(['a', 'b'])) });

  it('strips what the output schema does not declare, as tRPC does', async () => {
    const leaky = t.procedure.output(out).query(() => ({ id: 'x', tags: ['a'], hash: 'secret' }) as never);
    const { theirs, ours } = await both(leaky);
    expect(ours).toEqual({ data: { id: 'x', tags: ['a'] } });
    expect(ours).toEqual(theirs);
  });

  it('fails an output that breaks its schema with INTERNAL_SERVER_ERROR "Output validation failed"', async () => {
    const broken = t.procedure.output(out).query(() => ({ id: 'x', tags: ['c'] }) as never);
    const { theirs, ours } = await both(broken);
    expect(ours).toMatchObject({
      error: { code: 'INTERNAL_SERVER_ERROR', message: 'Output validation failed' },
    });
    expect(ours).toEqual(theirs);
  });

  it('validates an output schema with an asynchronous refinement (zod refuses to do that synchronously)', async () => {
    const slow = out.refine(async (v) => v.id !== 'bad');
    const ok = await both(t.procedure.output(slow).query(() => ({ id: 'x', tags: [] as 'a'[] })));
    expect(ok.ours).toEqual({ data: { id: 'x', tags: [] } });
    expect(ok.ours).toEqual(ok.theirs);
    const bad = await both(t.procedure.output(slow).query(() => ({ id: 'bad', tags: [] as 'a'[] })));
    expect(bad.ours).toMatchObject({ error: { code: 'INTERNAL_SERVER_ERROR' } });
    expect(bad.ours).toEqual(bad.theirs);
  });

  it('runs middlewares in order with merged context, input parsing and the errors they throw', async () => {
    const seen: string[] = [];
    const procedure = t.procedure
      .use(({ ctx, next }) => {
        seen.push(`first ${ctx.who}`);
        return next({ ctx: { role: 'admin' as const } });
      })
      .input(z.object({ n: z.number().int() }))
      .use(({ ctx, input, next }) => {
        seen.push(`second ${ctx.who} ${ctx.role} ${input.n}`);
        if (input.n < 0) throw new TRPCError({ code: 'FORBIDDEN', message: 'negative' });
        return next();
      })
      .output(z.object({ doubled: z.number() }))
      .query(({ input }) => ({ doubled: input.n * 2 }));
    const good = await both(procedure, { n: 2 });
    expect(good.ours).toEqual({ data: { doubled: 4 } });
    expect(good.ours).toEqual(good.theirs);
    expect(seen).toEqual(['first caller', 'second caller admin 2', 'first caller', 'second caller admin 2']);
    const refused = await both(procedure, { n: -1 });
    expect(refused.ours).toEqual({ error: { code: 'FORBIDDEN', message: 'negative', cause: 'undefined' } });
    expect(refused.ours).toEqual(refused.theirs);
    const invalid = await both(procedure, { n: 1.5 });
    expect(invalid.ours).toMatchObject({ error: { code: 'BAD_REQUEST' } });
    expect(invalid.ours).toEqual(invalid.theirs);
  });

  it('validates a shared answer once per schema, with the same stripping and the same failures', async () => {
    const answer = shareAnswer({ id: 'x', tags: ['a' as const], hash: 'secret' });
    const leaky = t.procedure.output(out).query(() => answer as never);
    const first = await both(leaky);
    expect(first.ours).toEqual({ data: { id: 'x', tags: ['a'] } });
    expect(first.ours).toEqual(first.theirs);
    const again = await both(leaky);
    expect(again.ours).toEqual(first.ours);
    // The remembered result is itself shared (frozen) and the very same object.
    const a = (await callProcedure(leaky, call())) as object;
    const b = (await callProcedure(leaky, call())) as object;
    expect(a).toBe(b);
    expect(isSharedAnswer(a)).toBe(true);
    const wrong = shareAnswer({ id: 'x', tags: ['c'] });
    const broken = t.procedure.output(out).query(() => wrong as never);
    for (let i = 0; i < 2; i++) {
      const { theirs, ours } = await both(broken);
      expect(ours).toMatchObject({
        error: { code: 'INTERNAL_SERVER_ERROR', message: 'Output validation failed' },
      });
      expect(ours).toEqual(theirs);
    }
  });
});

function call(): ProcedureCall {
  return {
    ctx: { who: 'c' },
    path: 'p',
    type: 'query',
    getRawInput: async () => undefined,
    signal: undefined,
    batchIndex: 0,
  };
}

describe('shared answers', () => {
  it('are frozen all the way down and serialize as JSON.stringify does, remembered', () => {
    const value = shareAnswer({ a: [1, { b: 'c' }], d: null, e: { f: 'g…' } });
    expect(Object.isFrozen(value.a[1])).toBe(true);
    expect(Object.isFrozen(value.e)).toBe(true);
    expect(() => {
      (value.e as { f: string }).f = 'changed';
    }).toThrow(TypeError);
    expect(toJson(value)).toBe(JSON.stringify(value));
    expect(toJson(value)).toBe(toJson(value));
  });

  it('leave everything else alone', () => {
    const plain = { a: 1 };
    expect(isSharedAnswer(plain)).toBe(false);
    expect(Object.isFrozen(plain)).toBe(false);
    expect(toJson(plain)).toBe('{"a":1}');
    expect(toJson(undefined)).toBeUndefined();
    expect(shareAnswer('text')).toBe('text');
  });
});
