import { randomUUID } from 'node:crypto';
import { adminQuery } from '@crowdee/db/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Actor } from '../src/services/audit.service.ts';
import { createDataset } from '../src/services/datasets.service.ts';
import { addItems, deleteItem, prepareText } from '../src/services/items.service.ts';
import { orgWith, type Person, people } from './helpers/fixtures.ts';
import { startTestApp, type TestApp } from './helpers/test-app.ts';

let app: TestApp;
let ada: Person;
let ref: { orgId: string; projectId: string; datasetId: string };
let actor: Actor;

beforeAll(async () => {
  app = await startTestApp();
  ada = (await people(app, ['Ada'])).Ada as Person;
  const orgId = (await orgWith(ada, 'Race')).id;
  const project = await ada.browser.trpc.projects.create.mutate({ orgId, name: 'p' });
  actor = { type: 'user', userId: ada.id, keyId: null, ip: null, userAgent: null };
  const dataset = await createDataset(
    app.deps,
    app.orm.em.fork(),
    actor,
    { orgId, projectId: project.id },
    {
      name: 'd',
    },
  );
  ref = { orgId, projectId: project.id, datasetId: dataset.id };
});
afterAll(async () => {
  await app?.close();
});

async function itemCount(): Promise<{ stored: number; counted: number }> {
  const { rows } = await adminQuery(
    app.dbUrl,
    'select (select count(*) from dataset_items where dataset_id = $1) as stored, item_count as counted from datasets where id = $1',
    [ref.datasetId],
  );
  const row = rows[0] as { stored: string; counted: number } | undefined;
  return { stored: Number(row?.stored), counted: row?.counted ?? -1 };
}

describe('batches racing into one dataset', () => {
  it('create each externalId once: the other batch answers exists (same text) or rejected (other text), never an error', async () => {
    const ids = Array.from({ length: 200 }, (_, i) => `race-${i}`);
    // Opposite orders and overlapping ids: without one lock order these two would deadlock.
    const a = ids.map((id) => prepareText(id, `same ${id}`));
    const b = [...ids].reverse().map((id, i) => prepareText(id, i % 2 === 0 ? `same ${id}` : `other ${id}`));
    const rounds = await Promise.all([
      addItems(app.deps, app.orm.em.fork(), actor, ref, a),
      addItems(app.deps, app.orm.em.fork(), actor, ref, b),
      addItems(app.deps, app.orm.em.fork(), actor, ref, a),
    ]);
    expect(rounds.reduce((n, r) => n + r.created, 0)).toBe(200);
    for (const r of rounds) expect(r.results).toHaveLength(200);
    const [ra, rb, rc] = rounds;
    // Batches a and c carry identical content: whatever order they ran in, neither rejects against the other.
    const conflictsB = rb?.rejected ?? 0;
    expect((ra?.rejected ?? 0) + (rc?.rejected ?? 0) + conflictsB).toBeGreaterThan(0);
    expect(await itemCount()).toEqual({ stored: 200, counted: 200 });
  });

  it('keeps itemCount exact when the same item is deleted twice at once', async () => {
    const [result] = (
      await addItems(app.deps, app.orm.em.fork(), actor, ref, [prepareText(randomUUID(), 'x')])
    ).results;
    const itemId = result && 'itemId' in result ? result.itemId : '';
    const before = await itemCount();
    const outcomes = await Promise.allSettled([
      deleteItem(app.deps, app.orm.em.fork(), actor, ref, itemId),
      deleteItem(app.deps, app.orm.em.fork(), actor, ref, itemId),
    ]);
    expect(outcomes.filter((o) => o.status === 'fulfilled')).toHaveLength(1);
    const failure = outcomes.find((o) => o.status === 'rejected');
    expect((failure as PromiseRejectedResult | undefined)?.reason).toMatchObject({ code: 'NOT_FOUND' });
    expect(await itemCount()).toEqual({ stored: before.stored - 1, counted: before.counted - 1 });
  });
});
