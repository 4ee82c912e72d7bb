import { randomUUID } from 'node:crypto';
import { DEFAULT_PIPELINE, judgeDataset } from '@crowdee/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { processRun } from '../src/runs/run-worker.ts';
import { mixedItems, pipelineItems, seedDataset } from './helpers/datasets.ts';
import { keyFor, orgWith, type Person, people } from './helpers/fixtures.ts';
import { type Problem, rest } from './helpers/rest.ts';
import { startTestApp, type TestApp } from './helpers/test-app.ts';

interface Run {
  id: string;
  datasetId: string;
  projectId: string;
  status: string;
  total: number;
  processed: number;
  counts: { pass: number; flag: number; fail: number };
  pipeline: unknown;
  startedAt: string | null;
  finishedAt: string | null;
}
interface ResultItem {
  itemId: string;
  externalId: string;
  verdict: string;
  reasons: { check: string; verdict: string; reason: string }[];
}

let app: TestApp;
let owner: Person;
let other: Person;
let orgId: string;
let projectId: string;
let key: string;
let otherKey: string;
let datasetId: string;
let base: string;

/** The `r=` of the first RateLimit entry: units left in the caller's budget. */
function remaining(headers: Headers): number {
  const match = /r=(\d+)/.exec(headers.get('ratelimit') ?? '');
  if (!match) throw new Error(`no RateLimit header: ${headers.get('ratelimit')}`);
  return Number(match[1]);
}

const work = (runId: string, chunkSize = 7) => processRun(app.deps, runId, { chunkSize });

beforeAll(async () => {
  app = await startTestApp({ limits: { policies: { authenticated: { quota: 500 } } } });
  const cast = await people(app, ['Owner', 'Other']);
  owner = cast.Owner as Person;
  other = cast.Other as Person;
  orgId = (await orgWith(owner, 'Runs')).id;
  projectId = (await owner.browser.trpc.projects.create.mutate({ orgId, name: 'p' })).id;
  key = (await keyFor(owner, orgId, { role: 'member' })).key;
  const otherOrg = (await orgWith(other, 'Elsewhere')).id;
  otherKey = (await keyFor(other, otherOrg, { role: 'admin' })).key;
  ({ datasetId } = await seedDataset(app.orm, { orgId, projectId, createdBy: owner.id }, mixedItems(60)));
  base = `/orgs/${orgId}/projects/${projectId}/datasets/${datasetId}/runs`;
});
afterAll(async () => {
  await app?.close();
});

describe('a run over REST', () => {
  it('starts queued (202), polls with ETag and Retry-After, and a matching If-None-Match is a free 304', async () => {
    const started = await rest<Run>(app.url, key, 'POST', base, {});
    expect(started.status).toBe(202);
    expect(started.body).toMatchObject({ status: 'queued', datasetId, projectId, processed: 0 });
    expect(started.body.pipeline).toEqual(DEFAULT_PIPELINE);

    const first = await rest<Run>(app.url, key, 'GET', `${base}/${started.body.id}`);
    expect(first.status).toBe(200);
    const etag = first.headers.get('etag') ?? '';
    expect(etag).toMatch(/^"v\d+"$/);
    expect(first.headers.get('retry-after')).toBe('5');
    const before = remaining(first.headers);

    for (let i = 0; i < 3; i++) {
      const again = await rest(app.url, key, 'GET', `${base}/${started.body.id}`, undefined, {
        'if-none-match': etag,
      });
      expect(again.status).toBe(304);
      expect(again.headers.get('etag')).toBe(etag);
      expect(again.headers.get('retry-after')).toBe('5');
    }
    // Three conditional polls later, the next charged request is only one unit below the last: they cost nothing.
    const after = await rest<Run>(app.url, key, 'GET', `${base}/${started.body.id}`, undefined, {
      'if-none-match': '"v0", W/"stale"',
    });
    expect(after.status).toBe(200);
    expect(remaining(after.headers)).toBe(before - 1);

    expect(await work(started.body.id)).toBe('succeeded');
    const done = await rest<Run>(app.url, key, 'GET', `${base}/${started.body.id}`, undefined, {
      'if-none-match': etag,
    });
    expect(done.status).toBe(200);
    expect(done.headers.get('etag')).not.toBe(etag);
    expect(done.headers.get('retry-after')).toBeNull();
    expect(done.body).toMatchObject({ status: 'succeeded', total: 60, processed: 60 });
    const { pass, flag, fail } = done.body.counts;
    expect(pass + flag + fail).toBe(60);
  });

  it('judges every item once, exactly as packages/core judges the whole dataset', async () => {
    const started = await rest<Run>(app.url, key, 'POST', base, { pipeline: 'default' });
    expect(await work(started.body.id, 4)).toBe('succeeded');
    const expected = judgeDataset(DEFAULT_PIPELINE, await pipelineItems(app.orm, datasetId));
    const all: ResultItem[] = [];
    let cursor: string | null = null;
    do {
      const query: string = `?limit=9${cursor ? `&cursor=${cursor}` : ''}`;
      const page = await rest<{ items: ResultItem[]; nextCursor: string | null }>(
        app.url,
        key,
        'GET',
        `${base}/${started.body.id}/results${query}`,
      );
      expect(page.status).toBe(200);
      all.push(...page.body.items);
      cursor = page.body.nextCursor;
    } while (cursor);
    expect(all.map(({ itemId, verdict, reasons }) => ({ itemId, verdict, reasons }))).toEqual(expected);
    // The mixed dataset makes each verdict occur, so the comparison above is not vacuous.
    expect(new Set(all.map((r) => r.verdict))).toEqual(new Set(['pass', 'flag', 'fail']));

    const flagged = await rest<{ items: ResultItem[] }>(
      app.url,
      key,
      'GET',
      `${base}/${started.body.id}/results?verdict=flag&limit=1000`,
    );
    expect(flagged.body.items).toEqual(all.filter((r) => r.verdict === 'flag'));

    const exported = await fetch(`${app.url}/api/v1${base}/${started.body.id}/results.jsonl?verdict=flag`, {
      headers: { authorization: `Bearer ${key}`, accept: 'application/x-ndjson' },
    });
    expect(exported.status).toBe(200);
    expect(exported.headers.get('content-type')).toMatch(/^application\/x-ndjson/);
    const lines = (await exported.text()).trimEnd().split('\n');
    expect(lines.map((l) => JSON.parse(l))).toEqual(flagged.body.items);

    // tRPC answers the same procedures.
    const viaTrpc = await owner.browser.trpc.runs.results.query({
      orgId,
      projectId,
      datasetId,
      runId: started.body.id,
      limit: 1000,
    });
    expect(viaTrpc.items).toEqual(all);
  });

  it('cancels a queued run: its worker judges nothing; a finished run cannot be cancelled', async () => {
    const started = await rest<Run>(app.url, key, 'POST', base, {});
    const cancelled = await rest<Run>(app.url, key, 'POST', `${base}/${started.body.id}/cancel`, {});
    expect(cancelled.status).toBe(200);
    expect(cancelled.body).toMatchObject({ status: 'cancelled', processed: 0 });
    expect(await work(started.body.id)).toBe('cancelled');
    const again = await rest<Run>(app.url, key, 'POST', `${base}/${started.body.id}/cancel`, {});
    expect(again.body.status).toBe('cancelled');
    const results = await rest<{ items: unknown[] }>(
      app.url,
      key,
      'GET',
      `${base}/${started.body.id}/results`,
    );
    expect(results.body.items).toEqual([]);

    const finished = await rest<Run>(app.url, key, 'POST', base, {});
    await work(finished.body.id);
    const refused = await rest<Problem>(app.url, key, 'POST', `${base}/${finished.body.id}/cancel`, {});
    expect(refused.status).toBe(409);
    expect(refused.body.code).toBe('CONFLICT');
  });

  it('stops a running run at the next chunk once cancelled', async () => {
    const started = await rest<Run>(app.url, key, 'POST', base, {});
    let chunks = 0;
    const outcome = await processRun(app.deps, started.body.id, {
      chunkSize: 5,
      afterChunk: async () => {
        chunks++;
        if (chunks === 2) await rest(app.url, key, 'POST', `${base}/${started.body.id}/cancel`, {});
      },
    });
    expect(outcome).toBe('cancelled');
    const run = await rest<Run>(app.url, key, 'GET', `${base}/${started.body.id}`);
    expect(run.body).toMatchObject({ status: 'cancelled', processed: 10 });
  });

  it('takes a custom pipeline, and refuses an invalid one with field errors', async () => {
    const pipeline = { version: 1, checks: [{ check: 'bannedTerms', terms: ['hello'], verdict: 'fail' }] };
    const started = await rest<Run>(app.url, key, 'POST', base, { pipeline });
    expect(started.status).toBe(202);
    expect(started.body.pipeline).toEqual(pipeline);
    await work(started.body.id);
    const run = await rest<Run>(app.url, key, 'GET', `${base}/${started.body.id}`);
    expect(run.body.counts.fail).toBeGreaterThan(0);

    const inverted = { version: 1, checks: [{ check: 'size', min: 5, max: 1, verdict: 'flag' }] };
    const bad = await rest<Problem>(app.url, key, 'POST', base, { pipeline: inverted });
    expect(bad.status).toBe(400);
    expect(bad.body.code).toBe('VALIDATION_FAILED');
    expect(bad.body.errors?.map((e) => e.path)).toEqual(['pipeline.checks.0.min']);
    const unknown = await rest<Problem>(app.url, key, 'POST', base, {
      pipeline: { version: 1, checks: [{ check: 'virusScan', verdict: 'fail' }] },
    });
    expect(unknown.status).toBe(400);
  });

  it('lists a dataset’s runs newest first and the organization’s recent runs with dataset names', async () => {
    const page1 = await rest<{ items: Run[]; nextCursor: string | null }>(
      app.url,
      key,
      'GET',
      `${base}?limit=2`,
    );
    expect(page1.body.items).toHaveLength(2);
    expect(page1.body.nextCursor).not.toBeNull();
    const page2 = await rest<{ items: Run[] }>(
      app.url,
      key,
      'GET',
      `${base}?limit=2&cursor=${page1.body.nextCursor}`,
    );
    const ids = [...page1.body.items, ...page2.body.items].map((r) => r.id);
    expect(new Set(ids).size).toBe(ids.length);
    const org = await rest<{ items: (Run & { datasetName: string })[] }>(
      app.url,
      key,
      'GET',
      `/orgs/${orgId}/runs`,
    );
    expect(org.body.items[0]).toMatchObject({ id: page1.body.items[0]?.id, datasetId });
    expect(org.body.items[0]?.datasetName).toMatch(/^data-/);
    const badCursor = await rest<Problem>(app.url, key, 'GET', `${base}?cursor=nonsense`);
    expect(badCursor.status).toBe(400);
  });
});

describe('conditional polls never leak or skip a refusal', () => {
  let runId: string;
  let etag: string;
  beforeAll(async () => {
    runId = (await rest<Run>(app.url, key, 'POST', base, {})).body.id;
    etag = (await rest(app.url, key, 'GET', `${base}/${runId}`)).headers.get('etag') ?? '';
  });

  it('another tenant’s key with the right ETag (or *) gets 404 exactly like a missing run, and is charged', async () => {
    for (const tag of [etag, '*']) {
      const theirs = await rest<Problem>(app.url, otherKey, 'GET', `${base}/${runId}`, undefined, {
        'if-none-match': tag,
      });
      const missing = await rest<Problem>(app.url, otherKey, 'GET', `${base}/${randomUUID()}`, undefined, {
        'if-none-match': tag,
      });
      expect(theirs.status).toBe(404);
      expect(missing.status).toBe(404);
      expect(theirs.body.code).toBe(missing.body.code);
      expect(remaining(missing.headers)).toBe(remaining(theirs.headers) - 1);
    }
  });

  it('a bad key, no key, or the run under another dataset’s path are refused, never 304', async () => {
    const bad = await rest(app.url, `${key.slice(0, -3)}xyz`, 'GET', `${base}/${runId}`, undefined, {
      'if-none-match': etag,
    });
    expect(bad.status).toBe(401);
    const none = await rest(app.url, null, 'GET', `${base}/${runId}`, undefined, { 'if-none-match': '*' });
    expect(none.status).toBe(401);
    const { datasetId: otherDataset } = await seedDataset(
      app.orm,
      { orgId, projectId, createdBy: owner.id },
      [],
    );
    const elsewhere = await rest(
      app.url,
      key,
      'GET',
      `/orgs/${orgId}/projects/${projectId}/datasets/${otherDataset}/runs/${runId}`,
      undefined,
      { 'if-none-match': '*' },
    );
    expect(elsewhere.status).toBe(404);
  });

  it('other spellings of the path are the same free poll (upper-case ids, trailing slash)', async () => {
    const upper = `/orgs/${orgId.toUpperCase()}/projects/${projectId}/datasets/${datasetId}/runs/${runId}/`;
    const res = await rest(app.url, key, 'GET', upper, undefined, { 'if-none-match': etag });
    expect(res.status).toBe(304);
  });

  it('a key scoped to another organization is refused, not answered 304', async () => {
    const home = (await owner.browser.trpc.orgs.create.mutate({ name: 'Home' })).id;
    const scoped = (await keyFor(owner, home, { role: 'viewer', orgIds: [home] })).key;
    const res = await rest<Problem>(app.url, scoped, 'GET', `${base}/${runId}`, undefined, {
      'if-none-match': etag,
    });
    expect(res.status).toBe(403);
    expect(res.body.code).toBe('ORG_OUT_OF_SCOPE');
  });
});

describe('runs through the queue', () => {
  let queued: TestApp;
  afterAll(async () => {
    await queued?.close();
  });

  it('an in-process worker picks a started run up and finishes it', async () => {
    queued = await startTestApp({
      workers: true,
      config: { runs: { ...app.deps.config.runs, chunkSize: 10 } },
    });
    const founder = (await people(queued, ['Founder'])).Founder as Person;
    const org = (await orgWith(founder, 'Queued')).id;
    const project = (await founder.browser.trpc.projects.create.mutate({ orgId: org, name: 'q' })).id;
    const { datasetId: ds } = await seedDataset(
      queued.orm,
      { orgId: org, projectId: project, createdBy: founder.id },
      mixedItems(35),
    );
    const run = await founder.browser.trpc.runs.start.mutate({
      orgId: org,
      projectId: project,
      datasetId: ds,
    });
    let current = run;
    while (current.status === 'queued' || current.status === 'running') {
      await new Promise((resolve) => setTimeout(resolve, 100));
      current = await founder.browser.trpc.runs.get.query({
        orgId: org,
        projectId: project,
        datasetId: ds,
        runId: run.id,
      });
    }
    expect(current).toMatchObject({ status: 'succeeded', total: 35, processed: 35 });
  });
});

describe('end to end over REST', () => {
  it('uploads items, starts a run, polls with the ETag until done, and gets what packages/core judges', async () => {
    const datasets = `/orgs/${orgId}/projects/${projectId}/datasets`;
    const created = await rest<{ id: string }>(app.url, key, 'POST', datasets, {
      name: `e2e-${randomUUID()}`,
    });
    expect(created.status).toBe(201);
    const texts = ['first', 'First!', 'a link: www.example.org', '', 'plain'];
    const uploaded = await rest<{ created: number }>(
      app.url,
      key,
      'POST',
      `${datasets}/${created.body.id}/items`,
      {
        items: texts.map((text, i) => ({ externalId: `t${i}`, text })),
      },
    );
    expect(uploaded.body.created).toBe(texts.length);
    const runs = `${datasets}/${created.body.id}/runs`;
    const started = await rest<Run>(app.url, key, 'POST', runs, {});
    expect(started.status).toBe(202);
    let etag = '';
    let polls = 0;
    let notModified = 0;
    for (;;) {
      const res = await rest<Run>(
        app.url,
        key,
        'GET',
        `${runs}/${started.body.id}`,
        undefined,
        etag ? { 'if-none-match': etag } : {},
      );
      polls++;
      if (res.status === 304) notModified++;
      else {
        etag = res.headers.get('etag') ?? '';
        if (res.body.status === 'succeeded') break;
      }
      // The first poll finds the run queued; after it, the worker is run here, as a worker process would.
      if (polls === 2) await work(started.body.id, 2);
    }
    expect(notModified).toBeGreaterThanOrEqual(1);
    const page = await rest<{ items: ResultItem[] }>(
      app.url,
      key,
      'GET',
      `${runs}/${started.body.id}/results?limit=1000`,
    );
    const expected = judgeDataset(DEFAULT_PIPELINE, await pipelineItems(app.orm, created.body.id));
    expect(page.body.items.map(({ itemId, verdict, reasons }) => ({ itemId, verdict, reasons }))).toEqual(
      expected,
    );
    expect(page.body.items.map((r) => r.externalId).sort()).toEqual(texts.map((_, i) => `t${i}`).sort());
  });
});
