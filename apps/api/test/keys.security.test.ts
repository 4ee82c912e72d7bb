/**
 * Security cases × every key-authenticated REST route. Each cell builds its own organization, project and key,
 * then asserts status, stable code and the problem+json content type.
 */
import { generateKey, keyChecksum } from '@crowdee/core';
import { countStatements } from '@crowdee/db';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { keyFor, orgWith, type Person, people } from './helpers/fixtures.ts';
import { type Problem, rest } from './helpers/rest.ts';
import { startTestApp, type TestApp } from './helpers/test-app.ts';

let app: TestApp;
let cast: Record<string, Person>;
const HOUR = 3_600_000;

beforeAll(async () => {
  app = await startTestApp({ config: { sessions: { absoluteMs: 30 * 24 * HOUR, idleMs: 30 * 24 * HOUR } } });
  cast = await people(app, ['Owner', 'Other']);
});
afterAll(async () => {
  await app?.close();
});

interface Fixture {
  key: string | null;
  orgId: string;
  projectId: string;
  /** Extra headers instead of a bearer key (malformed credentials). */
  headers?: Record<string, string>;
}

interface Route {
  method: string;
  path: (f: Fixture) => string;
  body?: unknown;
  org: boolean;
  /** The least role the route needs in the organization. */
  needs: 'viewer' | 'member' | 'admin' | null;
}

const ROUTES: Record<string, Route> = {
  'GET /me': { method: 'GET', path: () => '/me', org: false, needs: null },
  'GET /orgs/{orgId}/projects': {
    method: 'GET',
    path: (f) => `/orgs/${f.orgId}/projects`,
    org: true,
    needs: 'viewer',
  },
  'POST /orgs/{orgId}/projects': {
    method: 'POST',
    path: (f) => `/orgs/${f.orgId}/projects`,
    body: { name: 'new' },
    org: true,
    needs: 'member',
  },
  'GET /orgs/{orgId}/projects/{projectId}': {
    method: 'GET',
    path: (f) => `/orgs/${f.orgId}/projects/${f.projectId}`,
    org: true,
    needs: 'viewer',
  },
  'PATCH /orgs/{orgId}/projects/{projectId}': {
    method: 'PATCH',
    path: (f) => `/orgs/${f.orgId}/projects/${f.projectId}`,
    body: { name: 'renamed' },
    org: true,
    needs: 'member',
  },
  'DELETE /orgs/{orgId}/projects/{projectId}': {
    method: 'DELETE',
    path: (f) => `/orgs/${f.orgId}/projects/${f.projectId}`,
    org: true,
    needs: 'admin',
  },
  'DELETE /keys/current': { method: 'DELETE', path: () => '/keys/current', org: false, needs: null },
};

/** A fresh creator (admin in a fresh org owned by Owner), a project, and an admin key of that creator. */
async function base(scope?: 'out') {
  const [creator] = Object.values(await people(app, ['Creator'])) as [Person];
  const org = await orgWith(cast.Owner as Person, 'Sec', [{ person: creator, role: 'admin' }]);
  const project = await (cast.Owner as Person).browser.trpc.projects.create.mutate({
    orgId: org.id,
    name: 'target',
  });
  let orgIds: string[] | undefined;
  if (scope === 'out') orgIds = [(await orgWith(creator, 'CreatorsOwn')).id];
  const { key, id } = await keyFor(creator, org.id, { role: 'admin', ...(orgIds ? { orgIds } : {}) });
  return { creator, orgId: org.id, projectId: project.id, key, keyId: id };
}

type Expectation = [number, string] | 'allowed';
interface Case {
  setup: () => Promise<Fixture>;
  expect: (route: Route) => Expectation;
}

const CASES: Record<string, Case> = {
  'no key': {
    setup: async () => ({ ...(await base()), key: null }),
    expect: () => [401, 'UNAUTHENTICATED'],
  },
  'malformed Authorization header': {
    setup: async () => ({ ...(await base()), key: null, headers: { authorization: 'Bearer' } }),
    expect: () => [401, 'UNAUTHENTICATED'],
  },
  'not a Bearer scheme': {
    setup: async () => {
      const b = await base();
      return {
        ...b,
        key: null,
        headers: { authorization: `Basic ${Buffer.from(`x:${b.key}`).toString('base64')}` },
      };
    },
    expect: () => [401, 'UNAUTHENTICATED'],
  },
  'malformed key': {
    setup: async () => ({ ...(await base()), key: 'cdk_tooshort' }),
    expect: () => [401, 'UNAUTHENTICATED'],
  },
  'wrong checksum': {
    setup: async () => {
      const b = await base();
      const last = b.key.at(-1) === 'A' ? 'B' : 'A';
      return { ...b, key: b.key.slice(0, -1) + last };
    },
    expect: () => [401, 'UNAUTHENTICATED'],
  },
  'unknown key': {
    setup: async () => ({ ...(await base()), key: generateKey().key }),
    expect: () => [401, 'UNAUTHENTICATED'],
  },
  revoked: {
    setup: async () => {
      const b = await base();
      await b.creator.browser.trpc.keys.revoke.mutate({ id: b.keyId });
      return b;
    },
    expect: () => [401, 'KEY_REVOKED'],
  },
  expired: {
    setup: async () => {
      const [creator] = Object.values(await people(app, ['Creator'])) as [Person];
      const org = await orgWith(cast.Owner as Person, 'Exp', [{ person: creator, role: 'admin' }]);
      const project = await (cast.Owner as Person).browser.trpc.projects.create.mutate({
        orgId: org.id,
        name: 't',
      });
      const expiresAt = new Date(app.clock.now().getTime() + HOUR + 60_000).toISOString();
      const { key } = await keyFor(creator, org.id, { role: 'admin', expiresAt });
      app.clock.advance(2 * HOUR);
      return { key, orgId: org.id, projectId: project.id };
    },
    expect: () => [401, 'KEY_EXPIRED'],
  },
  'rotated out after the grace period': {
    setup: async () => {
      const b = await base();
      await b.creator.browser.trpc.keys.rotate.mutate({ id: b.keyId, gracePeriod: '1h' });
      app.clock.advance(HOUR + 1000);
      return b;
    },
    expect: () => [401, 'KEY_REVOKED'],
  },
  'organization outside the key’s scope': {
    setup: async () => base('out'),
    expect: (r) => (r.org ? [403, 'ORG_OUT_OF_SCOPE'] : 'allowed'),
  },
  'creator demoted to viewer (key shrinks at once)': {
    setup: async () => {
      const b = await base();
      await (cast.Owner as Person).browser.trpc.members.updateRole.mutate({
        orgId: b.orgId,
        userId: b.creator.id,
        role: 'viewer',
      });
      return b;
    },
    expect: (r) => (r.needs === null || r.needs === 'viewer' ? 'allowed' : [403, 'FORBIDDEN']),
  },
  'creator removed from the organization (key stops at once)': {
    setup: async () => {
      const b = await base();
      await (cast.Owner as Person).browser.trpc.members.remove.mutate({
        orgId: b.orgId,
        userId: b.creator.id,
      });
      return b;
    },
    expect: (r) => (r.org ? [404, 'NOT_FOUND'] : 'allowed'),
  },
  'another tenant’s object': {
    setup: async () => {
      const b = await base();
      const theirs = await orgWith(cast.Other as Person, 'Tenant');
      const p = await (cast.Other as Person).browser.trpc.projects.create.mutate({
        orgId: theirs.id,
        name: 'secret',
      });
      return { ...b, projectId: p.id };
    },
    expect: (r) =>
      r.path({ key: '', orgId: 'ORG', projectId: 'PROJECT' }).includes('PROJECT')
        ? [404, 'NOT_FOUND']
        : 'allowed',
  },
  'another tenant’s organization': {
    setup: async () => {
      const b = await base();
      const theirs = await orgWith(cast.Other as Person, 'Tenant');
      const p = await (cast.Other as Person).browser.trpc.projects.create.mutate({
        orgId: theirs.id,
        name: 'secret',
      });
      return { ...b, orgId: theirs.id, projectId: p.id };
    },
    expect: (r) => (r.org ? [404, 'NOT_FOUND'] : 'allowed'),
  },
};

describe.each(Object.keys(CASES))('%s', (caseName) => {
  const c = CASES[caseName] as Case;
  it.each(Object.keys(ROUTES))('%s', async (routeName) => {
    const route = ROUTES[routeName] as Route;
    const fixture = await c.setup();
    const res = await rest<Problem>(
      app.url,
      fixture.key,
      route.method,
      route.path(fixture),
      route.body,
      fixture.headers,
    );
    const expected = c.expect(route);
    if (expected === 'allowed') {
      expect(res.status, JSON.stringify(res.body)).toBeLessThan(300);
      return;
    }
    expect([res.status, res.body.code]).toEqual(expected);
    expect(res.contentType).toMatch(/^application\/problem\+json/);
    expect(res.body).toMatchObject({
      status: expected[0],
      title: expect.any(String),
      detail: expect.any(String),
    });
  });
});

describe('offline rejection', () => {
  it('a key with a wrong checksum never reaches the database', async () => {
    const { key } = generateKey();
    const body = key.slice(0, 34);
    const bad = body + (keyChecksum(body) === 'AAAAAA' ? 'BBBBBB' : 'AAAAAA');
    let statements = 0;
    const stop = countStatements(app.orm, () => {
      statements++;
    });
    for (let i = 0; i < 10; i++) expect((await rest(app.url, bad, 'GET', '/me')).status).toBe(401);
    stop();
    expect(statements).toBe(0);
  });

  it('missing, malformed and unknown keys all get the same message', async () => {
    const answers = await Promise.all([
      rest<Problem>(app.url, null, 'GET', '/me'),
      rest<Problem>(app.url, 'cdk_nope', 'GET', '/me'),
      rest<Problem>(app.url, generateKey().key, 'GET', '/me'),
    ]);
    const details = new Set(answers.map((a) => `${a.status} ${a.body.code} ${a.body.detail}`));
    expect(details.size).toBe(1);
  });
});
