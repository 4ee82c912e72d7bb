/**
 * Cross-node invalidation, in process: two API instances on one database, each with its own key cache and its
 * own channel connection. A change made through one is applied by the other without waiting for the TTL (which
 * stays 30 s here, so a missing invalidation cannot pass by luck). The process-per-node version with a load
 * balancer and the measured delays is `cluster.test.ts`.
 */
import pg from 'pg';
import { afterEach, describe, expect, it } from 'vitest';
import { LISTENER_APPLICATION_NAME } from '../src/invalidation/index.ts';
import { keyFor, orgWith, people } from './helpers/fixtures.ts';
import { rest } from './helpers/rest.ts';
import { startTestApp, type TestApp } from './helpers/test-app.ts';

const REDIS_URL = process.env.REDIS_URL;
const open: TestApp[] = [];

afterEach(async () => {
  await Promise.all(open.splice(0).map((a) => a.close()));
});

async function pair(channel: 'postgres' | 'redis'): Promise<[TestApp, TestApp]> {
  const invalidation =
    channel === 'redis' && REDIS_URL ? { channel, redisUrl: REDIS_URL } : { channel: 'postgres' as const };
  const a = await startTestApp({ invalidation });
  open.push(a);
  const b = await startTestApp({ invalidation, database: { url: a.dbUrl } });
  open.push(b);
  await until(async () => (await health(a)).state === 'connected' && (await health(b)).state === 'connected');
  return [a, b];
}

interface Health {
  channel: string;
  state: string;
  node: string;
  keyCacheTtlMs: number;
  reconnects: number;
  flushes: number;
}

async function health(app: TestApp): Promise<Health> {
  const body = (await (await fetch(`${app.url}/healthz`)).json()) as { invalidation: Health };
  return body.invalidation;
}

/** Polls a condition (never a fixed sleep); the deadline is generous and only there to end a broken run. */
async function until(
  check: () => Promise<boolean>,
  what = 'condition',
  deadlineMs = 20_000,
): Promise<number> {
  const started = Date.now();
  let polls = 0;
  while (Date.now() - started < deadlineMs) {
    polls++;
    if (await check()) return polls;
    await new Promise((r) => setTimeout(r, 5));
  }
  throw new Error(`timed out waiting for ${what}`);
}

const me = (app: TestApp, key: string) => rest(app.url, key, 'GET', '/me');

for (const channel of ['postgres', 'redis'] as const) {
  describe.skipIf(channel === 'redis' && !REDIS_URL)(`over ${channel}`, () => {
    it('/healthz names the channel and says it is connected', async () => {
      const [a] = await pair(channel);
      expect(await health(a)).toMatchObject({ channel, state: 'connected', keyCacheTtlMs: 30_000 });
    });

    it('a key revoked through A is refused on B, whose cache held it', async () => {
      const [a, b] = await pair(channel);
      const { kate } = await people(a, ['kate']);
      if (!kate) throw new Error('no person');
      const org = await orgWith(kate, 'Acme');
      const key = await keyFor(kate, org.id, { role: 'member' });
      expect((await me(b, key.key)).status).toBe(200);
      expect(b.deps.keyCache.size).toBe(1);
      await kate.browser.trpc.keys.revoke.mutate({ id: key.id });
      // A refuses on the very next request; B once the message arrives (never by TTL: it is 30 s).
      expect((await me(a, key.key)).status).toBe(401);
      await until(async () => (await me(b, key.key)).status === 401, 'B to refuse the revoked key');
    });

    it('an allowlist changed through A holds on B, whose cache held the old list', async () => {
      const [a, b] = await pair(channel);
      const { kate } = await people(a, ['kate']);
      if (!kate) throw new Error('no person');
      const org = await orgWith(kate, 'Acme');
      const key = await keyFor(kate, org.id, { role: 'member' });
      expect((await me(b, key.key)).status).toBe(200);
      expect(b.deps.keyCache.size).toBe(1);
      await kate.browser.trpc.keys.updateAllowedIps.mutate({ id: key.id, allowedIps: ['203.0.113.0/24'] });
      expect((await me(a, key.key)).status).toBe(403);
      await until(
        async () => (await me(b, key.key)).status === 403,
        'B to refuse the key from outside its list',
      );
      expect((await me(b, key.key)).body).toMatchObject({ code: 'IP_NOT_ALLOWED' });
      // And back: lifting the list is heard the same way.
      await kate.browser.trpc.keys.updateAllowedIps.mutate({ id: key.id, allowedIps: [] });
      await until(async () => (await me(b, key.key)).status === 200, 'B to admit the key again');
    });

    it('a demoted creator loses write power on B', async () => {
      const [a, b] = await pair(channel);
      const { owner, dev } = await people(a, ['owner', 'dev']);
      if (!owner || !dev) throw new Error('no person');
      const org = await orgWith(owner, 'Acme', [{ person: dev, role: 'admin' }]);
      const key = await keyFor(dev, org.id, { role: 'member' });
      const write = () => rest(b.url, key.key, 'POST', `/orgs/${org.id}/projects`, { name: 'p' });
      expect((await write()).status).toBe(201);
      await owner.browser.trpc.members.updateRole.mutate({ orgId: org.id, userId: dev.id, role: 'viewer' });
      await until(async () => (await write()).status === 403, 'B to refuse the demoted creator’s write');
    });

    it('a session signed out through A: its session token stops on B, whose cache held it', async () => {
      const [a, b] = await pair(channel);
      const { kate } = await people(a, ['kate']);
      if (!kate) throw new Error('no person');
      const org = await orgWith(kate, 'Acme');
      const { token } = await kate.browser.trpc.auth.createSessionToken.mutate({ audience: 'helper' });
      const read = () => rest(b.url, token, 'GET', `/orgs/${org.id}/projects`);
      expect((await read()).status).toBe(200);
      await kate.browser.trpc.auth.signOut.mutate();
      await until(async () => (await read()).status === 401, 'B to refuse the ended session’s token');
    });
  });
}

describe('losing the PostgreSQL listener', () => {
  it('goes degraded (flushed, short TTL), reconnects by itself, and flushes again', async () => {
    const [a, b] = await pair('postgres');
    const { kate } = await people(a, ['kate']);
    if (!kate) throw new Error('no person');
    const org = await orgWith(kate, 'Acme');
    const key = await keyFor(kate, org.id, { role: 'member' });
    expect((await me(b, key.key)).status).toBe(200);
    const before = await health(b);

    const admin = new pg.Client({ connectionString: b.dbUrl });
    await admin.connect();
    try {
      const killed = await admin.query(
        'select pg_terminate_backend(pid) from pg_stat_activity where application_name = $1 and datname = current_database()',
        [LISTENER_APPLICATION_NAME],
      );
      // One listener per instance.
      expect(killed.rowCount).toBe(2);
    } finally {
      await admin.end();
    }
    await until(async () => (await health(b)).reconnects > before.reconnects, 'B to reconnect');
    const after = await health(b);
    expect(after).toMatchObject({ state: 'connected', keyCacheTtlMs: 30_000 });
    // Flushed when lost and again when back.
    expect(after.flushes - before.flushes).toBeGreaterThanOrEqual(2);
    expect(b.logs.text).toContain('invalidation: channel lost');
    // And the channel works again.
    expect((await me(b, key.key)).status).toBe(200);
    await kate.browser.trpc.keys.revoke.mutate({ id: key.id });
    await until(async () => (await me(b, key.key)).status === 401, 'B to refuse after the reconnect');
  });

  it('a listener that goes silent (its backend stopped, the socket still open) is noticed by the heartbeat', async (ctx) => {
    const [a, b] = await pair('postgres');
    const before = await health(b);
    const admin = new pg.Client({ connectionString: b.dbUrl });
    await admin.connect();
    let pid = 0;
    try {
      const rows = await admin.query<{ pid: number }>(
        `select pid from pg_stat_activity where application_name = $1 and datname = current_database()
          order by backend_start desc limit 1`,
        [LISTENER_APPLICATION_NAME],
      );
      pid = rows.rows[0]?.pid ?? 0;
    } finally {
      await admin.end();
    }
    expect(pid).toBeGreaterThan(0);
    // The newest listener is B's (started second). Freezing it is a partition nobody reports: no error, no close.
    try {
      process.kill(pid, 'SIGSTOP');
    } catch (error) {
      ctx.skip(
        `cannot signal the PostgreSQL backend (${(error as Error).message}): needs the same user or root`,
      );
      return;
    }
    try {
      await until(async () => (await health(b)).reconnects > before.reconnects, 'B to notice and reconnect');
    } finally {
      process.kill(pid, 'SIGCONT');
    }
    expect(b.logs.text).toContain('heartbeat lost');
    expect((await health(b)).state).toBe('connected');
    expect((await health(a)).reconnects).toBe(0);
  });

  it('a channel message that does not parse is dropped and logged, not applied', async () => {
    const [a, b] = await pair('postgres');
    const { kate } = await people(a, ['kate']);
    if (!kate) throw new Error('no person');
    const org = await orgWith(kate, 'Acme');
    const key = await keyFor(kate, org.id, { role: 'member' });
    expect((await me(b, key.key)).status).toBe(200);
    const admin = new pg.Client({ connectionString: b.dbUrl });
    await admin.connect();
    try {
      await admin.query(`select pg_notify('crowdee_invalidation', $1)`, [
        JSON.stringify({
          v: 1,
          type: 'invalidate',
          node: 'x',
          cause: 'made-up',
          targets: [{ kind: 'everything' }],
        }),
      ]);
    } finally {
      await admin.end();
    }
    await until(async () => b.logs.text.includes('dropped a message that does not parse'), 'the drop log');
    expect(b.deps.keyCache.size).toBe(1);
  });
});
