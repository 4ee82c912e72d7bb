/**
 * The audit log that answers questions: actors named by key name and hint, filters by actor, event type and time
 * that combine, keyset pagination that holds while events are written, exports (JSON Lines, CSV) of exactly the
 * filtered set, spreadsheet formulas neutralised, and never another tenant's events — over tRPC and REST.
 */
import { parseCsv } from '@crowdee/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { keyFor, orgWith, type Person, people } from './helpers/fixtures.ts';
import { errorCode, keyClient } from './helpers/http-client.ts';
import { rest } from './helpers/rest.ts';
import { startTestApp, type TestApp } from './helpers/test-app.ts';

const HOUR = 3_600_000;
let app: TestApp;
let cast: Record<'Ada' | 'Bob' | 'Eve', Person>;
let orgA: string;
let orgX: string;
let bobKey: { key: string; id: string };
/** Instants between the three batches of activity. */
const marks: string[] = [];

type Filters = {
  actorUserId?: string;
  actorKeyId?: string;
  actorType?: 'user' | 'key' | 'session-token' | 'system' | 'anonymous';
  actions?: ('project.created' | 'project.deleted' | 'key.created' | 'member.added')[];
  from?: string;
  to?: string;
};

async function everything(filters: Filters = {}, limit = 100) {
  const out = [];
  let cursor: string | undefined;
  do {
    const page = await cast.Ada.browser.trpc.audit.list.query({ orgId: orgA, limit, cursor, ...filters });
    out.push(...page.items);
    cursor = page.nextCursor ?? undefined;
  } while (cursor);
  return out;
}

beforeAll(async () => {
  app = await startTestApp({
    config: { sessions: { absoluteMs: 30 * 86_400_000, idleMs: 30 * 86_400_000 } },
  });
  cast = (await people(app, ['Ada', 'Bob', 'Eve'])) as typeof cast;
  const { Ada, Bob, Eve } = cast;
  orgA = (await orgWith(Ada, 'Audited', [{ person: Bob, role: 'admin' }])).id;
  orgX = (await orgWith(Eve, 'Elsewhere')).id;
  bobKey = await keyFor(Bob, orgA, { name: '=HYPERLINK("http://evil")', role: 'admin', orgIds: [orgA] });
  const eveKey = await keyFor(Eve, orgX, { name: 'eve key', role: 'admin' });
  const bobApi = keyClient(app.url, bobKey.key);
  for (let batch = 0; batch < 3; batch++) {
    app.clock.advance(HOUR);
    marks.push(app.clock.now().toISOString());
    // Session tokens live minutes: a fresh one per batch.
    const { token } = await Ada.browser.trpc.auth.createSessionToken.mutate({ audience: 'dashboard' });
    const tokenApi = keyClient(app.url, token);
    const p1 = await Ada.browser.trpc.projects.create.mutate({ orgId: orgA, name: `ada-${batch}` });
    await bobApi.projects.create.mutate({ orgId: orgA, name: `bob-${batch}` });
    const p3 = await tokenApi.projects.create.mutate({ orgId: orgA, name: `token-${batch}` });
    await bobApi.projects.delete.mutate({ orgId: orgA, projectId: p3.id });
    if (batch === 1) await Ada.browser.trpc.projects.delete.mutate({ orgId: orgA, projectId: p1.id });
    await keyClient(app.url, eveKey.key).projects.create.mutate({ orgId: orgX, name: `eve-${batch}` });
  }
});
afterAll(async () => {
  await app?.close();
});

describe('audit log', () => {
  it('names key and token actors by name and hint, not just "(API key)"', async () => {
    const all = await everything();
    const byKey = all.filter((e) => e.actorType === 'key');
    expect(byKey.length).toBeGreaterThanOrEqual(6);
    for (const e of byKey) {
      expect(e.actorKey).toEqual({
        id: bobKey.id,
        name: '=HYPERLINK("http://evil")',
        hint: expect.any(String),
      });
      expect(e.actorKey?.hint).toMatch(/^cdk_[0-9A-Za-z]{4}…[0-9A-Za-z]{4}$/);
      expect(e.actorLabel).toBe(`Bob · key “=HYPERLINK("http://evil")” (${e.actorKey?.hint})`);
      expect(bobKey.key.startsWith(e.actorKey?.hint?.slice(0, 8) ?? 'x')).toBe(true);
    }
    const byToken = all.filter((e) => e.actorType === 'session-token');
    expect(byToken).toHaveLength(3);
    for (const e of byToken) {
      expect(e.actorToken).toMatchObject({ audience: 'dashboard', hint: expect.stringMatching(/^cds_/) });
      expect(e.actorLabel).toMatch(/^Ada · session token “dashboard” \(cds_/);
    }
    // No secret anywhere in the log.
    expect(JSON.stringify(all)).not.toContain(bobKey.key);
  });

  it('combines filters exactly like the same conditions applied to the whole log', async () => {
    const all = await everything();
    const { Ada, Bob } = cast;
    const actors = [{}, { actorUserId: Ada.id }, { actorUserId: Bob.id }, { actorKeyId: bobKey.id }];
    const types = [{}, { actorType: 'key' as const }, { actorType: 'user' as const }];
    const actions = [
      {},
      { actions: ['project.created' as const] },
      { actions: ['project.created', 'project.deleted'] as Filters['actions'] },
    ];
    const ranges = [{}, { from: marks[1] }, { from: marks[0], to: marks[2] }];
    let nonEmpty = 0;
    for (const a of actors)
      for (const t of types)
        for (const act of actions)
          for (const r of ranges) {
            const f: Filters = { ...a, ...t, ...act, ...r };
            const want = all.filter(
              (e) =>
                (!f.actorUserId || e.actorUserId === f.actorUserId) &&
                (!f.actorKeyId || e.actorKeyId === f.actorKeyId) &&
                (!f.actorType || e.actorType === f.actorType) &&
                (!f.actions || f.actions.includes(e.action as never)) &&
                (!f.from || e.createdAt >= f.from) &&
                (!f.to || e.createdAt < f.to),
            );
            const got = await everything(f, 7);
            expect(
              got.map((e) => e.id),
              JSON.stringify(f),
            ).toEqual(want.map((e) => e.id));
            if (want.length > 0) nonEmpty++;
          }
    // The grid is not vacuous: most combinations select something, and some select nothing.
    expect(nonEmpty).toBeGreaterThan(40);
    expect(await everything({ actorUserId: cast.Eve.id })).toEqual([]);
  });

  it('pages stay stable while new events are written between them', async () => {
    const before = (await everything({ actions: ['project.created'] })).map((e) => e.id);
    const seen: string[] = [];
    let cursor: string | undefined;
    let i = 0;
    do {
      const page = await cast.Ada.browser.trpc.audit.list.query({
        orgId: orgA,
        limit: 2,
        cursor,
        actions: ['project.created'],
      });
      seen.push(...page.items.map((e) => e.id));
      cursor = page.nextCursor ?? undefined;
      // Someone keeps working while the auditor pages, at the same instant and later.
      await cast.Ada.browser.trpc.projects.create.mutate({ orgId: orgA, name: `during-${i++}` });
      if (i % 2 === 0) app.clock.advance(1);
    } while (cursor);
    expect(new Set(seen).size).toBe(seen.length);
    expect(seen).toEqual(before);
  });

  it('exports exactly the filtered set as JSON Lines and as CSV, formulas neutralised', async () => {
    const filters: Filters = { actorKeyId: bobKey.id, actions: ['project.created', 'project.deleted'] };
    const want = (await everything(filters)).map((e) => e.id);
    expect(want.length).toBe(6);
    const jsonl = await cast.Ada.browser.trpc.audit.export.query({
      orgId: orgA,
      format: 'jsonl',
      ...filters,
    });
    expect(jsonl).toMatchObject({
      format: 'jsonl',
      count: 6,
      nextCursor: null,
      contentType: 'application/x-ndjson',
    });
    const lines = jsonl.content
      .trimEnd()
      .split('\n')
      .map((l) => JSON.parse(l) as { id: string; actorKey: unknown });
    expect(lines.map((l) => l.id)).toEqual(want);
    const csv = await cast.Ada.browser.trpc.audit.export.query({ orgId: orgA, format: 'csv', ...filters });
    const [header, ...rows] = parseCsv(csv.content);
    expect(header?.slice(0, 3)).toEqual(['id', 'time', 'action']);
    expect(rows.map((r) => r[0])).toEqual(want);
    const nameColumn = header?.indexOf('actor_key_name') ?? -1;
    for (const row of rows) {
      expect(row[nameColumn]).toBe(`'=HYPERLINK("http://evil")`);
      for (const cell of row) expect(cell).not.toMatch(/^[=+\-@]/);
    }
    expect(csv.content).not.toContain(bobKey.key);
  });

  it('over REST: the same filters (repeated parameters) and export, for an admin key', async () => {
    const q = `actions=project.deleted&actions=project.created&actorType=user&limit=100`;
    const list = await rest<{ items: { id: string; action: string; actorType: string }[] }>(
      app.url,
      bobKey.key,
      'GET',
      `/orgs/${orgA}/audit?${q}`,
    );
    expect(list.status).toBe(200);
    const want = await everything({ actions: ['project.deleted', 'project.created'], actorType: 'user' });
    expect(list.body.items.map((e) => e.id)).toEqual(want.map((e) => e.id));
    const exported = await rest<{ content: string; count: number }>(
      app.url,
      bobKey.key,
      'GET',
      `/orgs/${orgA}/audit/export?format=csv&${q}`,
    );
    expect(exported.status).toBe(200);
    expect(exported.body.count).toBe(want.length);
    const bad = await rest(app.url, bobKey.key, 'GET', `/orgs/${orgA}/audit?actions=nope`);
    expect(bad.status).toBe(400);
  });

  it('never shows another tenant’s events, and refuses bad cursors and ranges', async () => {
    const { Ada, Eve } = cast;
    const eveRows = await app.orm.em
      .fork()
      .getConnection()
      .execute<{ id: string }[]>('select id from audit_events where organization_id = ?', [orgX]);
    expect(eveRows.length).toBeGreaterThan(3);
    const exported = await Ada.browser.trpc.audit.export.query({ orgId: orgA, format: 'jsonl' });
    for (const { id } of eveRows) expect(exported.content).not.toContain(id);
    expect(await errorCode(Ada.browser.trpc.audit.list.query({ orgId: orgX }))).toBe('NOT_FOUND');
    expect(await errorCode(Ada.browser.trpc.audit.export.query({ orgId: orgX, format: 'csv' }))).toBe(
      'NOT_FOUND',
    );
    // A cursor from Eve's log only positions in Ada's; it never reveals Eve's events.
    const evePage = await Eve.browser.trpc.audit.list.query({ orgId: orgX, limit: 1 });
    const viaCursor = await Ada.browser.trpc.audit.list.query({
      orgId: orgA,
      limit: 100,
      cursor: evePage.nextCursor ?? undefined,
    });
    for (const e of viaCursor.items) expect(eveRows.map((r) => r.id)).not.toContain(e.id);
    expect(await errorCode(Ada.browser.trpc.audit.list.query({ orgId: orgA, cursor: 'not-a-cursor' }))).toBe(
      'VALIDATION_FAILED',
    );
    expect(
      await errorCode(
        Ada.browser.trpc.audit.list.query({ orgId: orgA, from: marks[2] ?? '', to: marks[0] ?? '' }),
      ),
    ).toBe('VALIDATION_FAILED');
  });
});
