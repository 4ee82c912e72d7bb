/**
 * What outside HTTP tooling expects of the API surface: RFC 6750 challenges on 401, problem types that resolve to
 * an anchor on the error-code page, 405 with Allow for known paths, RateLimit headers on every answer (even the
 * ones refused before a procedure ran), and an OpenAPI document with named schemas and declared headers.
 */

import { request } from 'node:http';
import { ERROR_CODES, generateKey } from '@crowdee/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { problemType } from '../src/errors.ts';
import { DEFAULT_PUBLIC_ORIGIN } from '../src/rest/openapi.ts';
import { keyFor, orgWith, type Person, people } from './helpers/fixtures.ts';
import { type Problem, rest } from './helpers/rest.ts';
import { startTestApp, type TestApp } from './helpers/test-app.ts';

let app: TestApp;
let kate: Person;
let orgId: string;
let key: string;

beforeAll(async () => {
  app = await startTestApp({
    config: { bodyLimitBytes: 4096 },
    limits: {
      policies: {
        anonymous: { quota: 1000, windowSeconds: 60 },
        authenticated: { quota: 1000, windowSeconds: 60 },
      },
    },
  });
  kate = (await people(app, ['Kate'])).Kate as Person;
  orgId = (await orgWith(kate, 'Contract')).id;
  key = (await keyFor(kate, orgId, { role: 'admin' })).key;
});
afterAll(async () => {
  await app?.close();
});

describe('401 answers carry a Bearer challenge (RFC 6750)', () => {
  it('without credentials: the bare challenge', async () => {
    const res = await rest<Problem>(app.url, null, 'GET', '/me');
    expect(res.status).toBe(401);
    expect(res.headers.get('www-authenticate')).toBe('Bearer realm="crowdee"');
  });

  it('with a refused key: error="invalid_token", over REST and tRPC alike', async () => {
    for (const bad of [generateKey().key, 'cdk_broken']) {
      const res = await rest<Problem>(app.url, bad, 'GET', '/me');
      expect(res.status).toBe(401);
      expect(res.headers.get('www-authenticate')).toBe('Bearer realm="crowdee", error="invalid_token"');
    }
    const trpc = await fetch(`${app.url}/trpc/orgs.list`, {
      headers: { authorization: `Bearer ${generateKey().key}` },
    });
    expect(trpc.status).toBe(401);
    expect(trpc.headers.get('www-authenticate')).toBe('Bearer realm="crowdee", error="invalid_token"');
  });

  it('with a revoked key (KEY_REVOKED): error="invalid_token"', async () => {
    const doomed = (await keyFor(kate, orgId, { role: 'viewer', name: 'doomed' })).key;
    expect((await rest(app.url, doomed, 'DELETE', '/keys/current')).status).toBe(200);
    const res = await rest<Problem>(app.url, doomed, 'GET', '/me');
    expect([res.status, res.body.code]).toEqual([401, 'KEY_REVOKED']);
    expect(res.headers.get('www-authenticate')).toBe('Bearer realm="crowdee", error="invalid_token"');
  });

  it('with another scheme: error="invalid_request"', async () => {
    const res = await fetch(`${app.url}/api/v1/me`, { headers: { authorization: 'Basic dXNlcjpwYXNz' } });
    expect(res.status).toBe(401);
    expect(res.headers.get('www-authenticate')).toBe('Bearer realm="crowdee", error="invalid_request"');
  });

  it('no challenge on answers that are not 401', async () => {
    const res = await rest(app.url, key, 'GET', '/me');
    expect(res.status).toBe(200);
    expect(res.headers.get('www-authenticate')).toBeNull();
  });
});

describe('problem types lead to an existing anchor', () => {
  it('every code’s type is /docs/errors#CODE, and that page has an element with that id', async () => {
    const page = await (await fetch(`${app.url}/docs/errors`)).text();
    for (const code of ERROR_CODES) {
      const type = problemType(code);
      expect(type).toBe(`/docs/errors#${code}`);
      expect(page).toContain(`id="${code}"`);
    }
  });

  it('a real problem’s type resolves against the API to the error page and its anchor', async () => {
    const res = await rest<Problem>(app.url, key, 'GET', `/orgs/${orgId}/projects/not-a-uuid`);
    expect(res.body.type).toBe('/docs/errors#VALIDATION_FAILED');
    const target = new URL(res.body.type, `${app.url}/api/v1/orgs`);
    const page = await fetch(target);
    expect(page.status).toBe(200);
    expect(await page.text()).toContain(`id="${target.hash.slice(1)}"`);
  });
});

describe('405 with Allow for a known path and another method', () => {
  it.each([
    ['POST', '/api/v1/me', 'GET, HEAD, OPTIONS'],
    ['PUT', `/api/v1/orgs/${'00000000-0000-4000-8000-000000000000'}/projects`, 'GET, POST, HEAD, OPTIONS'],
    ['POST', '/api/v1/orgs/x/projects/y', 'GET, PATCH, DELETE, HEAD, OPTIONS'],
    ['GET', '/api/v1/keys/revoke-leaked', 'POST, OPTIONS'],
    ['POST', '/openapi.json', 'GET, HEAD'],
    ['DELETE', '/healthz', 'GET, HEAD'],
    ['PUT', '/docs/errors', 'GET, HEAD'],
  ])('%s %s', async (method, path, allow) => {
    const res = await fetch(`${app.url}${path}`, { method, headers: { authorization: `Bearer ${key}` } });
    expect(res.status).toBe(405);
    expect(res.headers.get('allow')).toBe(allow);
    const body = (await res.json()) as Problem;
    expect(body).toMatchObject({ status: 405, code: 'METHOD_NOT_ALLOWED' });
    expect(res.headers.get('ratelimit')).not.toBeNull();
  });

  it('tRPC: a mutation sent as GET, or a query as POST, answers 405 with the method it takes', async () => {
    const get = await kate.browser.fetch(
      `${app.url}/trpc/orgs.create?input=${encodeURIComponent('{"name":"x"}')}`,
    );
    expect([get.status, get.headers.get('allow')]).toEqual([405, 'POST']);
    const post = await kate.browser.fetch(`${app.url}/trpc/orgs.list`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: '{}',
    });
    expect([post.status, post.headers.get('allow')]).toEqual([405, 'GET']);
  });

  it('HEAD is answered wherever GET is, without a body', async () => {
    const res = await fetch(`${app.url}/api/v1/me`, {
      method: 'HEAD',
      headers: { authorization: `Bearer ${key}` },
    });
    expect(res.status).toBe(200);
    expect(await res.text()).toBe('');
    expect(res.headers.get('ratelimit')).not.toBeNull();
    const refused = await fetch(`${app.url}/api/v1/me`, { method: 'HEAD' });
    expect(refused.status).toBe(401);
    expect(refused.headers.get('www-authenticate')).toBe('Bearer realm="crowdee"');
  });

  it('an unknown path is still 404', async () => {
    const res = await fetch(`${app.url}/api/v1/nowhere`, { method: 'POST' });
    expect(res.status).toBe(404);
    expect(res.headers.get('allow')).toBeNull();
  });
});

describe('RateLimit headers on every answer, including those refused before a procedure ran', () => {
  const projects = () => `${app.url}/api/v1/orgs/${orgId}/projects`;
  const trpc = () => `${app.url}/trpc/projects.create`;
  const cases: [string, () => Promise<Response>, number][] = [
    [
      'REST 400 (malformed JSON)',
      () =>
        fetch(projects(), {
          method: 'POST',
          headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
          body: '{"name":',
        }),
      400,
    ],
    [
      'REST 415 (text/plain)',
      () =>
        fetch(projects(), {
          method: 'POST',
          headers: { authorization: `Bearer ${key}`, 'content-type': 'text/plain' },
          body: 'name=x',
        }),
      415,
    ],
    [
      'REST 413 (oversized)',
      () =>
        fetch(projects(), {
          method: 'POST',
          headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
          body: JSON.stringify({ name: 'x', description: 'y'.repeat(10_000) }),
        }),
      413,
    ],
    ['REST 401', () => fetch(`${app.url}/api/v1/me`), 401],
    [
      'REST 404',
      () => fetch(`${app.url}/api/v1/nowhere`, { headers: { authorization: `Bearer ${key}` } }),
      404,
    ],
    [
      'tRPC 400 (malformed JSON)',
      () =>
        kate.browser.fetch(trpc(), {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: '{"orgId":',
        }),
      400,
    ],
    [
      'tRPC 415 (form body)',
      () =>
        kate.browser.fetch(trpc(), {
          method: 'POST',
          headers: { 'content-type': 'application/x-www-form-urlencoded' },
          body: 'orgId=x',
        }),
      415,
    ],
    ['public 404', () => fetch(`${app.url}/docs/nowhere.js`), 404],
  ];

  it.each(cases)('%s', async (_name, send, status) => {
    const res = await send();
    expect(res.status).toBe(status);
    expect(res.headers.get('ratelimit-policy')).toMatch(/q=\d+;w=\d+/);
    expect(res.headers.get('ratelimit')).toMatch(/r=\d+;t=\d+/);
  });

  it('a refused body is charged to its caller like any other request', async () => {
    const remaining = (res: Response) =>
      Number(/"key";r=(\d+)/.exec(res.headers.get('ratelimit') ?? '')?.[1]);
    const [first] = cases;
    const before = remaining(await (first as (typeof cases)[number])[1]());
    const after = remaining(await (first as (typeof cases)[number])[1]());
    expect(after).toBe(before - 1);
  });
});

describe('the OpenAPI document', () => {
  interface Doc {
    externalDocs: { url: string };
    components: { schemas: Record<string, unknown>; headers: Record<string, unknown> };
    paths: Record<string, Record<string, Operation>>;
  }
  interface Operation {
    security?: unknown[];
    responses: Record<
      string,
      {
        headers?: Record<string, { $ref: string }>;
        content?: Record<string, { schema: unknown; example?: Problem }>;
      }
    >;
  }
  let doc: Doc;
  beforeAll(async () => {
    doc = (await (await fetch(`${app.url}/openapi.json`)).json()) as Doc;
  });

  it('names its schemas, and the operations refer to them', () => {
    expect(Object.keys(doc.components.schemas).sort()).toEqual(
      [
        'AuditExport',
        'AuditPage',
        'Dataset',
        'DatasetItem',
        'DatasetItemDetail',
        'DatasetItemId',
        'DatasetItemPage',
        'DatasetPage',
        'ItemBatchResults',
        'LeakReportResult',
        'Me',
        'Ok',
        'OrgRun',
        'OrgRunPage',
        'PipelineSpec',
        'Problem',
        'Project',
        'ProjectPage',
        'Run',
        'RunPage',
        'RunResult',
        'RunResultPage',
        'Status',
        'UsageCounts',
        'UsageReport',
      ].sort(),
    );
    const schemaOf = (path: string, method: string, status: string) =>
      doc.paths[path]?.[method]?.responses[status]?.content?.['application/json']?.schema;
    expect(schemaOf('/me', 'get', '200')).toEqual({ $ref: '#/components/schemas/Me' });
    expect(schemaOf('/orgs/{orgId}/projects/{projectId}', 'get', '200')).toEqual({
      $ref: '#/components/schemas/Project',
    });
  });

  it('public operations declare `security: []`; the others the bearer scheme', () => {
    expect(doc.paths['/status']?.get?.security).toEqual([]);
    expect(doc.paths['/keys/revoke-leaked']?.post?.security).toEqual([]);
    expect(doc.paths['/me']?.get?.security).toEqual([{ bearerAuth: [] }]);
  });

  it('429 declares Retry-After and RateLimit headers; 401 its challenge; every response RateLimit', () => {
    for (const item of Object.values(doc.paths)) {
      for (const operation of Object.values(item)) {
        for (const [status, response] of Object.entries(operation.responses)) {
          // A conditional poll's 304 is answered before the rate limiter and charges nothing: no budget headers.
          if (status === '304') continue;
          expect(response.headers?.RateLimit).toEqual({ $ref: '#/components/headers/RateLimit' });
          expect(response.headers?.['RateLimit-Policy']).toBeDefined();
          if (status === '429') expect(response.headers?.['Retry-After']).toBeDefined();
          if (status === '401') expect(response.headers?.['WWW-Authenticate']).toBeDefined();
        }
      }
    }
    expect(doc.components.headers['Retry-After']).toMatchObject({ required: true });
  });

  it('each error status shows an example problem of that very status', () => {
    for (const item of Object.values(doc.paths)) {
      for (const operation of Object.values(item)) {
        for (const [status, response] of Object.entries(operation.responses)) {
          if (status.startsWith('2') || status === '304') continue;
          const example = response.content?.['application/problem+json']?.example;
          expect(example?.status).toBe(Number(status));
          expect(example?.type).toBe(`/docs/errors#${example?.code}`);
        }
      }
    }
  });

  it('externalDocs is an absolute URL of the host the document was fetched from', () => {
    expect(doc.externalDocs.url).toBe(`${app.url}/docs`);
  });

  it('a Host header that is not a host name is never written into the document', async () => {
    const url = new URL(app.url);
    const fetchWithHost = (host: string) =>
      new Promise<string>((resolve, reject) => {
        const req = request(
          { host: url.hostname, port: url.port, path: '/openapi.json', headers: { host } },
          (res) => {
            let body = '';
            res.on('data', (c: Buffer) => {
              body += c.toString('utf8');
            });
            res.on('end', () => resolve(body));
          },
        );
        req.on('error', reject);
        req.end();
      });
    const hostile = JSON.parse(await fetchWithHost('evil.example"},"x":{"y":"z')) as Doc;
    expect(hostile.externalDocs.url).toBe(`${DEFAULT_PUBLIC_ORIGIN}/docs`);
    const named = JSON.parse(await fetchWithHost('api.example.com')) as Doc;
    expect(named.externalDocs.url).toBe('http://api.example.com/docs');
  });
});
