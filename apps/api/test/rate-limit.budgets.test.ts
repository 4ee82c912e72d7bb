/**
 * Whose budget a request spends, sent as an attacker sends it (raw HTTP): credentials never lift a public procedure
 * off its budgets, one user's keys share one budget, a user holds a bounded number of keys, a refused request
 * spends nothing, and /healthz never competes with anonymous traffic.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { setOverride } from '../src/admin/rate-limit-overrides.ts';
import { keyFor, orgWith, type Person, people, signUpPerson } from './helpers/fixtures.ts';
import { Browser, PASSWORD } from './helpers/http-client.ts';
import { chargedPolicies, raw, remaining } from './helpers/raw-http.ts';
import { rest } from './helpers/rest.ts';
import { startTestApp, type TestApp } from './helpers/test-app.ts';

const apps: TestApp[] = [];
afterAll(async () => {
  for (const app of apps) await app.close();
});

async function start(options: Parameters<typeof startTestApp>[0]): Promise<TestApp> {
  const app = await startTestApp({
    ...options,
    config: { trustedProxies: ['loopback'], ...options?.config },
  });
  apps.push(app);
  return app;
}

const signIn = (
  app: TestApp,
  ip: string,
  email: string,
  password: string,
  headers: Record<string, string> = {},
) =>
  raw(app.url, 'POST', '/trpc/auth.signIn', {
    headers: { 'x-forwarded-for': ip, ...headers },
    body: { email, password },
  });

describe('credentials never lift a public procedure off its budgets', () => {
  it('sign-in with a valid key or session cookie attached still pays sign-in and the anonymous per-IP budget', async () => {
    const app = await start({
      limits: {
        policies: {
          anonymous: { quota: 5, windowSeconds: 60 },
          'sign-in': { quota: 100, windowSeconds: 900 },
          authenticated: { quota: 1000, windowSeconds: 60 },
        },
      },
    });
    const kate = (await people(app, ['Kate'])).Kate as Person;
    const org = await orgWith(kate, 'Spray');
    const { key } = await keyFor(kate, org.id, { role: 'viewer' });
    const credentials: Record<string, Record<string, string>> = {
      key: { authorization: `Bearer ${key}` },
      cookie: { cookie: kate.browser.cookie ?? '', 'sec-fetch-site': 'same-origin' },
    };
    let ip = 0;
    for (const [kind, headers] of Object.entries(credentials)) {
      const address = `203.0.113.${++ip}`;
      const statuses: number[] = [];
      // Password spraying: one attempt per email, so only the per-IP budget can stop it.
      for (let i = 0; i < 8; i++) {
        const res = await signIn(app, address, `sprayed-${kind}-${i}@example.com`, 'Summer2026!', headers);
        if (i === 0) expect([kind, chargedPolicies(res)]).toEqual([kind, ['anonymous', 'sign-in']]);
        statuses.push(res.status);
      }
      expect([kind, statuses]).toEqual([kind, [401, 401, 401, 401, 401, 429, 429, 429]]);
    }
    // The leak report likewise, over REST with the key attached.
    const leak = await raw(app.url, 'POST', '/api/v1/keys/revoke-leaked', {
      headers: { 'x-forwarded-for': '203.0.113.50', authorization: `Bearer ${key}` },
      body: { keys: ['cdk_notARealKey'] },
    });
    expect([leak.status, chargedPolicies(leak)]).toEqual([200, ['anonymous', 'leak-report']]);
  });
});

describe('one budget per user', () => {
  it("a user's keys and session share one budget: more keys buy no more requests", async () => {
    const app = await start({
      limits: { policies: { authenticated: { quota: 30, windowSeconds: 60 } }, overrideRefreshMs: 50 },
    });
    const { browser } = await signUpPerson(app, 'Many');
    const org = await browser.trpc.orgs.create.mutate({ name: 'Many keys' });
    await browser.trpc.orgs.setActive.mutate({ orgId: org.id });
    const keys: { key: string; id: string }[] = [];
    for (let i = 0; i < 5; i++) {
      const created = await browser.trpc.keys.create.mutate({ name: `k${i}`, role: 'viewer' });
      keys.push({ key: created.key, id: created.apiKey.id });
    }
    // The session spent 7 units (orgs.create, orgs.setActive, 5 × keys.create) of the user's 30.
    const statuses = await Promise.all(
      Array.from({ length: 40 }, (_, i) =>
        raw(app.url, 'GET', '/api/v1/me', {
          headers: { authorization: `Bearer ${keys[i % 5]?.key}` },
        }).then((r) => r.status),
      ),
    );
    expect(statuses.filter((s) => s === 200)).toHaveLength(23);
    expect(statuses.filter((s) => s === 429)).toHaveLength(17);
    const session = await browser.fetch(`${app.url}/trpc/orgs.list`);
    expect(session.status).toBe(429);

    // An operator's override for one key still gives that key a budget of its own.
    const special = keys[0] ?? { key: '', id: '' };
    await setOverride(
      app.orm.em.fork(),
      { keyId: special.id, quota: 100, windowSeconds: 60, reason: 'CI fan-out', createdBy: 'test' },
      new Date(),
    );
    let res = await raw(app.url, 'GET', '/api/v1/me', {
      headers: { authorization: `Bearer ${special.key}` },
    });
    for (let i = 0; i < 200 && res.status === 429; i++) {
      await new Promise((r) => setTimeout(r, 25));
      res = await raw(app.url, 'GET', '/api/v1/me', { headers: { authorization: `Bearer ${special.key}` } });
    }
    expect([res.status, res.headers['ratelimit-policy']]).toEqual([200, '"key";q=100;w=60']);
    const other = await raw(app.url, 'GET', '/api/v1/me', {
      headers: { authorization: `Bearer ${keys[1]?.key}` },
    });
    expect(other.status).toBe(429);
  });

  it('caps active keys per user (API_KEYS_PER_USER_MAX), exactly, even under a concurrent burst', async () => {
    const app = await start({ config: { maxActiveKeysPerUser: 3 } });
    const { browser, email } = await signUpPerson(app, 'Cap');
    const org = await browser.trpc.orgs.create.mutate({ name: 'Cap' });
    await browser.trpc.orgs.setActive.mutate({ orgId: org.id });
    const create = (name: string, extra: Record<string, unknown> = {}) =>
      browser.fetch(`${app.url}/trpc/keys.create`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ name, role: 'viewer', ...extra }),
      });
    const burst = await Promise.all(Array.from({ length: 6 }, (_, i) => create(`burst ${i}`)));
    expect(burst.filter((r) => r.status === 200)).toHaveLength(3);
    const refused = burst.filter((r) => r.status === 409);
    expect(refused).toHaveLength(3);
    const body = (await refused[0]?.json()) as { error: { message: string; data: { code: string } } };
    expect(body.error.data.code).toBe('KEY_LIMIT_REACHED');
    expect(body.error.message).toMatch(/3 active API keys.*revoke one/);

    // A revoked key frees its slot; an expired one too.
    const mine = await browser.trpc.keys.list.query();
    await browser.trpc.keys.revoke.mutate({ id: mine[0]?.id ?? '' });
    expect((await create('short-lived', { expiresInDays: 1 })).status).toBe(200);
    expect((await create('one too many')).status).toBe(409);
    app.clock.advance(2 * 86_400_000);
    await browser.trpc.auth.signIn.mutate({ email, password: PASSWORD });
    await browser.trpc.orgs.setActive.mutate({ orgId: org.id });
    expect((await create('after expiry')).status).toBe(200);
    expect((await create('over again')).status).toBe(409);
  });
});

describe('a refused request spends nothing', () => {
  it('sign-ins refused by their own budget spend no anonymous units', async () => {
    const app = await start({
      limits: {
        policies: {
          anonymous: { quota: 100, windowSeconds: 60 },
          'sign-in': { quota: 3, windowSeconds: 900 },
        },
      },
    });
    const ip = '192.0.2.1';
    const statuses: number[] = [];
    for (let i = 0; i < 13; i++) statuses.push((await signIn(app, ip, 'e@example.com', 'wrong!!!')).status);
    expect(statuses).toEqual([401, 401, 401, ...Array(10).fill(429)]);
    const docs = await raw(app.url, 'GET', '/openapi.json', { headers: { 'x-forwarded-for': ip } });
    expect(remaining(docs, 'anonymous')).toBe(100 - 3 - 1);
  });

  it('a shared address out of anonymous budget cannot lock an email out of sign-in', async () => {
    const app = await start({
      limits: {
        policies: {
          anonymous: { quota: 5, windowSeconds: 60 },
          'sign-in': { quota: 3, windowSeconds: 900 },
        },
      },
    });
    const nat = '192.0.2.2';
    for (let i = 0; i < 5; i++)
      await raw(app.url, 'GET', '/openapi.json', { headers: { 'x-forwarded-for': nat } });
    for (let i = 0; i < 10; i++) {
      const res = await signIn(app, nat, 'colleague@example.com', 'whatever!!');
      expect(res.status).toBe(429);
      expect(res.text).toContain('anonymous');
      // The email's sign-in budget is untouched by the refused attempts.
      expect(remaining(res, 'sign-in')).toBe(3);
    }
  });

  it('under a concurrent burst, admits exactly what every budget allows and spends nothing for the rest', async () => {
    const app = await start({
      limits: {
        policies: {
          anonymous: { quota: 8, windowSeconds: 60 },
          'sign-in': { quota: 5, windowSeconds: 900 },
        },
      },
    });
    const ip = '192.0.2.3';
    const statuses = await Promise.all(
      Array.from({ length: 20 }, () =>
        signIn(app, ip, 'burst@example.com', 'wrong!!!').then((r) => r.status),
      ),
    );
    expect(statuses.filter((s) => s === 401)).toHaveLength(5);
    expect(statuses.filter((s) => s === 429)).toHaveLength(15);
    const docs = await raw(app.url, 'GET', '/openapi.json', { headers: { 'x-forwarded-for': ip } });
    expect([docs.status, remaining(docs, 'anonymous')]).toEqual([200, 8 - 5 - 1]);
  });
});

describe('/healthz', () => {
  it('answers monitors whose address has spent its anonymous budget, within a budget of its own', async () => {
    const app = await start({
      limits: {
        policies: {
          anonymous: { quota: 3, windowSeconds: 60 },
          health: { quota: 12, windowSeconds: 60 },
        },
      },
    });
    const headers = { 'x-forwarded-for': '192.0.2.9' };
    for (let i = 0; i < 3; i++) await raw(app.url, 'GET', '/openapi.json', { headers });
    expect((await raw(app.url, 'GET', '/openapi.json', { headers })).status).toBe(429);
    const checks = [];
    for (const path of [...Array(10).fill('/healthz'), '/HEALTHZ/', '/healthz?probe=1']) {
      checks.push(await raw(app.url, 'GET', path, { headers }));
    }
    expect(checks.map((r) => r.status)).toEqual(Array(12).fill(200));
    expect(chargedPolicies(checks[0] ?? { headers: {} })).toEqual(['health']);
    const over = await raw(app.url, 'GET', '/healthz', { headers });
    expect([over.status, chargedPolicies(over)]).toEqual([429, ['health']]);
    // Anonymous traffic from another address is unaffected by this one's health checks, and vice versa.
    const browser = new Browser(app.url);
    browser.headers['x-forwarded-for'] = '192.0.2.10';
    expect((await browser.fetch(`${app.url}/openapi.json`)).status).toBe(200);
    expect(
      (await rest(app.url, null, 'GET', '/status', undefined, { 'x-forwarded-for': '192.0.2.9' })).status,
    ).toBe(429);
  });
});
