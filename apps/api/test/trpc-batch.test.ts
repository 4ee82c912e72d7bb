/**
 * tRPC batches as an attacker (or a busy settings page) sends them: raw HTTP, several calls in one request.
 * Each call has its own unit of work, so one call's failed write can neither stall nor poison another call.
 */
import { MAX_BATCH_CALLS } from '@crowdee/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { orgWith, type Person, people } from './helpers/fixtures.ts';
import { startTestApp, type TestApp } from './helpers/test-app.ts';

let app: TestApp;
let cast: Record<string, Person>;

beforeAll(async () => {
  app = await startTestApp();
  cast = await people(app, ['Owner']);
});
afterAll(async () => {
  await app?.close();
});

function owner(): Person {
  const p = cast.Owner;
  if (!p) throw new Error('cast not ready');
  return p;
}

interface Envelope {
  result?: { data: unknown };
  error?: { data: { code: string; path: string | null; fieldErrors?: { path: string }[] } };
}

/** POSTs a batch of mutations (or GETs a batch of queries) and returns status and the per-call envelopes. */
async function batch(
  procedures: string[],
  inputs: unknown[],
  method: 'POST' | 'GET' = 'POST',
): Promise<{ status: number; body: Envelope[] | Envelope | Record<string, unknown>; contentType: string }> {
  const payload = Object.fromEntries(inputs.map((input, i) => [String(i), input]));
  const path = `/trpc/${procedures.join(',')}?batch=1`;
  const res =
    method === 'POST'
      ? await owner().browser.fetch(`${app.url}${path}`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify(payload),
        })
      : await owner().browser.fetch(`${app.url}${path}&input=${encodeURIComponent(JSON.stringify(payload))}`);
  return {
    status: res.status,
    body: (await res.json()) as Envelope[],
    contentType: res.headers.get('content-type') ?? '',
  };
}

const codes = (body: unknown) => (body as Envelope[]).map((e) => (e.error ? e.error.data.code : 'OK'));

describe('each call of a batch is its own unit of work', () => {
  it('answers two calls that both fail while writing', async () => {
    const org = await orgWith(owner(), 'Batch failures');
    await owner().browser.trpc.projects.create.mutate({ orgId: org.id, name: 'taken' });
    // Both creates pass validation and fail in the database (unique name).
    const res = await batch(
      ['projects.create', 'projects.create'],
      [
        { orgId: org.id, name: 'taken' },
        { orgId: org.id, name: 'taken' },
      ],
    );
    expect(res.status).toBe(409);
    expect(codes(res.body)).toEqual(['CONFLICT', 'CONFLICT']);
  });

  it('commits a good write beside a failed one, and only the good one', async () => {
    const org = await orgWith(owner(), 'Batch isolation');
    await owner().browser.trpc.projects.create.mutate({ orgId: org.id, name: 'taken' });
    const res = await batch(
      ['projects.create', 'projects.create', 'projects.create'],
      [
        { orgId: org.id, name: 'taken' },
        { orgId: org.id, name: 'fresh', description: 'written by the second call' },
        { orgId: org.id, name: 'taken' },
      ],
    );
    expect(codes(res.body)).toEqual(['CONFLICT', 'OK', 'CONFLICT']);
    const list = await owner().browser.trpc.projects.list.query({ orgId: org.id });
    expect(list.items.map((p) => p.name).sort()).toEqual(['fresh', 'taken']);
    // The failed calls left no audit event behind, the good one exactly one.
    const audit = await owner().browser.trpc.audit.list.query({ orgId: org.id });
    expect(audit.items.filter((e) => e.action === 'project.created')).toHaveLength(2);
  });

  it('answers a batch whose calls all carry a NUL in a written field (the reported hang)', async () => {
    const org = await orgWith(owner(), 'Batch NUL');
    const res = await batch(
      ['projects.create', 'projects.create'],
      [
        { orgId: org.id, name: 'a', description: 'x\u0000y' },
        { orgId: org.id, name: 'b', description: 'x\u0000y' },
      ],
    );
    expect(res.status).toBe(400);
    expect(codes(res.body)).toEqual(['VALIDATION_FAILED', 'VALIDATION_FAILED']);
    expect((res.body as Envelope[])[0]?.error?.data.fieldErrors?.[0]?.path).toBe('description');
  });
});

describe('batch size', () => {
  it(`accepts ${MAX_BATCH_CALLS} calls and refuses ${MAX_BATCH_CALLS + 1} with BATCH_TOO_LARGE before running any`, async () => {
    const org = await orgWith(owner(), 'Batch size');
    const ok = await batch(
      Array.from({ length: MAX_BATCH_CALLS }, () => 'projects.list'),
      Array.from({ length: MAX_BATCH_CALLS }, () => ({ orgId: org.id })),
      'GET',
    );
    expect(ok.status).toBe(200);
    expect(codes(ok.body)).toEqual(Array.from({ length: MAX_BATCH_CALLS }, () => 'OK'));

    const names = Array.from({ length: MAX_BATCH_CALLS + 1 }, (_, i) => `p${i}`);
    const tooMany = await batch(
      names.map(() => 'projects.create'),
      names.map((name) => ({ orgId: org.id, name })),
    );
    expect(tooMany.status).toBe(413);
    expect(codes(tooMany.body)).toEqual(names.map(() => 'BATCH_TOO_LARGE'));
    const list = await owner().browser.trpc.projects.list.query({ orgId: org.id });
    expect(list.total).toBe(0);
  });

  it('counts percent-encoded commas as calls too', async () => {
    const paths = Array.from({ length: MAX_BATCH_CALLS + 1 }, () => 'meta.status').join('%2C');
    const res = await owner().browser.fetch(`${app.url}/trpc/${paths}?batch=1&input=%7B%7D`);
    expect(res.status).toBe(413);
  });
});
