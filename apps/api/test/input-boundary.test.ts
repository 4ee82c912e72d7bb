/**
 * The input boundary, attacked over raw HTTP: NUL and lone surrogates in any string of any procedure (both
 * transports), crafted cursors, deep JSON, compressed bodies, malformed URLs — each a 4xx with our JSON, never a
 * 500, an HTML page or a stack trace, whatever NODE_ENV says.
 */
import { randomUUID } from 'node:crypto';
import { MAX_JSON_DEPTH } from '@crowdee/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApp } from '../src/app.ts';
import { type Listening, listen } from '../src/http/listen.ts';
import { appRouter } from '../src/routers/index.ts';
import type { Meta } from '../src/trpc.ts';
import { keyFor, orgWith, type Person, people } from './helpers/fixtures.ts';
import { Browser } from './helpers/http-client.ts';
import { startTestApp, type TestApp } from './helpers/test-app.ts';

let app: TestApp;
let owner: Person;
let orgId: string;
let key: string;

beforeAll(async () => {
  app = await startTestApp();
  owner = (await people(app, ['Owner'])).Owner as Person;
  orgId = (await orgWith(owner, 'Boundary')).id;
  key = (await keyFor(owner, orgId, { role: 'admin' })).key;
});
afterAll(async () => {
  await app?.close();
});

interface ProcedureDef {
  _def: { meta?: Meta; type: 'query' | 'mutation' | 'subscription' };
}
const procedures = Object.entries(appRouter._def.procedures as unknown as Record<string, ProcedureDef>);

interface Answer {
  status: number;
  contentType: string;
  text: string;
  json: () => Record<string, unknown> & { error?: { data?: Record<string, unknown> } };
}

async function send(url: string, init: RequestInit = {}, via: Browser = owner.browser): Promise<Answer> {
  const res = await via.fetch(url, init);
  const text = await res.text();
  return {
    status: res.status,
    contentType: res.headers.get('content-type') ?? '',
    text,
    json: () => JSON.parse(text),
  };
}

/** One tRPC call with `input`, as the procedure's kind requires (queries by GET, mutations by POST). */
function trpcCall(path: string, type: string, input: unknown): Promise<Answer> {
  if (type === 'query') {
    return send(`${app.url}/trpc/${path}?input=${encodeURIComponent(JSON.stringify(input))}`);
  }
  return send(`${app.url}/trpc/${path}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(input),
  });
}

const fieldPath = (a: Answer) =>
  (a.json().error?.data?.fieldErrors as { path: string }[] | undefined)?.[0]?.path;

const BAD_STRINGS: [string, string][] = [
  ['NUL', 'a\u0000b'],
  ['lone high surrogate', 'name\ud800'],
  ['lone low surrogate', '\udc00'],
];

describe('every procedure refuses NUL and lone surrogates at one boundary', () => {
  it('covers a real list of procedures', () => {
    expect(procedures.length).toBeGreaterThan(20);
  });

  for (const [path, proc] of procedures) {
    it(`tRPC ${path}`, async () => {
      for (const [, bad] of BAD_STRINGS) {
        // Whatever the procedure's own schema, a string anywhere in its input is checked before it runs.
        for (const input of [
          { orgId, probe: bad },
          { orgId, nested: { list: ['ok', bad] } },
        ]) {
          const answer = await trpcCall(path, proc._def.type, input);
          expect(answer.status, `${path} ${JSON.stringify(input)}`).toBe(400);
          expect(answer.json().error?.data?.code).toBe('VALIDATION_FAILED');
          expect(fieldPath(answer)).toBe('probe' in input ? 'probe' : 'nested.list.1');
        }
      }
    });
  }

  const restRoutes = procedures.flatMap(([path, proc]) => {
    const openapi = proc._def.meta?.openapi;
    return openapi ? [{ path, method: openapi.method, route: openapi.path }] : [];
  });

  it('covers every REST route', () => {
    expect(restRoutes.length).toBeGreaterThan(5);
  });

  for (const route of restRoutes) {
    it(`REST ${route.method} ${route.route}`, async () => {
      const url = `${app.url}/api/v1${route.route.replace('{orgId}', orgId).replace(/\{\w+\}/g, randomUUID())}`;
      // The multipart upload route reads no JSON: its query string is probed instead, like a GET's.
      const hasBody =
        (route.method === 'POST' || route.method === 'PATCH' || route.method === 'PUT') &&
        route.path !== 'items.upload';
      const headers = { authorization: `Bearer ${key}`, 'content-type': 'application/json' };
      for (const [, bad] of BAD_STRINGS) {
        const answer = hasBody
          ? await send(url, {
              method: route.method,
              headers,
              body: JSON.stringify({ probe: bad, name: 'x' }),
            })
          : await send(`${url}?probe=${encodeURIComponent(bad.replace(/[\ud800-\udfff]/g, ''))}%00`, {
              method: route.method,
              headers: {
                authorization: `Bearer ${key}`,
                ...(route.method === 'POST' ? { 'content-type': 'multipart/form-data; boundary=x' } : {}),
              },
            });
        expect(answer.status, `${route.method} ${route.route}`).toBe(400);
        expect(answer.contentType).toMatch(/^application\/problem\+json/);
        const problem = answer.json() as { code?: string; errors?: { path: string }[] };
        expect(problem.code).toBe('VALIDATION_FAILED');
        expect(problem.errors?.[0]?.path).toBe('probe');
      }
    });
  }
});

describe('the fuzzed requests that answered 500', () => {
  it('sign-in email, project description, session id and names with NUL or a lone surrogate: 400 naming the field', async () => {
    const anonymous = new Browser(app.url);
    const cases: [Browser, string, string, Record<string, unknown>, string][] = [
      [anonymous, 'auth.signIn', 'mutation', { email: 'a\u0000@example.com', password: 'x' }, 'email'],
      [
        anonymous,
        'auth.signUp',
        'mutation',
        { email: 'a@example.com', password: 'x'.repeat(12), name: 'x\ud800' },
        'name',
      ],
      [
        owner.browser,
        'projects.create',
        'mutation',
        { orgId, name: 'p', description: 'x\u0000y' },
        'description',
      ],
      [owner.browser, 'sessions.revoke', 'mutation', { id: 'abc\u0000' }, 'id'],
      [owner.browser, 'orgs.create', 'mutation', { name: '\ud800' }, 'name'],
      [owner.browser, 'audit.list', 'query', { orgId, cursor: 'abc\u0000' }, 'cursor'],
    ];
    for (const [who, path, type, input, field] of cases) {
      const answer =
        type === 'query'
          ? await send(`${app.url}/trpc/${path}?input=${encodeURIComponent(JSON.stringify(input))}`, {}, who)
          : await send(
              `${app.url}/trpc/${path}`,
              {
                method: 'POST',
                headers: { 'content-type': 'application/json' },
                body: JSON.stringify(input),
              },
              who,
            );
      expect(answer.status, path).toBe(400);
      expect(answer.json().error?.data?.code).toBe('VALIDATION_FAILED');
      expect(fieldPath(answer)).toBe(field);
    }
  });

  it('crafted audit cursors: 400 VALIDATION_FAILED on the cursor', async () => {
    const b64 = (s: string) => Buffer.from(s).toString('base64url');
    const cursors = [
      b64('2020-01-01T00:00:00.000Z|not-a-uuid'),
      b64(`not a date|${randomUUID()}`),
      b64(`2020-01-01T00:00:00.000Z|${randomUUID()}|extra`),
      b64("2020-01-01T00:00:00.000Z|' or 1=1 --"),
      b64('|'),
      '!!!not base64!!!',
      b64(`+275760-09-13T00:00:00.001Z|${randomUUID()}`),
    ];
    for (const cursor of cursors) {
      const answer = await trpcCall('audit.list', 'query', { orgId, cursor });
      expect(answer.status, cursor).toBe(400);
      expect(answer.json().error?.data?.code).toBe('VALIDATION_FAILED');
      expect(fieldPath(answer)).toBe('cursor');
    }
    // A real cursor still pages.
    for (let i = 0; i < 3; i++) await owner.browser.trpc.projects.create.mutate({ orgId, name: `page-${i}` });
    const first = await owner.browser.trpc.audit.list.query({ orgId, limit: 1 });
    expect(first.nextCursor).not.toBeNull();
    const second = await owner.browser.trpc.audit.list.query({
      orgId,
      limit: 1,
      cursor: first.nextCursor ?? '',
    });
    expect(second.items[0]?.id).not.toBe(first.items[0]?.id);
  });

  it(`JSON nested deeper than ${MAX_JSON_DEPTH}: 400 on both transports, by body and by query`, async () => {
    const deep = `${'['.repeat(20_000)}${']'.repeat(20_000)}`;
    const trpcBody = await send(`${app.url}/trpc/projects.create`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: `{"orgId":"${orgId}","name":${deep}}`,
    });
    expect(trpcBody.status).toBe(400);
    expect(trpcBody.json().error?.data?.code).toBe('BAD_REQUEST');
    // Kept under Node's 16 KiB header limit, which answers 431 on its own.
    const deepQuery = `${'['.repeat(1_000)}${']'.repeat(1_000)}`;
    const trpcQuery = await send(
      `${app.url}/trpc/projects.list?input=${encodeURIComponent(`{"orgId":"${orgId}","x":${deepQuery}}`)}`,
    );
    expect(trpcQuery.status).toBe(400);
    const restBody = await send(`${app.url}/api/v1/orgs/${orgId}/projects`, {
      method: 'POST',
      headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
      body: `{"name":${deep}}`,
    });
    expect(restBody.status).toBe(400);
    expect(restBody.contentType).toMatch(/^application\/problem\+json/);
    // Exactly at the limit is still just a validation matter for the procedure's schema.
    const atLimit = `${'['.repeat(MAX_JSON_DEPTH - 1)}${']'.repeat(MAX_JSON_DEPTH - 1)}`;
    const ok = await send(`${app.url}/trpc/projects.create`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: `{"orgId":"${orgId}","name":${atLimit}}`,
    });
    expect(ok.status).toBe(400);
    expect(ok.json().error?.data?.code).toBe('VALIDATION_FAILED');
  });

  it('any Content-Encoding: 415, even with a garbage body', async () => {
    for (const encoding of ['gzip', 'deflate', 'br', 'x-unknown']) {
      for (const [url, auth] of [
        [`${app.url}/trpc/projects.create`, {}],
        [`${app.url}/api/v1/orgs/${orgId}/projects`, { authorization: `Bearer ${key}` }],
      ] as const) {
        const answer = await send(url, {
          method: 'POST',
          headers: { ...auth, 'content-type': 'application/json', 'content-encoding': encoding },
          body: 'garbage that is not compressed at all',
        });
        expect(answer.status, `${encoding} ${url}`).toBe(415);
        expect(answer.text).toMatch(/UNSUPPORTED_MEDIA_TYPE/);
      }
    }
  });

  it('malformed percent-encoding in the URL: 400 problem+json on every surface', async () => {
    for (const path of [
      '/trpc/%E0%A4%A',
      '/trpc/auth.me%ZZ',
      '/api/v1/%E0%A4%A',
      '/api/v1/orgs/%C0/projects',
      '/%E0%A4%A',
      '/docs/%FF',
    ]) {
      const answer = await send(`${app.url}${path}`);
      expect(answer.status, path).toBe(400);
      expect(answer.contentType, path).toMatch(/^application\/problem\+json/);
      expect(answer.json().code).toBe('BAD_REQUEST');
    }
  });
});

describe('malformed URLs are still rate-limited', () => {
  it('counts them against the anonymous budget like any request', async () => {
    const limited = await startTestApp({
      limits: { policies: { anonymous: { quota: 3, windowSeconds: 60 } } },
    });
    try {
      for (const base of ['/trpc/', '/api/v1/', '/']) {
        const statuses: number[] = [];
        for (let i = 0; i < 5; i++) {
          const res = await fetch(`${limited.url}${base}%E0%A4%A`, { headers: { 'x-probe': base } });
          statuses.push(res.status);
          expect(res.headers.get('content-type') ?? '').not.toMatch(/html/);
          await res.arrayBuffer();
        }
        // /trpc and /api share the anonymous bucket of this IP; the public surface has its own limiter instance.
        expect(statuses).toContain(429);
        expect(statuses.every((s) => s === 400 || s === 429)).toBe(true);
      }
    } finally {
      await limited.close();
    }
  });
});

describe('no HTML error page and no stack trace, whatever NODE_ENV is', () => {
  const previous = process.env.NODE_ENV;
  for (const env of [undefined, 'development', 'production']) {
    it(`NODE_ENV=${env ?? '(unset)'}`, async () => {
      if (env === undefined) delete process.env.NODE_ENV;
      else process.env.NODE_ENV = env;
      let server: Listening | undefined;
      try {
        // Express reads NODE_ENV when the app is created: build one under this environment.
        server = await listen(createApp(app.deps), 0, '127.0.0.1');
        const url = server.url;
        const attempts: [string, RequestInit][] = [
          ['/trpc/%E0%A4%A', {}],
          ['/api/v1/%E0%A4%A', {}],
          ['/%E0%A4%A', {}],
          ['/docs/%FF', {}],
          [
            '/trpc/auth.signIn',
            { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"email": ' },
          ],
          [
            '/trpc/auth.signIn',
            {
              method: 'POST',
              headers: { 'content-type': 'application/json', 'content-encoding': 'gzip' },
              body: 'x',
            },
          ],
          [
            '/trpc/auth.signIn',
            {
              method: 'POST',
              headers: { 'content-type': 'application/json' },
              body: `{"email":${'['.repeat(20_000)}`,
            },
          ],
          ['/trpc/auth.signIn', { method: 'POST', headers: { 'content-type': 'text/html' }, body: '<x>' }],
          [
            '/trpc/auth.signIn',
            {
              method: 'POST',
              headers: { 'content-type': 'application/json' },
              body: JSON.stringify({ email: 'x'.repeat(200_000) }),
            },
          ],
          [
            '/api/v1/keys/revoke-leaked',
            {
              method: 'POST',
              headers: { 'content-type': 'application/json', 'content-encoding': 'br' },
              body: 'x',
            },
          ],
          ['/api/v1/me', { headers: { authorization: 'Bearer \u00ff' } }],
          ['/trpc/nope.nothing', {}],
          ['/api/v1/nothing', { method: 'PROPFIND' }],
        ];
        for (const [path, init] of attempts) {
          const res = await fetch(`${url}${path}`, init);
          const text = await res.text();
          const label = `${env ?? '(unset)'} ${init.method ?? 'GET'} ${path}`;
          expect(res.status, label).toBeGreaterThanOrEqual(400);
          expect(res.status, label).toBeLessThan(500);
          expect(res.headers.get('content-type') ?? '', label).toMatch(/json/);
          expect(text, label).not.toMatch(
            /<html|<pre>|<!DOCTYPE|\bat .*\(|node_modules|\/work\/|URIError|SyntaxError/i,
          );
        }
      } finally {
        if (previous === undefined) delete process.env.NODE_ENV;
        else process.env.NODE_ENV = previous;
        await server?.closeNow();
      }
    });
  }
});
