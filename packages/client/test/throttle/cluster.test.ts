/**
 * Clustering against a real Redis: separate Node processes sharing one limiter id must share its slots,
 * its pauses and, together, the server's limit. Runs only when REDIS_URL is set.
 */
import { randomUUID } from 'node:crypto';
import { Redis } from 'ioredis';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createThrottle } from '../../src/throttle/index.ts';
import { type Child, startChild } from './support/child.ts';
import { CLOCK_TOLERANCE_MS, serve } from './support/harness.ts';
import { type RecordedRequest, rateLimitedHandler } from './support/rate-limit-server.ts';

const REDIS_URL = process.env.REDIS_URL;
if (!REDIS_URL) {
  console.warn(
    '[throttle cluster tests SKIPPED] REDIS_URL is not set, so the Redis-backed Bottleneck cluster cannot ' +
      'be tested. Run them with e.g. REDIS_URL=redis://127.0.0.1:6379.',
  );
}

const runId = `test-${randomUUID().slice(0, 8)}`;

describe.skipIf(!REDIS_URL)('throttle cluster (Redis)', () => {
  let redis: Redis;
  const children: Child[] = [];
  let testIndex = 0;
  /** A fresh limiter id per test, all under this run's id so cleanup finds them. */
  const nextId = (): string => `${runId}-${++testIndex}`;

  const worker = (config: Record<string, unknown>): Child => {
    const child = startChild('cluster-worker.ts', { redisUrl: REDIS_URL, ...config });
    children.push(child);
    return child;
  };

  const byWorker = (requests: RecordedRequest[], name: string): RecordedRequest[] =>
    requests.filter((request) => request.headers['x-worker'] === name);

  beforeAll(() => {
    redis = new Redis(REDIS_URL ?? '');
  });

  afterEach(async () => {
    for (const child of children.splice(0)) child.kill();
  });

  afterAll(async () => {
    const keys = await redis.keys(`*${runId}*`);
    if (keys.length > 0) await redis.del(...keys);
    expect(await redis.keys(`*${runId}*`)).toEqual([]);
    await redis.quit();
  });

  it('shares maxConcurrent across processes', async () => {
    const server = await serve((request) => ({ status: 200, body: { n: request.n }, delayMs: 60 }));
    const id = nextId();
    const workers = ['A', 'B'].map((name) =>
      worker({ name, id, url: server.url, requests: 15, maxConcurrent: 3 }),
    );
    await Promise.all(workers.map((child) => child.next('ready')));

    for (const child of workers) child.send({ go: true });
    const done = await Promise.all(workers.map((child) => child.next('done')));

    expect(done.map((line) => line.succeeded)).toEqual([15, 15]);
    expect(server.requests).toHaveLength(30);
    // Each process alone would run 3 at once; together they still only get 3.
    expect(server.maxInFlight).toBeLessThanOrEqual(3);
    expect(byWorker(server.requests, 'A').length).toBe(15);
  });

  it('a 429 received by one process pauses the others', async () => {
    const server = await serve((request) =>
      request.n === 1
        ? { status: 429, headers: { 'Retry-After': '2' } }
        : { status: 200, body: { n: request.n } },
    );
    const id = nextId();
    const a = worker({ name: 'A', id, url: server.url, requests: 1, maxConcurrent: 4 });
    const b = worker({ name: 'B', id, url: server.url, requests: 3, maxConcurrent: 4 });
    await Promise.all([a.next('ready'), b.next('ready')]);

    a.send({ go: true });
    await a.next('rate-limited');
    // B starts only now, with the pause in force, and learns about it from Redis alone.
    b.send({ go: true });
    await Promise.all([a.next('done'), b.next('done')]);

    const refused = server.requests[0];
    expect(refused?.status).toBe(429);
    const fromB = byWorker(server.requests, 'B');
    expect(fromB).toHaveLength(3);
    for (const request of [...fromB, ...byWorker(server.requests, 'A').slice(1)]) {
      expect(request.at - (refused?.repliedAt ?? Number.NaN)).toBeGreaterThanOrEqual(
        2000 - CLOCK_TOLERANCE_MS,
      );
    }
  });

  it('processes sharing an id stay together within the server limit', async () => {
    const limit = 40;
    const windowMs = 2000;
    const handler = rateLimitedHandler({ limit, windowMs, delayMs: 5 });
    const server = await serve(handler);
    const id = nextId();
    const workers = ['A', 'B'].map((name) =>
      worker({ name, id, url: server.url, requests: 60, maxConcurrent: 6 }),
    );
    await Promise.all(workers.map((child) => child.next('ready')));

    const startedAt = performance.now();
    for (const child of workers) child.send({ go: true });
    const done = await Promise.all(workers.map((child) => child.next('done')));
    const seconds = (performance.now() - startedAt) / 1000;

    const refused = server.count(429);
    console.log(
      `cluster: 2 processes × 60 items, ${server.requests.length} requests, ${refused} × 429, ` +
        `${seconds.toFixed(2)} s, admitted per window ${JSON.stringify([...handler.window.counts.values()])}`,
    );
    expect(done.map((line) => line.succeeded)).toEqual([60, 60]);
    expect(refused).toBeLessThanOrEqual(Math.ceil(120 * 0.02));
  });

  it('frees the slot of a process that died mid-request after expirationMs', async () => {
    const server = await serve((request) =>
      request.headers['x-worker'] === 'A' ? { status: 200, hang: true } : { status: 200, body: {} },
    );
    const id = nextId();
    const expirationMs = 1500;
    const config = { id, url: server.url, requests: 1, maxConcurrent: 1, expirationMs };
    const a = worker({ name: 'A', ...config });
    const b = worker({ name: 'B', ...config });
    await Promise.all([a.next('ready'), b.next('ready')]);

    a.send({ go: true });
    while (server.requests.length === 0) await new Promise((resolve) => setTimeout(resolve, 10));
    a.kill(); // SIGKILL: no cleanup, its slot stays registered in Redis
    b.send({ go: true });
    const done = await b.next('done');

    expect(done.succeeded).toBe(1);
    const [hung, fromB] = server.requests;
    expect(fromB?.headers['x-worker']).toBe('B');
    // The single slot stayed taken until the dead job expired.
    expect((fromB?.at ?? 0) - (hung?.at ?? Number.NaN)).toBeGreaterThanOrEqual(expirationMs - 300);
  });

  it('close() releases the connections it created and leaves a client you passed open', async () => {
    const server = await serve(() => ({ status: 200, body: {} }));
    const connectionsNamed = async (name: string): Promise<number> =>
      ((await redis.client('LIST')) as string).split('\n').filter((line) => line.includes(` name=${name} `))
        .length;
    const ownName = `own-${runId}`;
    const userName = `user-${runId}`;
    const userClient = new Redis(REDIS_URL ?? '', { connectionName: userName });
    const { hostname, port } = new URL(REDIS_URL ?? '');

    const own = createThrottle({
      redis: { connection: { host: hostname, port: Number(port), connectionName: ownName }, id: nextId() },
    });
    const shared = createThrottle({ redis: { connection: userClient, id: nextId() } });
    await Promise.all([own.fetch(server.url), shared.fetch(server.url)]);
    // Each throttle talks through its client plus the pub/sub duplicate Bottleneck makes of it.
    expect(await connectionsNamed(ownName)).toBe(2);
    expect(await connectionsNamed(userName)).toBe(2);

    await Promise.all([own.close(), shared.close()]);

    expect(await connectionsNamed(ownName)).toBe(0);
    expect(await connectionsNamed(userName)).toBe(1);
    expect(await userClient.ping()).toBe('PONG');
    await userClient.quit();
  });
});
