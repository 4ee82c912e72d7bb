import { generateKey } from '@crowdee/core';
import { adminQuery } from '@crowdee/db/testing';
import { Validator } from '@seriousme/openapi-schema-validator';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { keyFor, orgWith, type Person, people } from './helpers/fixtures.ts';
import { errorCode } from './helpers/http-client.ts';
import { type Problem, rest } from './helpers/rest.ts';
import { startTestApp, type TestApp } from './helpers/test-app.ts';

let app: TestApp;
let kate: Person;
let orgId: string;
let key: string;

beforeAll(async () => {
  app = await startTestApp({ config: { bodyLimitBytes: 4096 } });
  kate = (await people(app, ['Kate'])).Kate as Person;
  orgId = (await orgWith(kate, 'Rest')).id;
  key = (await keyFor(kate, orgId, { role: 'admin' })).key;
});
afterAll(async () => {
  await app?.close();
});

describe('public discovery and documentation', () => {
  it('GET / answers discovery JSON without authentication', async () => {
    const res = await fetch(`${app.url}/`);
    expect(res.status).toBe(200);
    const body = (await res.json()) as { name: string; links: Record<string, string> };
    expect(body.name).toBe('Crowdee API');
    expect(body.links).toMatchObject({
      docs: '/docs',
      openapi: '/openapi.json',
      rest: '/api/v1',
      trpc: '/trpc',
    });
  });

  it('GET /healthz checks the database', async () => {
    const res = await fetch(`${app.url}/healthz`);
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({ status: 'ok', database: 'ok' });
  });

  it('serves a valid OpenAPI 3.1 document generated from the procedures', async () => {
    const res = await fetch(`${app.url}/openapi.json`);
    expect(res.status).toBe(200);
    const doc = (await res.json()) as {
      openapi: string;
      paths: Record<string, Record<string, { security?: unknown[]; responses: Record<string, unknown> }>>;
    };
    expect(doc.openapi).toBe('3.1.0');
    const result = await new Validator().validate(doc as unknown as Parameters<Validator['validate']>[0]);
    expect(result.errors ?? []).toEqual([]);
    expect(result.valid).toBe(true);
    expect(Object.keys(doc.paths).sort()).toEqual([
      '/keys/current',
      '/keys/current/usage',
      '/keys/revoke-leaked',
      '/me',
      '/orgs/{orgId}/audit',
      '/orgs/{orgId}/audit/export',
      '/orgs/{orgId}/datasets/{datasetId}',
      '/orgs/{orgId}/projects',
      '/orgs/{orgId}/projects/{projectId}',
      '/orgs/{orgId}/projects/{projectId}/datasets',
      '/orgs/{orgId}/projects/{projectId}/datasets/{datasetId}',
      '/orgs/{orgId}/projects/{projectId}/datasets/{datasetId}/files',
      '/orgs/{orgId}/projects/{projectId}/datasets/{datasetId}/items',
      '/orgs/{orgId}/projects/{projectId}/datasets/{datasetId}/items/{itemId}',
      '/orgs/{orgId}/projects/{projectId}/datasets/{datasetId}/runs',
      '/orgs/{orgId}/projects/{projectId}/datasets/{datasetId}/runs/{runId}',
      '/orgs/{orgId}/projects/{projectId}/datasets/{datasetId}/runs/{runId}/cancel',
      '/orgs/{orgId}/projects/{projectId}/datasets/{datasetId}/runs/{runId}/results',
      '/orgs/{orgId}/projects/{projectId}/datasets/{datasetId}/runs/{runId}/results.jsonl',
      '/orgs/{orgId}/runs',
      '/status',
    ]);
    expect(doc.paths['/me']?.get?.security).toEqual([{ bearerAuth: [] }]);
    expect(doc.paths['/keys/revoke-leaked']?.post?.security).toEqual([]);
    expect(Object.keys(doc.paths['/orgs/{orgId}/projects']?.post?.responses ?? {})).toEqual(
      expect.arrayContaining(['201', '400', '401', '403', '404', '409', '413', '415', '429']),
    );
  });

  it('serves the interactive reference and the error-code page without authentication', async () => {
    const docs = await fetch(`${app.url}/docs`);
    expect(docs.status).toBe(200);
    expect(await docs.text()).toContain('/docs/assets/swagger-ui-bundle.js');
    expect((await fetch(`${app.url}/docs/assets/swagger-ui-bundle.js`)).status).toBe(200);
    const errors = await (await fetch(`${app.url}/docs/errors`)).text();
    expect(errors).toContain('id="ORG_OUT_OF_SCOPE"');
  });
});

describe('errors a script can act on', () => {
  it('400 lists the field errors', async () => {
    const res = await rest<Problem>(app.url, key, 'POST', `/orgs/${orgId}/projects`, {
      name: '',
      description: 5,
    });
    expect(res.status).toBe(400);
    expect(res.contentType).toMatch(/^application\/problem\+json/);
    expect(res.body.code).toBe('VALIDATION_FAILED');
    expect(res.body.errors?.map((e) => e.path).sort()).toEqual(['description', 'name']);
  });

  it('400 for a path parameter that is not an id', async () => {
    const res = await rest<Problem>(app.url, key, 'GET', `/orgs/${orgId}/projects/not-a-uuid`);
    expect([res.status, res.body.code]).toEqual([400, 'VALIDATION_FAILED']);
  });

  it('400 for malformed JSON, 415 for another content type, 413 for an oversized body', async () => {
    const malformed = await fetch(`${app.url}/api/v1/orgs/${orgId}/projects`, {
      method: 'POST',
      headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
      body: '{"name":',
    });
    expect(malformed.status).toBe(400);
    expect(((await malformed.json()) as Problem).code).toBe('BAD_REQUEST');
    const text = await fetch(`${app.url}/api/v1/orgs/${orgId}/projects`, {
      method: 'POST',
      headers: { authorization: `Bearer ${key}`, 'content-type': 'text/plain' },
      body: 'name=x',
    });
    expect(text.status).toBe(415);
    expect(((await text.json()) as Problem).code).toBe('UNSUPPORTED_MEDIA_TYPE');
    const big = await rest<Problem>(app.url, key, 'POST', `/orgs/${orgId}/projects`, {
      name: 'x',
      description: 'y'.repeat(10_000),
    });
    expect([big.status, big.body.code]).toEqual([413, 'PAYLOAD_TOO_LARGE']);
    expect((await rest<{ total: number }>(app.url, key, 'GET', `/orgs/${orgId}/projects`)).body.total).toBe(
      0,
    );
  });

  it('413 and 415 reach tRPC callers too', async () => {
    const res = await kate.browser.fetch(`${app.url}/trpc/projects.create`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ orgId, name: 'x', description: 'y'.repeat(10_000) }),
    });
    expect(res.status).toBe(413);
    expect(((await res.json()) as { error: { data: { code: string } } }).error.data.code).toBe(
      'PAYLOAD_TOO_LARGE',
    );
  });

  it('404 problem for unknown routes, 201 for creation, never a stack trace', async () => {
    const missing = await rest<Problem>(app.url, key, 'GET', '/nope');
    expect([missing.status, missing.body.code]).toEqual([404, 'NOT_FOUND']);
    const created = await rest<{ id: string }>(app.url, key, 'POST', `/orgs/${orgId}/projects`, {
      name: 'made',
    });
    expect(created.status).toBe(201);
    for (const body of [missing.body, created.body])
      expect(JSON.stringify(body)).not.toMatch(/at .*\.ts:\d+/);
  });

  it('409 for a conflicting name', async () => {
    await rest(app.url, key, 'POST', `/orgs/${orgId}/projects`, { name: 'dup' });
    const again = await rest<Problem>(app.url, key, 'POST', `/orgs/${orgId}/projects`, { name: 'dup' });
    expect([again.status, again.body.code]).toEqual([409, 'CONFLICT']);
  });

  it('answers 503, never success, when the database is down', async () => {
    const down = await startTestApp();
    const person = (await people(down, ['Down'])).Down as Person;
    const org = await orgWith(person, 'Down');
    const viewerKey = (await keyFor(person, org.id, { role: 'viewer' })).key;
    // Take the database away: refuse new connections and terminate the pool's existing ones.
    const dbName = new URL(down.dbUrl).pathname.slice(1);
    await adminQuery(
      down.dbUrl.replace(/\/[^/]*$/, '/postgres'),
      `alter database "${dbName}" allow_connections false`,
    );
    await adminQuery(
      down.dbUrl.replace(/\/[^/]*$/, '/postgres'),
      'select pg_terminate_backend(pid) from pg_stat_activity where datname = $1 and pid <> pg_backend_pid()',
      [dbName],
    );
    const unknownKey = await rest<Problem>(down.url, generateKey().key, 'GET', '/me');
    expect([unknownKey.status, unknownKey.body.code]).toEqual([503, 'SERVICE_UNAVAILABLE']);
    // A key that is not yet cached cannot be verified: 503, never a success and never a 500.
    down.deps.keyCache.clear();
    const known = await rest<Problem>(down.url, viewerKey, 'GET', `/orgs/${org.id}/projects`);
    expect([known.status, known.body.code]).toEqual([503, 'SERVICE_UNAVAILABLE']);
    const session = await errorCode(person.browser.trpc.auth.me.query());
    expect(session).toBe('SERVICE_UNAVAILABLE');
    // Malformed keys are still refused offline, without the database.
    expect((await rest<Problem>(down.url, 'cdk_broken', 'GET', '/me')).status).toBe(401);
    expect((await fetch(`${down.url}/healthz`)).status).toBe(503);
    await adminQuery(
      down.dbUrl.replace(/\/[^/]*$/, '/postgres'),
      `alter database "${dbName}" allow_connections true`,
    );
    await down.close();
  });
});
