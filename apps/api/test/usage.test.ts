/**
 * Usage you can see: per-key and per-organization counts per hour by outcome, tallied in memory and written by a
 * coalesced flush. Every test talks to a real API over HTTP and reads what the flush wrote in PostgreSQL.
 */
import { type UsageCounts, usageOutcome } from '@crowdee/core';
import { countStatements } from '@crowdee/db';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { testConfig } from '../src/config.ts';
import { createLogger } from '../src/logger.ts';
import { startServer } from '../src/server.ts';
import { keyFor, orgWith, type Person, people } from './helpers/fixtures.ts';
import { errorCode, keyClient } from './helpers/http-client.ts';
import { rest } from './helpers/rest.ts';
import { startTestApp, type TestApp } from './helpers/test-app.ts';

let app: TestApp;
let folks: Record<string, Person>;
const person = (name: string): Person => {
  const found = folks[name];
  if (!found) throw new Error(`no person ${name}`);
  return found;
};
const QUOTA = 60;

beforeAll(async () => {
  app = await startTestApp({
    // A budget small enough to reach in a test, over a window no slow machine outlasts.
    limits: {
      policies: { authenticated: { quota: QUOTA, windowSeconds: 3600 } },
      overrideRefreshMs: 3_600_000,
    },
  });
  folks = await people(app, ['Kate', 'Adam', 'Mia', 'Out', 'Ned', 'Lim']);
});
afterAll(async () => {
  await app?.close();
});

type Report = { totals: UsageCounts; hours: ({ hour: string } & UsageCounts)[] };

const tallyOf = (statuses: number[]): UsageCounts => {
  const counts: UsageCounts = { ok: 0, clientError: 0, rateLimited: 0, serverError: 0 };
  for (const s of statuses) counts[usageOutcome(s)]++;
  return counts;
};

async function statusOf(promise: Promise<unknown>): Promise<number> {
  const code = await errorCode(promise);
  if (code === 'OK') return 200;
  return { VALIDATION_FAILED: 400, FORBIDDEN: 403, NOT_FOUND: 404, ORG_OUT_OF_SCOPE: 403, RATE_LIMITED: 429 }[
    code as 'VALIDATION_FAILED'
  ];
}

async function dbCounts(kind: 'key' | 'org', id: string): Promise<UsageCounts> {
  const rows = await app.orm.em
    .getConnection()
    .execute<{ ok: number; client_error: number; rate_limited: number; server_error: number }[]>(
      `select coalesce(sum(ok), 0)::int as ok, coalesce(sum(client_error), 0)::int as client_error,
              coalesce(sum(rate_limited), 0)::int as rate_limited, coalesce(sum(server_error), 0)::int as server_error
         from usage_hourly where subject_kind = ? and subject_id = ?`,
      [kind, id],
    );
  const r = rows[0];
  return {
    ok: r?.ok ?? 0,
    clientError: r?.client_error ?? 0,
    rateLimited: r?.rate_limited ?? 0,
    serverError: r?.server_error ?? 0,
  };
}

describe('usage counts', () => {
  it('match the requests sent exactly after a flush: REST and tRPC, 2xx, 4xx and 429, per key and per org', async () => {
    // Lim spends their whole budget here: nobody else uses Lim.
    const org = await orgWith(person('Lim'), 'Counted');
    const other = await orgWith(person('Out'), 'Elsewhere');
    const { key, id } = await keyFor(person('Lim'), org.id, { role: 'member', orgIds: [org.id] });
    await app.deps.usage.flush();
    const orgBefore = await dbCounts('org', org.id);
    const client = keyClient(app.url, key);
    const statuses: number[] = [];
    for (let i = 0; i < 4; i++)
      statuses.push((await rest(app.url, key, 'GET', `/orgs/${org.id}/projects`)).status);
    statuses.push((await rest(app.url, key, 'GET', '/me')).status);
    statuses.push((await rest(app.url, key, 'POST', `/orgs/${org.id}/projects`, { name: '' })).status);
    statuses.push((await rest(app.url, key, 'GET', `/orgs/${other.id}/projects`)).status);
    statuses.push(await statusOf(client.projects.list.query({ orgId: org.id })));
    statuses.push(await statusOf(client.projects.create.mutate({ orgId: org.id, name: 'via tRPC' })));
    statuses.push(await statusOf(client.members.list.query({ orgId: other.id })));
    // A batch is one request, whatever it holds.
    const batch = await fetch(
      `${app.url}/trpc/projects.list,orgs.list?batch=1&input=${encodeURIComponent(JSON.stringify({ 0: { orgId: org.id } }))}`,
      { headers: { authorization: `Bearer ${key}` } },
    );
    statuses.push(batch.status);
    // Spend the rest of the user's budget, then some: refused requests are counted too.
    while (statuses.filter((s) => s === 429).length < 3) {
      statuses.push((await rest(app.url, key, 'GET', '/me')).status);
      if (statuses.length > QUOTA * 2) throw new Error('never limited');
    }
    statuses.push(await statusOf(client.projects.list.query({ orgId: org.id })));
    const expected = tallyOf(statuses);
    expect(expected.ok).toBeGreaterThan(0);
    expect(expected.clientError).toBeGreaterThanOrEqual(3);
    expect(expected.rateLimited).toBe(4);

    await app.deps.usage.flush();
    expect(await dbCounts('key', id)).toEqual(expected);
    // The key can act in one organization only: every request it makes is that organization's usage.
    const orgAfter = await dbCounts('org', org.id);
    expect(orgAfter.ok - orgBefore.ok).toBe(expected.ok);
    expect(orgAfter.rateLimited - orgBefore.rateLimited).toBe(expected.rateLimited);
    expect(orgAfter.clientError - orgBefore.clientError).toBe(expected.clientError);
    expect(await dbCounts('org', other.id)).toEqual({
      ok: 0,
      clientError: 0,
      rateLimited: 0,
      serverError: 0,
    });
  });

  it('cost no database statement on the request path (flushes write them later, one statement each)', async () => {
    const org = await orgWith(person('Adam'), 'No statements');
    const { key, id } = await keyFor(person('Adam'), org.id, { role: 'viewer' });
    expect((await rest(app.url, key, 'GET', '/me')).status).toBe(200);
    // The first use records "last used" in the background: let that land before counting.
    const conn = app.orm.em.getConnection();
    await expect
      .poll(
        async () =>
          (
            await conn.execute<{ n: number }[]>(
              'select count(*)::int as n from api_keys where id = ? and last_used_at is not null',
              [id],
            )
          )[0]?.n,
      )
      .toBe(1);
    await app.deps.usage.flush();
    let statements = 0;
    const stop = countStatements(app.orm, () => {
      statements++;
    });
    for (let i = 0; i < 20; i++) expect((await rest(app.url, key, 'GET', '/me')).status).toBe(200);
    stop();
    expect(statements).toBe(0);
    expect(app.deps.usage.health().pending).toBeGreaterThan(0);
    let flushStatements = 0;
    const stopFlush = countStatements(app.orm, () => {
      flushStatements++;
    });
    await app.deps.usage.flush();
    stopFlush();
    expect(flushStatements).toBe(1);
    expect((await dbCounts('key', id)).ok).toBe(21);
  });

  it('sessions and session tokens count in the organizations they act in; anonymous requests nowhere', async () => {
    const org = await orgWith(person('Mia'), 'Sessions count');
    await app.deps.usage.flush();
    const before = await dbCounts('org', org.id);
    const mia = person('Mia').browser.trpc;
    await mia.projects.list.query({ orgId: org.id });
    await mia.members.list.query({ orgId: org.id });
    expect(await errorCode(mia.projects.create.mutate({ orgId: org.id, name: '' }))).toBe(
      'VALIDATION_FAILED',
    );
    const { token } = await mia.auth.createSessionToken.mutate({ audience: 'usage' });
    expect((await rest(app.url, token, 'GET', `/orgs/${org.id}/projects`)).status).toBe(200);
    // Not a member: refused before acting there, so not this organization's usage.
    expect(await errorCode(person('Ned').browser.trpc.projects.list.query({ orgId: org.id }))).toBe(
      'NOT_FOUND',
    );
    await fetch(`${app.url}/api/v1/orgs/${org.id}/projects`);
    await app.deps.usage.flush();
    const after = await dbCounts('org', org.id);
    expect(after.ok - before.ok).toBe(3);
    expect(after.clientError - before.clientError).toBe(1);
  });

  it('two nodes flushing into the same hour add up', async () => {
    const second = await startTestApp({ database: { url: app.dbUrl } });
    try {
      const org = await orgWith(person('Kate'), 'Two nodes');
      const { key, id } = await keyFor(person('Kate'), org.id, { role: 'viewer', orgIds: [org.id] });
      await Promise.all([
        ...Array.from({ length: 7 }, () => rest(app.url, key, 'GET', '/me')),
        ...Array.from({ length: 5 }, () => rest(second.url, key, 'GET', '/me')),
      ]);
      // Both at once, then again (upserts into rows the other node just wrote).
      await Promise.all([app.deps.usage.flush(), second.deps.usage.flush()]);
      await rest(second.url, key, 'GET', '/me');
      await second.deps.usage.flush();
      const counts = await dbCounts('key', id);
      expect(counts.ok + counts.rateLimited).toBe(13);
      const rows = await app.orm.em
        .getConnection()
        .execute<{ n: number }[]>(
          "select count(*)::int as n from usage_hourly where subject_kind = 'key' and subject_id = ?",
          [id],
        );
      expect(rows[0]?.n).toBe(1);
    } finally {
      await second.close();
    }
  });

  it('are written at graceful shutdown', async () => {
    const org = await orgWith(person('Adam'), 'Shutdown');
    const { key, id } = await keyFor(person('Adam'), org.id, { role: 'viewer' });
    const config = testConfig({
      databaseUrl: app.dbUrl,
      port: 0,
      // No timer flush during the test: only the shutdown writes.
      usage: { enabled: true, flushMs: 3_600_000 },
    });
    const server = await startServer(config, createLogger({ logLevel: 'silent' }));
    for (let i = 0; i < 6; i++) expect((await rest(server.url, key, 'GET', '/me')).status).toBe(200);
    expect((await dbCounts('key', id)).ok).toBe(0);
    await server.close();
    expect((await dbCounts('key', id)).ok).toBe(6);
  });
});

describe('usage procedures', () => {
  it('GET /api/v1/keys/current/usage: the key’s own hours, a validated range', async () => {
    const org = await orgWith(person('Mia'), 'Script usage');
    const { key } = await keyFor(person('Mia'), org.id, { role: 'viewer' });
    for (let i = 0; i < 3; i++) await rest(app.url, key, 'GET', '/me');
    await rest(app.url, key, 'GET', '/orgs/not-a-uuid/projects');
    await app.deps.usage.flush();
    const res = await rest<Report & { from: string; to: string }>(app.url, key, 'GET', '/keys/current/usage');
    expect(res.status).toBe(200);
    expect(res.body.totals).toEqual({ ok: 3, clientError: 1, rateLimited: 0, serverError: 0 });
    expect(res.body.hours).toHaveLength(1);
    expect(Date.parse(res.body.to) - Date.parse(res.body.from)).toBeGreaterThanOrEqual(30 * 86_400_000);
    // The same through tRPC, with a range that ends before anything happened.
    const past = await keyClient(app.url, key).keys.currentUsage.query({
      from: new Date(Date.now() - 3 * 86_400_000).toISOString(),
      to: new Date(Date.now() - 2 * 86_400_000).toISOString(),
    });
    expect(past.totals.ok).toBe(0);
    const reversed = await rest(
      app.url,
      key,
      'GET',
      `/keys/current/usage?from=${new Date().toISOString()}&to=${new Date(Date.now() - 1000).toISOString()}`,
    );
    expect(reversed.status).toBe(400);
    expect(reversed.body.code).toBe('VALIDATION_FAILED');
    const tooOld = await rest(
      app.url,
      key,
      'GET',
      `/keys/current/usage?from=${new Date(Date.now() - 120 * 86_400_000).toISOString()}`,
    );
    expect(tooOld.status).toBe(400);
    expect((await rest(app.url, key, 'GET', '/keys/current/usage?from=yesterday')).status).toBe(400);
    // Without a key, or with a session: not this route's business.
    expect((await rest(app.url, null, 'GET', '/keys/current/usage')).status).toBe(401);
    expect(await errorCode(person('Mia').browser.trpc.keys.currentUsage.query({}))).toBe('UNAUTHENTICATED');
  });

  it('usage.key for the key’s creator only (with last IPs), usage.sparklines, usage.org for org admins only', async () => {
    const org = await orgWith(person('Kate'), 'App usage', [
      { person: person('Adam'), role: 'member' },
      { person: person('Mia'), role: 'admin' },
    ]);
    const { key, id } = await keyFor(person('Kate'), org.id, { role: 'viewer' });
    await rest(app.url, key, 'GET', `/orgs/${org.id}/projects`);
    await rest(app.url, key, 'GET', `/orgs/${org.id}/projects`, undefined, {});
    await app.deps.usage.flush();
    const mine = await person('Kate').browser.trpc.usage.key.query({ id });
    expect(mine.totals.ok).toBe(2);
    expect(mine.recentIps.map((r) => r.ip)).toEqual(['127.0.0.1']);
    // Someone else's key answers exactly like a missing one, even for an admin of its organization.
    expect(await errorCode(person('Mia').browser.trpc.usage.key.query({ id }))).toBe('NOT_FOUND');
    expect(await errorCode(person('Mia').browser.trpc.usage.key.query({ id: crypto.randomUUID() }))).toBe(
      'NOT_FOUND',
    );
    expect(await errorCode(keyClient(app.url, key).usage.key.query({ id }))).toBe('SESSION_REQUIRED');

    const sparks = await person('Kate').browser.trpc.usage.sparklines.query();
    const spark = sparks.find((s) => s.keyId === id);
    expect(spark?.days).toHaveLength(7);
    expect(spark?.days.at(-1)).toBe(2);
    expect((await person('Mia').browser.trpc.usage.sparklines.query()).map((s) => s.keyId)).not.toContain(id);

    const orgUsage = await person('Mia').browser.trpc.usage.org.query({ orgId: org.id });
    expect(orgUsage.totals.ok).toBeGreaterThanOrEqual(2);
    expect(await errorCode(person('Adam').browser.trpc.usage.org.query({ orgId: org.id }))).toBe('FORBIDDEN');
    expect(await errorCode(person('Out').browser.trpc.usage.org.query({ orgId: org.id }))).toBe('NOT_FOUND');
    expect(await errorCode(keyClient(app.url, key).usage.org.query({ orgId: org.id }))).toBe(
      'SESSION_REQUIRED',
    );
  });

  it('keep the newest addresses of a key only, and prune everything past 90 days', async () => {
    const org = await orgWith(person('Ned'), 'Retention');
    const { key, id } = await keyFor(person('Ned'), org.id, { role: 'viewer' });
    await rest(app.url, key, 'GET', '/me');
    await app.deps.usage.flush();
    const conn = app.orm.em.getConnection();
    const old = new Date(Date.now() - 91 * 86_400_000);
    await conn.execute(
      "insert into usage_hourly (subject_kind, subject_id, hour, ok) values ('key', ?, date_trunc('hour', ?::timestamptz), 5)",
      [id, old],
    );
    await conn.execute('insert into api_key_recent_ips (api_key_id, ip, last_seen_at) values (?, ?, ?)', [
      id,
      '192.0.2.9',
      old,
    ]);
    expect((await dbCounts('key', id)).ok).toBe(6);
    await app.deps.usage.prune();
    expect((await dbCounts('key', id)).ok).toBe(1);
    const ips = await person('Ned').browser.trpc.usage.key.query({ id });
    expect(ips.recentIps.map((r) => r.ip)).toEqual(['127.0.0.1']);
  });
});
