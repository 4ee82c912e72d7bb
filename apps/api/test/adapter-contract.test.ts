/**
 * What the REST and tRPC adapters answer at the edges, byte for byte where clients can see it: written against the
 * stock adapters (trpc-to-openapi's node-http handler, tRPC's fetch-based Express adapter) before they were replaced
 * by Express-native ones, so any difference between old and new shows here.
 */
import { generateKey } from '@crowdee/core';
import { adminQuery } from '@crowdee/db/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { keyFor, orgWith, type Person, people } from './helpers/fixtures.ts';
import { errorCode } from './helpers/http-client.ts';
import { raw } from './helpers/raw-http.ts';
import { type Problem, rest } from './helpers/rest.ts';
import { startTestApp, type TestApp } from './helpers/test-app.ts';

let app: TestApp;
let kate: Person;
let orgId: string;
let key: string;
let viewerKey: string;
const projectIds: string[] = [];

beforeAll(async () => {
  app = await startTestApp();
  kate = (await people(app, ['Kate'])).Kate as Person;
  orgId = (await orgWith(kate, 'Contract')).id;
  key = (await keyFor(kate, orgId, { role: 'admin' })).key;
  viewerKey = (await keyFor(kate, orgId, { role: 'viewer', name: 'viewer' })).key;
  for (const name of ['one', 'two', 'three']) {
    const created = await rest<{ id: string }>(app.url, key, 'POST', `/orgs/${orgId}/projects`, { name });
    projectIds.push(created.body.id);
  }
});
afterAll(async () => {
  await app?.close();
});

const bearer = () => ({ authorization: `Bearer ${key}` });

describe('REST input, as trpc-to-openapi assembles it', () => {
  it('coerces query numbers, drops empty parameters, refuses repeated scalars', async () => {
    const page = await rest<{ items: unknown[]; total: number }>(
      app.url,
      key,
      'GET',
      `/orgs/${orgId}/projects?limit=1&offset=1`,
    );
    expect([page.status, page.body.items.length, page.body.total]).toEqual([200, 1, 3]);
    const empty = await rest<{ items: unknown[] }>(app.url, key, 'GET', `/orgs/${orgId}/projects?limit=`);
    expect([empty.status, empty.body.items.length]).toEqual([200, 3]);
    const word = await rest<Problem>(app.url, key, 'GET', `/orgs/${orgId}/projects?limit=abc`);
    expect([word.status, word.body.code, word.body.errors?.[0]?.path]).toEqual([
      400,
      'VALIDATION_FAILED',
      'limit',
    ]);
    const twice = await rest<Problem>(app.url, key, 'GET', `/orgs/${orgId}/projects?limit=1&limit=2`);
    expect([twice.status, twice.body.code]).toEqual([400, 'VALIDATION_FAILED']);
  });

  it('takes path parameters over query and body fields of the same name', async () => {
    const other = '00000000-0000-4000-8000-000000000000';
    const listed = await rest<{ total: number }>(
      app.url,
      key,
      'GET',
      `/orgs/${orgId}/projects?orgId=${other}`,
    );
    expect([listed.status, listed.body.total]).toEqual([200, 3]);
    const target = projectIds[0] ?? '';
    const renamed = await rest<{ id: string; name: string }>(
      app.url,
      key,
      'PATCH',
      `/orgs/${orgId}/projects/${target}`,
      { projectId: projectIds[1], orgId: other, name: 'renamed' },
    );
    expect([renamed.status, renamed.body.id, renamed.body.name]).toEqual([200, target, 'renamed']);
  });

  it('answers 415 for a body operation sent without a content type, even with no body', async () => {
    const res = await raw(app.url, 'POST', '/api/v1/keys/revoke-leaked', { headers: bearer() });
    expect(res.status).toBe(415);
    expect(res.headers['content-type']).toBe('application/problem+json');
    const problem = JSON.parse(res.text) as Problem & { instance?: string };
    expect([problem.code, problem.detail, problem.instance]).toEqual([
      'UNSUPPORTED_MEDIA_TYPE',
      'Missing content-type header',
      '/api/v1/keys/revoke-leaked',
    ]);
  });

  it('answers JSON with Content-Length, 200 for a read and for a non-creating write, 201 for a creation', async () => {
    const me = await raw(app.url, 'GET', '/api/v1/me', { headers: bearer() });
    expect([me.status, me.headers['content-type']]).toEqual([200, 'application/json']);
    expect(me.headers['content-length']).toBe(String(Buffer.byteLength(me.text)));
    const status = await raw(app.url, 'GET', '/api/v1/status');
    expect(status.status).toBe(200);
    const leaked = await raw(app.url, 'POST', '/api/v1/keys/revoke-leaked', {
      body: { keys: [generateKey().key] },
    });
    expect([leaked.status, leaked.headers['content-type']]).toEqual([200, 'application/json']);
  });

  it('a HEAD runs the GET operation and sends no body', async () => {
    const head = await raw(app.url, 'HEAD', '/api/v1/me', { headers: bearer() });
    expect([head.status, head.text]).toEqual([200, '']);
  });
});

describe('REST and tRPC errors carry the same fields', () => {
  it('403 FORBIDDEN names the role the action needs, on both transports', async () => {
    const problem = await rest<Problem & { requiredRole?: string }>(
      app.url,
      viewerKey,
      'POST',
      `/orgs/${orgId}/projects`,
      { name: 'not allowed' },
    );
    expect([problem.status, problem.body.code, problem.body.requiredRole]).toEqual([
      403,
      'FORBIDDEN',
      'member',
    ]);
    const res = await raw(app.url, 'POST', '/trpc/projects.create', {
      headers: { authorization: `Bearer ${viewerKey}` },
      body: { orgId, name: 'not allowed' },
    });
    const body = JSON.parse(res.text) as { error: { data: Record<string, unknown> } };
    expect(res.status).toBe(403);
    expect(body.error.data).toMatchObject({ code: 'FORBIDDEN', httpStatus: 403, requiredRole: 'member' });
  });
});

describe('tRPC over plain HTTP, as the stock adapter answered', () => {
  it('a single GET query: result envelope, JSON, Vary on the accept headers', async () => {
    const res = await raw(app.url, 'GET', '/trpc/keys.current', { headers: bearer() });
    expect(res.status).toBe(200);
    expect(res.headers['content-type']).toBe('application/json');
    expect(String(res.headers.vary).toLowerCase()).toContain('trpc-accept');
    const body = JSON.parse(res.text) as { result: { data: { key: { name: string } } } };
    expect(body.result.data.key.name).toBe('test key');
  });

  it('a GET input is JSON in the `input` parameter; broken JSON is a 400 PARSE-level error', async () => {
    const input = encodeURIComponent(JSON.stringify({ orgId, limit: 2 }));
    const ok = await raw(app.url, 'GET', `/trpc/projects.list?input=${input}`, { headers: bearer() });
    const page = JSON.parse(ok.text) as { result: { data: { items: unknown[] } } };
    expect([ok.status, page.result.data.items.length]).toEqual([200, 2]);
    const broken = await raw(app.url, 'GET', '/trpc/projects.list?input=%7Bnot-json', { headers: bearer() });
    const error = JSON.parse(broken.text) as { error: { data: { code: string; httpStatus: number } } };
    expect([broken.status, error.error.data.code, error.error.data.httpStatus]).toEqual([
      400,
      'BAD_REQUEST',
      400,
    ]);
  });

  it('a query sent as POST and a mutation as GET: 405 METHOD_NOT_ALLOWED with Allow', async () => {
    const post = await raw(app.url, 'POST', '/trpc/keys.current', { headers: bearer(), body: {} });
    expect([post.status, post.headers.allow]).toEqual([405, 'GET']);
    const get = await raw(app.url, 'GET', '/trpc/projects.create', { headers: bearer() });
    expect([get.status, get.headers.allow]).toEqual([405, 'POST']);
    const body = JSON.parse(get.text) as { error: { data: { code: string; path: string } } };
    expect([body.error.data.code, body.error.data.path]).toEqual(['METHOD_NOT_ALLOWED', 'projects.create']);
  });

  it('a batch mixing success and failure answers 207 with one envelope per call, in order', async () => {
    const input = encodeURIComponent(JSON.stringify({ 0: undefined, 1: { orgId: 'nope' } }));
    const res = await raw(app.url, 'GET', `/trpc/keys.current,projects.list?batch=1&input=${input}`, {
      headers: bearer(),
    });
    expect(res.status).toBe(207);
    const body = JSON.parse(res.text) as [{ result: unknown }, { error: { data: { code: string } } }];
    expect(body[0].result).toBeDefined();
    expect(body[1].error.data.code).toBe('VALIDATION_FAILED');
  });

  it('a batch whose input is not an object fails every call with BAD_REQUEST', async () => {
    const res = await raw(app.url, 'GET', '/trpc/keys.current,meta.status?batch=1&input=%5B1%5D', {
      headers: bearer(),
    });
    const body = JSON.parse(res.text) as { error: { data: { code: string } } }[];
    expect(res.status).toBe(400);
    expect(body.map((b) => b.error.data.code)).toEqual(['BAD_REQUEST', 'BAD_REQUEST']);
  });

  it('a POST mutation reads the JSON body; a batch POST reads it by call index', async () => {
    const single = await raw(app.url, 'POST', '/trpc/projects.create', {
      headers: bearer(),
      body: { orgId, name: 'via trpc' },
    });
    const created = JSON.parse(single.text) as { result: { data: { name: string } } };
    expect([single.status, created.result.data.name]).toEqual([200, 'via trpc']);
    const batch = await raw(app.url, 'POST', '/trpc/projects.create,projects.create?batch=1', {
      headers: bearer(),
      body: { 0: { orgId, name: 'batch a' }, 1: { orgId, name: 'batch b' } },
    });
    const both = JSON.parse(batch.text) as { result: { data: { name: string } } }[];
    expect([batch.status, both.map((b) => b.result.data.name)]).toEqual([200, ['batch a', 'batch b']]);
  });
});

describe('unexpected faults', () => {
  it('answer a generic 500 on both transports, and the server log keeps the original error and its stack', async () => {
    await adminQuery(app.dbUrl, 'alter table projects rename to projects_gone');
    try {
      const logged = app.logs.lines.length;
      const problem = await rest<Problem>(app.url, key, 'GET', `/orgs/${orgId}/projects`);
      expect([problem.status, problem.body.code]).toEqual([500, 'INTERNAL']);
      expect(JSON.stringify(problem.body)).not.toMatch(/projects_gone|relation|select|at .*\.ts/);
      const code = await errorCode(kate.browser.trpc.projects.list.query({ orgId }));
      expect(code).toBe('INTERNAL');
      const log = app.logs.lines.slice(logged).join('');
      // Both requests logged the database's own error, with a stack, not only our generic INTERNAL.
      expect(log.match(/relation \\"projects\\" does not exist/g)?.length ?? 0).toBeGreaterThanOrEqual(2);
      // …with its stack: the frame of our code that ran the query.
      expect(log).toContain('projects.service.ts');
    } finally {
      await adminQuery(app.dbUrl, 'alter table projects_gone rename to projects');
    }
  });

  it('a fault while resolving the caller’s role is logged with the original, not only a fresh INTERNAL', async () => {
    await adminQuery(app.dbUrl, 'alter table memberships rename to memberships_gone');
    try {
      const logged = app.logs.lines.length;
      // A session reads its membership on every request (keys use the credential cache).
      const code = await errorCode(kate.browser.trpc.projects.list.query({ orgId }));
      expect(code).toBe('INTERNAL');
      const log = app.logs.lines.slice(logged).join('');
      expect(log).toMatch(/relation \\"memberships\\" does not exist/);
      expect(log).toMatch(/at [^\\]*membershipStanding/);
    } finally {
      await adminQuery(app.dbUrl, 'alter table memberships_gone rename to memberships');
    }
  });
});

describe('the everyday shapes are answered without a streamed body', () => {
  it('single and batched GETs and POSTs come back whole, with Content-Length', async () => {
    const input = encodeURIComponent(JSON.stringify({ 0: { orgId }, 1: { orgId } }));
    const answers = [
      await raw(app.url, 'GET', '/trpc/keys.current', { headers: bearer() }),
      await raw(app.url, 'GET', `/trpc/projects.list,projects.list?batch=1&input=${input}`, {
        headers: bearer(),
      }),
      await raw(app.url, 'POST', '/trpc/projects.create', {
        headers: bearer(),
        body: { orgId, name: 'whole' },
      }),
      await raw(app.url, 'GET', '/api/v1/me', { headers: bearer() }),
    ];
    for (const res of answers) {
      expect(res.status).toBe(200);
      expect(res.headers['transfer-encoding']).toBeUndefined();
      expect(res.headers['content-length']).toBe(String(Buffer.byteLength(res.text)));
    }
  });
});
