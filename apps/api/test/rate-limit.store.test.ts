/**
 * The counting rule itself, in memory and in a real Redis: a request's charges are taken all together or not at
 * all, so concurrent requests never see units that a refused one took and gave back.
 */
import { randomUUID } from 'node:crypto';
import { Writable } from 'node:stream';
import type { Redis } from 'ioredis';
import { afterAll, describe, expect, it } from 'vitest';
import { testConfig } from '../src/config.ts';
import { createLogger } from '../src/logger.ts';
import { RateLimitStore } from '../src/rate-limit/index.ts';
import { connectRedis } from '../src/redis.ts';

const REDIS_URL = process.env.REDIS_URL;
const logger = createLogger(
  testConfig({ logLevel: 'silent' }),
  new Writable({ write: (_c, _e, done) => done() }),
);
const connections: Redis[] = [];
afterAll(() => {
  for (const redis of connections) redis.disconnect();
});

async function redisStore(): Promise<RateLimitStore> {
  const redis = connectRedis(REDIS_URL ?? '', logger);
  connections.push(redis);
  await new Promise<void>((resolve) =>
    redis.status === 'ready' ? resolve() : redis.once('ready', () => resolve()),
  );
  return new RateLimitStore(logger, redis, `store-test-${randomUUID().slice(0, 8)}`);
}

const stores: [string, () => Promise<RateLimitStore>][] = [
  ['memory', async () => new RateLimitStore(logger)],
  ...(REDIS_URL ? [['Redis', redisStore] as [string, () => Promise<RateLimitStore>]] : []),
];

describe.each(stores)('%s store', (_name, makeStore) => {
  const narrow = { name: 'narrow', quota: 5, windowSeconds: 60 };
  const wide = { name: 'wide', quota: 12, windowSeconds: 60 };

  it('admits exactly min(quotas) of a 40-way burst over two counters and spends nothing for the refused', async () => {
    const store = await makeStore();
    const results = await Promise.all(
      Array.from({ length: 40 }, () =>
        store.consumeAll([
          { policy: wide, key: 'shared', points: 1 },
          { policy: narrow, key: 'tight', points: 1 },
        ]),
      ),
    );
    expect(results.filter((r) => r.allowed)).toHaveLength(5);
    // The wide counter holds only the five admitted units: seven remain for other requests.
    const next = await store.consumeAll([{ policy: wide, key: 'shared', points: 7 }]);
    expect(next.allowed).toBe(true);
    expect(next.decisions[0]?.remaining).toBe(0);
    const over = await store.consumeAll([{ policy: wide, key: 'shared', points: 1 }]);
    expect(over.allowed).toBe(false);
    expect(over.decisions[0]).toMatchObject({ allowed: false, remaining: 0 });
    expect(over.decisions[0]?.msBeforeNext).toBeGreaterThan(0);
  });

  it('refuses a charge larger than what remains without taking the rest', async () => {
    const store = await makeStore();
    expect((await store.consumeAll([{ policy: narrow, key: 'batch', points: 4 }])).allowed).toBe(true);
    const refused = await store.consumeAll([{ policy: narrow, key: 'batch', points: 2 }]);
    expect(refused.allowed).toBe(false);
    expect(refused.decisions[0]?.remaining).toBe(1);
    expect((await store.consumeAll([{ policy: narrow, key: 'batch', points: 1 }])).allowed).toBe(true);
  });
});
