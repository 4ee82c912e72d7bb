import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { removeOverride, setOverride } from '../src/admin/rate-limit-overrides.ts';
import { keyFor, type MailingApp, orgWith, type Person, people, signUpPerson } from './helpers/fixtures.ts';
import { Browser, PASSWORD, signUp as signUpQuick } from './helpers/http-client.ts';
import { type Problem, rest } from './helpers/rest.ts';
import { startTestApp, type TestApp } from './helpers/test-app.ts';

const QUOTA_TYPE = '/docs/errors#RATE_LIMITED';

async function hammer(n: number, send: () => Promise<{ status: number }>): Promise<number[]> {
  return Promise.all(Array.from({ length: n }, () => send().then((r) => r.status)));
}
const count = (statuses: number[], status: number) => statuses.filter((s) => s === status).length;

/**
 * A user's session and all their keys share one authenticated budget: a fresh user with an organization and a key
 * has already spent three units of it through the settings app (orgs.create, orgs.setActive, keys.create).
 */
const SETUP_UNITS = 3;

async function userWithKey(app: MailingApp, name: string): Promise<{ key: string }> {
  const person = (await people(app, [name]))[name] as Person;
  const orgId = (await orgWith(person, `${name}'s org`)).id;
  return { key: (await keyFor(person, orgId, { role: 'viewer', name })).key };
}

/** Waits until the API's periodic override refresh has loaded `n` overrides (polling, never a fixed sleep). */
async function overridesLoaded(app: TestApp, n: number): Promise<void> {
  await expect.poll(() => app.deps.limits?.overrides.all.length, { timeout: 60_000, interval: 20 }).toBe(n);
}

describe('tiers and bursts', () => {
  let app: TestApp;

  beforeAll(async () => {
    app = await startTestApp({
      limits: {
        policies: {
          anonymous: { quota: 10, windowSeconds: 60 },
          authenticated: { quota: 30, windowSeconds: 60 },
        },
      },
    });
  });
  afterAll(async () => {
    await app?.close();
  });

  it('admits exactly the quota under a 50-way concurrent burst', async () => {
    const { key } = await userWithKey(app, 'Burst');
    const statuses = await hammer(50, () => rest(app.url, key, 'GET', '/me'));
    expect(count(statuses, 200)).toBe(30 - SETUP_UNITS);
    expect(count(statuses, 429)).toBe(20 + SETUP_UNITS);
  });

  it('puts the draft RateLimit headers on every answer and a complete problem on a REST 429', async () => {
    const { key: fresh } = await userWithKey(app, 'Headers');
    const first = await rest(app.url, fresh, 'GET', '/me');
    expect(first.headers.get('ratelimit-policy')).toBe('"user";q=30;w=60');
    expect(first.headers.get('ratelimit')).toMatch(/^"user";r=26;t=(60|59)$/);
    expect(first.headers.get('access-control-expose-headers')).toMatch(
      /RateLimit, RateLimit-Policy, Retry-After/,
    );
    // The limiter keeps REST's CORS list, which also exposes Idempotent-Replayed (it used to overwrite it).
    expect(first.headers.get('access-control-expose-headers')).toMatch(/Idempotent-Replayed/);
    let last = first;
    for (let i = 0; i < 30 - SETUP_UNITS; i++) last = await rest(app.url, fresh, 'GET', '/me');
    expect(last.status).toBe(429);
    const t = Number(/t=(\d+)/.exec(last.headers.get('ratelimit') ?? '')?.[1]);
    const retryAfter = Number(last.headers.get('retry-after'));
    expect(Number.isInteger(retryAfter)).toBe(true);
    expect(retryAfter).toBeGreaterThanOrEqual(t);
    expect(last.headers.get('ratelimit')).toMatch(/^"user";r=0;t=\d+$/);
    expect(last.contentType).toMatch(/^application\/problem\+json/);
    expect(last.body).toMatchObject({
      type: QUOTA_TYPE,
      status: 429,
      code: 'RATE_LIMITED',
      retryAfter,
      'violated-policies': ['user'],
    });
  });

  it('limits public discovery and docs as anonymous traffic', async () => {
    const statuses: number[] = [];
    for (let i = 0; i < 12; i++) statuses.push((await fetch(`${app.url}/openapi.json`)).status);
    // The two sign-ups above and their two verification links spent four of 127.0.0.1's ten anonymous units.
    expect(count(statuses, 429)).toBe(6);
    const limited = await fetch(`${app.url}/`);
    expect(limited.headers.get('ratelimit-policy')).toBe('"anonymous";q=10;w=60');
  });
});

describe('anonymous against authenticated, and tRPC', () => {
  it('refuses anonymous callers before an authenticated one at the same volume', async () => {
    const app = await startTestApp({
      limits: {
        policies: {
          anonymous: { quota: 10, windowSeconds: 60 },
          authenticated: { quota: 30, windowSeconds: 60 },
        },
      },
    });
    try {
      const kate = (await people(app, ['Kate'])).Kate as Person;
      const org = await orgWith(kate, 'Volume');
      const key = (await keyFor(kate, org.id, { role: 'viewer' })).key;
      const anon: number[] = [];
      const authed: number[] = [];
      // Kate's sign-up and following her verification link already spent two anonymous units of 127.0.0.1.
      for (let i = 0; i < 20; i++) {
        anon.push((await rest(app.url, null, 'GET', '/status')).status);
        authed.push((await rest(app.url, key, 'GET', '/me')).status);
      }
      expect(anon.indexOf(429)).toBe(8);
      expect(authed).not.toContain(429);
    } finally {
      await app.close();
    }
  });

  it('gives tRPC callers TOO_MANY_REQUESTS with retryAfter, and a real 429 for a batch', async () => {
    const app = await startTestApp({
      limits: { policies: { authenticated: { quota: 30, windowSeconds: 60 } } },
    });
    try {
      const { browser: b } = await signUpQuick(app.url);
      // A batch of 3 calls costs 3 units: 10 batches exhaust a 30-unit budget.
      const batchUrl = `${app.url}/trpc/auth.me,orgs.list,sessions.list?batch=1&input=${encodeURIComponent('{}')}`;
      let res = await b.fetch(batchUrl);
      expect(res.status).toBe(200);
      expect(res.headers.get('ratelimit')).toMatch(/^"user";r=27;/);
      for (let i = 0; i < 9; i++) res = await b.fetch(batchUrl);
      expect(res.status).toBe(200);
      res = await b.fetch(batchUrl);
      expect(res.status).toBe(429);
      const body = (await res.json()) as {
        error: { data: { code: string; trpcCode: string; retryAfter: number } };
      }[];
      expect(body).toHaveLength(3);
      expect(body[0]?.error.data).toMatchObject({ code: 'RATE_LIMITED', trpcCode: 'TOO_MANY_REQUESTS' });
      expect(body[0]?.error.data.retryAfter).toBeGreaterThan(0);
      expect(Number(res.headers.get('retry-after'))).toBe(body[0]?.error.data.retryAfter);
    } finally {
      await app.close();
    }
  });
});

describe('client addresses and proxies', () => {
  it('a spoofed X-Forwarded-For gains nothing unless the proxy is trusted', async () => {
    const app = await startTestApp({ limits: { policies: { anonymous: { quota: 5, windowSeconds: 60 } } } });
    try {
      const statuses: number[] = [];
      for (let i = 0; i < 8; i++) {
        statuses.push(
          (await rest(app.url, null, 'GET', '/status', undefined, { 'x-forwarded-for': `203.0.113.${i}` }))
            .status,
        );
      }
      expect(count(statuses, 429)).toBe(3);
    } finally {
      await app.close();
    }
    const trusting = await startTestApp({
      config: { trustedProxies: ['loopback'] },
      limits: { policies: { anonymous: { quota: 5, windowSeconds: 60 } } },
    });
    try {
      const statuses: number[] = [];
      for (let i = 0; i < 8; i++) {
        statuses.push(
          (
            await rest(trusting.url, null, 'GET', '/status', undefined, {
              'x-forwarded-for': `203.0.113.${i}`,
            })
          ).status,
        );
      }
      expect(statuses).not.toContain(429);
      // IPv6 clients behind the trusted proxy are grouped by /56.
      const v6: number[] = [];
      for (let i = 0; i < 8; i++) {
        v6.push(
          (
            await rest(trusting.url, null, 'GET', '/status', undefined, {
              'x-forwarded-for': `2001:db8:1:2${i}::${i}`,
            })
          ).status,
        );
      }
      expect(count(v6, 429)).toBe(3);
    } finally {
      await trusting.close();
    }
  });
});

describe('sensitive endpoints', () => {
  it('limits password-reset requests per address (whoever asks) and per IP, batches included', async () => {
    const app = await startTestApp({
      limits: {
        policies: {
          'password-reset': { quota: 3, windowSeconds: 900 },
          'password-reset-email': { quota: 2, windowSeconds: 900 },
        },
      },
    });
    try {
      const ask = (email: string) =>
        new Browser(app.url).fetch(`${app.url}/trpc/auth.requestPasswordReset`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({ email }),
        });
      const victim = 'victim@example.com';
      const statuses = [(await ask(victim)).status, (await ask(victim.toUpperCase())).status];
      const third = await ask(` ${victim}`);
      expect([...statuses, third.status]).toEqual([200, 200, 429]);
      expect(third.headers.get('ratelimit-policy')).toContain('"password-reset-email";q=2;w=900');
      // A refused attempt spends nothing: the IP has 1 of its 3 left, for another address; then it is spent too.
      expect((await ask('other@example.com')).status).toBe(200);
      expect((await ask('third@example.com')).status).toBe(429);
      // A batch of resets pays per call: it cannot slip several addresses past the per-IP budget.
      const batch = await new Browser(app.url).fetch(
        `${app.url}/trpc/auth.requestPasswordReset,auth.requestPasswordReset?batch=1`,
        {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({ 0: { email: 'a@example.com' }, 1: { email: 'b@example.com' } }),
        },
      );
      expect(batch.status).toBe(429);
    } finally {
      await app.close();
    }
  });

  it('limits verification mails per signed-in user', async () => {
    const app = await startTestApp({
      limits: { policies: { 'verification-email': { quota: 2, windowSeconds: 900 } } },
    });
    try {
      const una = await signUpPerson(app, 'Una', { verified: false });
      const resend = () =>
        una.browser.fetch(`${app.url}/trpc/auth.resendVerification`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: '{}',
        });
      expect([(await resend()).status, (await resend()).status, (await resend()).status]).toEqual([
        200, 200, 429,
      ]);
    } finally {
      await app.close();
    }
  });

  it('allows 10 sign-in attempts per 15 minutes per IP and email, even with the right password after that', async () => {
    const app = await startTestApp({ limits: {} });
    try {
      const person = (await people(app, ['Sign'])).Sign as Person;
      const b = new Browser(app.url);
      const attempt = (email: string, password: string) =>
        b.fetch(`${app.url}/trpc/auth.signIn`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({ email, password }),
        });
      for (let i = 0; i < 10; i++) expect((await attempt(person.email, 'wrong password')).status).toBe(401);
      const blocked = await attempt(person.email, PASSWORD);
      expect(blocked.status).toBe(429);
      expect(blocked.headers.get('ratelimit-policy')).toContain('"sign-in";q=10;w=900');
      expect(Number(blocked.headers.get('retry-after'))).toBeGreaterThan(800);
      // Another account from the same address is not locked out by this one.
      expect((await attempt('someone-else@example.com', 'whatever!!')).status).toBe(401);
    } finally {
      await app.close();
    }
  });

  it('limits sign-ups per IP and leak reports to 10 a minute per IP', async () => {
    const app = await startTestApp({ limits: { policies: { 'sign-up': { quota: 3, windowSeconds: 900 } } } });
    try {
      const signups: number[] = [];
      for (let i = 0; i < 4; i++) {
        const b = new Browser(app.url);
        signups.push(
          (
            await b.fetch(`${app.url}/trpc/auth.signUp`, {
              method: 'POST',
              headers: { 'content-type': 'application/json' },
              body: JSON.stringify({
                email: `s${i}-${Date.now()}@example.com`,
                password: PASSWORD,
                name: 'S',
              }),
            })
          ).status,
        );
      }
      expect(signups).toEqual([200, 200, 200, 429]);
      const reports: number[] = [];
      for (let i = 0; i < 11; i++)
        reports.push((await rest(app.url, null, 'POST', '/keys/revoke-leaked', { keys: ['cdk_x'] })).status);
      expect(reports.slice(0, 10).every((s) => s === 200)).toBe(true);
      const last = await rest<Problem>(app.url, null, 'POST', '/keys/revoke-leaked', { keys: ['cdk_x'] });
      expect(last.status).toBe(429);
      expect(last.body['violated-policies' as keyof Problem]).toEqual(['leak-report']);
    } finally {
      await app.close();
    }
  });
});

describe('overrides', () => {
  it('raise an organization’s limit within seconds, without a restart, and lapse when removed', async () => {
    const app = await startTestApp({
      limits: { policies: { authenticated: { quota: 5, windowSeconds: 60 } }, overrideRefreshMs: 100 },
    });
    try {
      const kate = (await people(app, ['Kate'])).Kate as Person;
      const org = await orgWith(kate, 'Heavy');
      const { key } = await keyFor(kate, org.id, { role: 'viewer' });
      // Kate's session spent SETUP_UNITS of her 5 making the org and the key: her keys share that budget.
      const before = await hammer(8, () => rest(app.url, key, 'GET', '/me'));
      expect(count(before, 429)).toBe(3 + SETUP_UNITS);
      const created = await setOverride(
        app.orm.em.fork(),
        { orgId: org.id, quota: 100, windowSeconds: 60, reason: 'nightly sync', createdBy: 'test' },
        new Date(),
      );
      // Picked up by the periodic refresh (no restart, no explicit reload): poll for it, however slow the machine.
      await overridesLoaded(app, 1);
      const after = await hammer(20, () => rest(app.url, key, 'GET', '/me'));
      expect(after).not.toContain(429);
      const res = await rest(app.url, key, 'GET', '/me');
      // The organization's override raises Kate's one budget while her key acts within its reach.
      expect(res.headers.get('ratelimit-policy')).toBe('"user";q=100;w=60');

      // Removed: back on the default 5, in the same window, which already holds far more than 5 units (or, had a
      // whole minute passed, a fresh window that refuses the sixth of six).
      expect(await removeOverride(app.orm.em.fork(), created.id)).toBe(true);
      await overridesLoaded(app, 0);
      const lapsed = await hammer(6, () => rest(app.url, key, 'GET', '/me'));
      expect(count(lapsed, 429)).toBeGreaterThanOrEqual(1);
      const back = await rest(app.url, key, 'GET', '/me');
      expect(back.headers.get('ratelimit-policy')).toBe('"user";q=5;w=60');
      expect(back.status).toBe(429);
    } finally {
      await app.close();
    }
  });

  it('per key, through the operator command', async () => {
    const app = await startTestApp({
      limits: { policies: { authenticated: { quota: 6, windowSeconds: 60 } }, overrideRefreshMs: 100 },
    });
    try {
      const kate = (await people(app, ['Kate'])).Kate as Person;
      const org = await orgWith(kate, 'Cli');
      const { key, id } = await keyFor(kate, org.id, { role: 'viewer' });
      const { execFileSync } = await import('node:child_process');
      const env = { ...process.env, DATABASE_URL: app.dbUrl, LOG_LEVEL: 'silent' };
      const cli = (...args: string[]) =>
        execFileSync(process.execPath, ['--import', 'tsx', 'src/admin/cli.ts', ...args], {
          env,
          encoding: 'utf8',
        });
      const out = cli(
        'limits',
        'set',
        '--key',
        id,
        '--quota',
        '50',
        '--window',
        '1m',
        '--reason',
        'CI fan-out',
        '--by',
        'ops',
      );
      expect(out).toMatch(new RegExp(`override .*: key ${id} → 50 per 60 s`));
      const listed = JSON.parse(cli('limits', 'list', '--json')) as { id: string; reason: string }[];
      expect(listed.map((o) => o.reason)).toEqual(['CI fan-out']);
      await overridesLoaded(app, 1);
      expect(await hammer(10, () => rest(app.url, key, 'GET', '/me'))).not.toContain(429);
      cli('limits', 'remove', listed[0]?.id ?? '');
      expect(JSON.parse(cli('limits', 'list', '--json'))).toEqual([]);
      // The lapse is real: back on 6 a minute, so at least 2 of 8 are refused (all 8 within the same window).
      await overridesLoaded(app, 0);
      const lapsed = await hammer(8, () => rest(app.url, key, 'GET', '/me'));
      expect(count(lapsed, 429)).toBeGreaterThanOrEqual(2);
      let failed = false;
      try {
        cli('limits', 'set', '--key', id, '--quota', '0', '--window', '1m', '--reason', 'bad');
      } catch (error) {
        failed = (error as { status?: number }).status === 2;
      }
      expect(failed).toBe(true);
    } finally {
      await app.close();
    }
  });
});
