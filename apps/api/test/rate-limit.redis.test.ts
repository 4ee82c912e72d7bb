/**
 * Shared limits across API processes, and the fallback when Redis fails. Runs whenever REDIS_URL is set (always
 * in .ci/run); the outage test also needs a `redis-server` binary to start a private Redis it can stop.
 */
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { connect } from 'node:net';
import { freePort } from '@crowdee/db';
import { createTestDatabase } from '@crowdee/db/testing';
import { afterAll, describe, expect, it } from 'vitest';
import { keyFor, orgWith, type Person, people } from './helpers/fixtures.ts';
import { type Problem, rest } from './helpers/rest.ts';
import { startTestApp, type TestApp } from './helpers/test-app.ts';

const REDIS_URL = process.env.REDIS_URL;
if (!REDIS_URL)
  console.warn(
    '[skip] rate-limit Redis tests: REDIS_URL is not set (.ci/run sets it; e.g. REDIS_URL=redis://127.0.0.1:6379)',
  );

function redisServerBinary(): string | null {
  try {
    return execFileSync('sh', ['-c', 'command -v redis-server'], { encoding: 'utf8' }).trim() || null;
  } catch {
    return null;
  }
}
const REDIS_SERVER = redisServerBinary();

/** True when a Redis on `port` answers PING (one short-lived connection, no client library state). */
function redisAnswers(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect(port, '127.0.0.1');
    socket.setTimeout(1_000);
    socket.once('connect', () => socket.write('PING\r\n'));
    socket.once('data', (data) => {
      socket.destroy();
      resolve(data.toString().startsWith('+PONG'));
    });
    for (const event of ['error', 'timeout', 'close'] as const)
      socket.once(event, () => {
        socket.destroy();
        resolve(false);
      });
  });
}

const apps: TestApp[] = [];
afterAll(async () => {
  for (const app of apps) await app.close().catch(() => undefined);
});

describe.skipIf(!REDIS_URL)('Redis store (REDIS_URL)', () => {
  it('two API instances on one Redis admit the quota once in total, not twice', async () => {
    const db = await createTestDatabase();
    const namespace = `test-${randomUUID().slice(0, 8)}`;
    const limits = {
      redisUrl: REDIS_URL ?? '',
      namespace,
      policies: { authenticated: { quota: 20, windowSeconds: 60 } },
    };
    const a = await startTestApp({ database: db, limits });
    const b = await startTestApp({ database: db, limits });
    apps.push(a, b);
    const kate = (await people(a, ['Kate'])).Kate as Person;
    const org = await orgWith(kate, 'Shared');
    const { key } = await keyFor(kate, org.id, { role: 'viewer' });
    const statuses = await Promise.all(
      Array.from({ length: 40 }, (_, i) =>
        rest((i % 2 ? a : b).url, key, 'GET', '/me').then((r) => r.status),
      ),
    );
    // Kate's session spent 3 units of her one budget creating the org and the key (orgs.create, setActive,
    // keys.create); the key shares what is left, across both instances.
    expect(statuses.filter((s) => s === 200)).toHaveLength(17);
    expect(statuses.filter((s) => s === 429)).toHaveLength(23);
    expect((await (await fetch(`${a.url}/healthz`)).json()) as object).toMatchObject({
      rateLimitStore: 'redis',
    });
    await a.close();
    await b.close();
    await db.drop();
  });
});

describe.skipIf(!REDIS_URL)('all-or-nothing charges in Redis (REDIS_URL)', () => {
  it('a concurrent sign-in burst over two instances admits exactly what every budget allows and spends nothing else', async () => {
    const db = await createTestDatabase();
    const limits = {
      redisUrl: REDIS_URL ?? '',
      namespace: `test-${randomUUID().slice(0, 8)}`,
      policies: {
        anonymous: { quota: 8, windowSeconds: 60 },
        'sign-in': { quota: 5, windowSeconds: 900 },
      },
    };
    const a = await startTestApp({ database: db, limits });
    const b = await startTestApp({ database: db, limits });
    apps.push(a, b);
    const statuses = await Promise.all(
      Array.from({ length: 30 }, (_, i) =>
        fetch(`${(i % 2 ? a : b).url}/trpc/auth.signIn`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({ email: 'burst@example.com', password: 'wrong password' }),
        }).then((r) => r.status),
      ),
    );
    expect(statuses.filter((s) => s === 401)).toHaveLength(5);
    expect(statuses.filter((s) => s === 429)).toHaveLength(25);
    // The 25 refused attempts spent no anonymous unit: 8 - 5 remain for other traffic, on either instance.
    const docs = await fetch(`${a.url}/openapi.json`);
    expect(docs.headers.get('ratelimit')).toMatch(/^"anonymous";r=2;/);
    expect((await (await fetch(`${b.url}/healthz`)).json()) as object).toMatchObject({
      rateLimitStore: 'redis',
    });
    await a.close();
    await b.close();
    await db.drop();
  });
});

describe.skipIf(!REDIS_URL || !REDIS_SERVER)('Redis outage (private redis-server)', () => {
  if (REDIS_URL && !REDIS_SERVER) console.warn('[skip] Redis outage test: no redis-server binary on PATH');

  it('keeps answering, falls back to per-process memory, shows it in /healthz, and never fails open on auth', async () => {
    const port = await freePort();
    const start = (): ChildProcess =>
      spawn(
        REDIS_SERVER ?? 'redis-server',
        ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'],
        {
          stdio: 'ignore',
        },
      );
    let server = start();
    await expect.poll(() => redisAnswers(port), { timeout: 15_000, interval: 50 }).toBe(true);
    const app = await startTestApp({
      limits: {
        redisUrl: `redis://127.0.0.1:${port}`,
        policies: {
          authenticated: { quota: 25, windowSeconds: 60 },
          anonymous: { quota: 1000, windowSeconds: 60 },
        },
      },
    });
    apps.push(app);
    const kate = (await people(app, ['Kate'])).Kate as Person;
    const org = await orgWith(kate, 'Outage');
    const { key } = await keyFor(kate, org.id, { role: 'viewer' });
    expect((await rest(app.url, key, 'GET', '/me')).status).toBe(200);
    expect(
      ((await (await fetch(`${app.url}/healthz`)).json()) as { rateLimitStore: string }).rateLimitStore,
    ).toBe('redis');

    server.kill('SIGKILL');
    await new Promise((r) => server.once('exit', r));
    const during: number[] = [];
    for (let i = 0; i < 20; i++) during.push((await rest(app.url, key, 'GET', '/me')).status);
    expect(during.every((s) => s === 200)).toBe(true);
    // The fallback still limits, per process: 20 counted in memory so far, so 5 more of the 25 and then 429.
    const beyond: number[] = [];
    for (let i = 0; i < 10; i++) beyond.push((await rest(app.url, key, 'GET', '/me')).status);
    expect(beyond).toEqual([...Array(5).fill(200), ...Array(5).fill(429)]);
    const health = (await (await fetch(`${app.url}/healthz`)).json()) as {
      status: string;
      rateLimitStore: string;
    };
    expect(health).toMatchObject({ status: 'ok', rateLimitStore: 'memory-fallback' });
    // Authentication does not depend on the limiter's store: bad keys are still refused.
    const bad = await rest<Problem>(
      app.url,
      `${key.slice(0, -1)}${key.endsWith('A') ? 'B' : 'A'}`,
      'GET',
      '/me',
    );
    expect([bad.status, bad.body.code]).toEqual([401, 'UNAUTHENTICATED']);
    expect(app.logs.text).toContain('falling back to per-process memory counters');

    server = start();
    // Back to the shared store without intervention: counting happens in Redis again (this one kept no data, so
    // the key starts afresh there rather than with the fallback's per-process count).
    await expect
      .poll(
        async () =>
          ((await (await fetch(`${app.url}/healthz`)).json()) as { rateLimitStore: string }).rateLimitStore,
        { timeout: 30_000, interval: 100 },
      )
      .toBe('redis');
    const afterwards = await rest(app.url, key, 'GET', '/me');
    expect(afterwards.status).toBe(200);
    expect(afterwards.headers.get('ratelimit')).toMatch(/^"user";r=24;t=\d+$/);
    server.kill('SIGKILL');
  });
});
