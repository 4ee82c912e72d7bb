/**
 * The throttle's fetch plugged into real tRPC links, against a real tRPC server (standalone adapter) whose
 * rate-limit errors carry `error.data.retryAfter` as the API's do.
 */
import type { AddressInfo } from 'node:net';
import { createTRPCClient, httpBatchLink, httpLink, TRPCClientError } from '@trpc/client';
import { initTRPC, TRPCError } from '@trpc/server';
import { createHTTPServer } from '@trpc/server/adapters/standalone';
import { afterEach, describe, expect, it } from 'vitest';
import { CLOCK_TOLERANCE_MS, throttle } from './support/harness.ts';

class RateLimited extends Error {
  constructor(readonly retryAfter: number) {
    super('rate limited');
  }
}

interface Call {
  readonly path: string;
  readonly at: number;
  failedAt?: number;
}

/** Per-procedure scripted failures: the first `failures` calls of a path throw `error()`. */
const script = new Map<string, { failures: number; error: () => TRPCError }>();
const calls: Call[] = [];

const t = initTRPC.create({
  errorFormatter: ({ shape, error }) => ({
    ...shape,
    data: {
      ...shape.data,
      retryAfter: error.cause instanceof RateLimited ? error.cause.retryAfter : undefined,
    },
  }),
});

const scripted = t.procedure.use(async ({ path, next }) => {
  const call: Call = { path, at: performance.now() };
  calls.push(call);
  const plan = script.get(path);
  if (plan && plan.failures > 0) {
    plan.failures--;
    call.failedAt = performance.now();
    throw plan.error();
  }
  return next();
});

const router = t.router({
  greeting: scripted.query(() => 'hello'),
  rename: scripted.mutation(() => 'renamed'),
});
type Router = typeof router;

const closers: Array<() => Promise<void>> = [];
afterEach(async () => {
  script.clear();
  calls.length = 0;
  for (const close of closers.splice(0)) await close();
});

async function startTrpcServer(): Promise<string> {
  const server = createHTTPServer({ router, basePath: '/trpc/' });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  closers.push(
    () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  );
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}/trpc`;
}

const tooManyRequests = (retryAfter: number) => () =>
  new TRPCError({ code: 'TOO_MANY_REQUESTS', cause: new RateLimited(retryAfter) });
const unavailable = () => new TRPCError({ code: 'SERVICE_UNAVAILABLE' });

describe('tRPC links over the throttled fetch', { timeout: 300_000 }, () => {
  it('httpBatchLink: a query refused with 429 is retried after error.data.retryAfter', async () => {
    const url = await startTrpcServer();
    const sources: string[] = [];
    const limiter = throttle({ onRateLimit: (event) => void sources.push(event.source) });
    const client = createTRPCClient<Router>({ links: [httpBatchLink({ url, fetch: limiter.fetch })] });
    script.set('greeting', { failures: 1, error: tooManyRequests(1) });

    expect(await client.greeting.query()).toBe('hello');

    expect(calls).toHaveLength(2);
    const [first, second] = calls;
    expect((second?.at ?? 0) - (first?.failedAt ?? Number.NaN)).toBeGreaterThanOrEqual(
      1000 - CLOCK_TOLERANCE_MS,
    );
    expect(limiter.stats()).toMatchObject({ rateLimited: 1, retries: 1 });
    // No Retry-After from the tRPC adapter: the wait came from the error body.
    expect(sources).toEqual(['body']);
  });

  it('httpLink: a mutation (POST) is retried after a 429 too', async () => {
    const url = await startTrpcServer();
    const { fetch } = throttle();
    const client = createTRPCClient<Router>({ links: [httpLink({ url, fetch })] });
    script.set('rename', { failures: 1, error: tooManyRequests(0) });

    expect(await client.rename.mutate()).toBe('renamed');
    expect(calls).toHaveLength(2);
  });

  it('a 503 is retried for a query (GET) but not for a mutation (POST)', async () => {
    const url = await startTrpcServer();
    const { fetch } = throttle({ backoff: { baseMs: 5, maxMs: 10 } });
    const client = createTRPCClient<Router>({ links: [httpLink({ url, fetch })] });
    script.set('greeting', { failures: 1, error: unavailable });
    script.set('rename', { failures: 1, error: unavailable });

    expect(await client.greeting.query()).toBe('hello');
    const error = await client.rename.mutate().catch((caught: unknown) => caught);

    expect(error).toBeInstanceOf(TRPCClientError);
    expect((error as TRPCClientError<Router>).data?.httpStatus).toBe(503);
    expect(calls.map((call) => call.path)).toEqual(['greeting', 'greeting', 'rename']);
  });
});
