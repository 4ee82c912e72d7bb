/**
 * Session tokens: short-lived bearer tokens bound to a sign-in, for a first-party service behind the user's browser
 * session. Every test talks to the real API over HTTP, as that service would.
 */
import { countStatements } from '@crowdee/db';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { orgWith, type Person, people } from './helpers/fixtures.ts';
import { Browser, errorCode, keyClient, PASSWORD } from './helpers/http-client.ts';
import { rest } from './helpers/rest.ts';
import { startTestApp, type TestApp } from './helpers/test-app.ts';

let app: TestApp;
let folks: Record<string, Person>;
const person = (name: string): Person => {
  const found = folks[name];
  if (!found) throw new Error(`no person ${name}`);
  return found;
};

beforeAll(async () => {
  app = await startTestApp({
    limits: {
      policies: { authenticated: { quota: 10_000, windowSeconds: 60 }, anonymous: { quota: 10_000 } },
      // No background re-read of operator overrides while statements are counted.
      overrideRefreshMs: 3_600_000,
    },
  });
  folks = await people(app, ['Owen', 'Ada', 'Sam', 'Tess']);
});
afterAll(async () => {
  await app?.close();
});

async function tokenFor(who: Person, audience = 'reports-service', ttlSeconds?: number) {
  return who.browser.trpc.auth.createSessionToken.mutate({
    audience,
    ...(ttlSeconds !== undefined ? { ttlSeconds } : {}),
  });
}

describe('a session token acts as its user', () => {
  it('is shown once in the cds_ format and works on REST and tRPC with the user’s current role', async () => {
    const org = await orgWith(person('Owen'), 'Token Works', [{ person: person('Ada'), role: 'admin' }]);
    const { token, sessionToken } = await tokenFor(person('Ada'));
    expect(token).toMatch(/^cds_[0-9A-Za-z]{36}$/);
    expect(sessionToken.hint).toBe(`${token.slice(0, 8)}…${token.slice(-4)}`);
    expect(Date.parse(sessionToken.expiresAt) - Date.parse(sessionToken.createdAt)).toBe(15 * 60_000);

    const created = await rest(app.url, token, 'POST', `/orgs/${org.id}/projects`, {
      name: 'From a service',
    });
    expect(created.status).toBe(201);
    const listed = await rest<{ items: { name: string }[] }>(
      app.url,
      token,
      'GET',
      `/orgs/${org.id}/projects`,
    );
    expect(listed.status).toBe(200);
    expect(listed.body.items.map((p) => p.name)).toContain('From a service');

    const client = keyClient(app.url, token);
    const orgs = await client.orgs.list.query();
    expect(orgs.find((o) => o.id === org.id)?.role).toBe('admin');
    // An admin may manage members: a token carries the user's role, not a key's capped one.
    expect((await client.members.list.query({ orgId: org.id })).length).toBe(2);
  });

  it('follows a demotion and a removal on the very next request', async () => {
    const org = await orgWith(person('Owen'), 'Token Demotion', [{ person: person('Sam'), role: 'admin' }]);
    const { token } = await tokenFor(person('Sam'));
    const client = keyClient(app.url, token);
    await client.projects.create.mutate({ orgId: org.id, name: 'before' });
    await person('Owen').browser.trpc.members.updateRole.mutate({
      orgId: org.id,
      userId: person('Sam').id,
      role: 'viewer',
    });
    expect(await errorCode(client.projects.create.mutate({ orgId: org.id, name: 'after' }))).toBe(
      'FORBIDDEN',
    );
    expect((await client.projects.list.query({ orgId: org.id })).items.length).toBe(1);
    await person('Owen').browser.trpc.members.remove.mutate({ orgId: org.id, userId: person('Sam').id });
    expect(await errorCode(client.projects.list.query({ orgId: org.id }))).toBe('NOT_FOUND');
  });

  it('is refused for everything that needs a signed-in session', async () => {
    const org = await orgWith(person('Tess'), 'Token Limits');
    const { token } = await tokenFor(person('Tess'));
    const client = keyClient(app.url, token);
    const sessionOnly: [string, () => Promise<unknown>][] = [
      ['keys.create', () => client.keys.create.mutate({ name: 'minted by a token', role: 'viewer' })],
      ['keys.list', () => client.keys.list.query()],
      ['orgs.delete', () => client.orgs.delete.mutate({ orgId: org.id })],
      [
        'orgs.setKeyPolicy',
        () => client.orgs.setKeyPolicy.mutate({ orgId: org.id, requireExpiry: true, maxLifetimeDays: null }),
      ],
      ['sessions.list', () => client.sessions.list.query()],
      ['auth.createSessionToken', () => client.auth.createSessionToken.mutate({ audience: 'again' })],
      ['auth.me', () => client.auth.me.query()],
    ];
    for (const [name, call] of sessionOnly) {
      expect([name, await errorCode(call())]).toEqual([name, 'SESSION_REQUIRED']);
    }
    // Nothing was minted or deleted.
    expect(await person('Tess').browser.trpc.keys.list.query()).toEqual([]);
    expect((await person('Tess').browser.trpc.orgs.get.query({ orgId: org.id })).id).toBe(org.id);
    // A token is not a key either: what a key says about itself is not for it.
    expect((await rest(app.url, token, 'GET', '/me')).status).toBe(401);
  });
});

describe('a session token ends with its sign-in', () => {
  async function signedIn(who: Person): Promise<Browser> {
    const browser = new Browser(app.url);
    const email = (await who.browser.trpc.auth.me.query()).user.email;
    await browser.trpc.auth.signIn.mutate({ email, password: PASSWORD });
    return browser;
  }

  it('dies at sign-out', async () => {
    const org = await orgWith(person('Ada'), 'Sign-out ends tokens');
    const laptop = await signedIn(person('Ada'));
    const { token } = await laptop.trpc.auth.createSessionToken.mutate({ audience: 'dashboard' });
    const client = keyClient(app.url, token);
    expect((await client.projects.list.query({ orgId: org.id })).items.length).toBe(0);
    await laptop.trpc.auth.signOut.mutate();
    expect(await errorCode(client.projects.list.query({ orgId: org.id }))).toBe('UNAUTHENTICATED');
    expect((await rest(app.url, token, 'GET', `/orgs/${org.id}/projects`)).status).toBe(401);
  });

  it('dies when its session is revoked from another device, or with "sign out other sessions"', async () => {
    const org = await orgWith(person('Ada'), 'Revocation ends tokens');
    const phone = await signedIn(person('Ada'));
    const { token } = await phone.trpc.auth.createSessionToken.mutate({ audience: 'phone-helper' });
    const client = keyClient(app.url, token);
    await client.projects.list.query({ orgId: org.id });

    const sessions = await person('Ada').browser.trpc.sessions.list.query();
    const phoneSession = sessions.find((s) => s.tokens.some((t) => t.audience === 'phone-helper'));
    expect(phoneSession?.current).toBe(false);
    expect(phoneSession?.tokens.map((t) => t.hint)).toEqual([`${token.slice(0, 8)}…${token.slice(-4)}`]);
    await person('Ada').browser.trpc.sessions.revoke.mutate({ id: phoneSession?.id ?? '' });
    expect(await errorCode(client.projects.list.query({ orgId: org.id }))).toBe('UNAUTHENTICATED');

    const tablet = await signedIn(person('Ada'));
    const second = await tablet.trpc.auth.createSessionToken.mutate({ audience: 'tablet-helper' });
    await keyClient(app.url, second.token).projects.list.query({ orgId: org.id });
    await person('Ada').browser.trpc.sessions.revokeOthers.mutate();
    expect(await errorCode(keyClient(app.url, second.token).projects.list.query({ orgId: org.id }))).toBe(
      'UNAUTHENTICATED',
    );
  });

  it('a leaked token reported to the public leak endpoint ends at once; the sign-in behind it lives on', async () => {
    const org = await orgWith(person('Tess'), 'Leaked token');
    const laptop = await signedIn(person('Tess'));
    const { token, sessionToken } = await laptop.trpc.auth.createSessionToken.mutate({ audience: 'pasted' });
    const client = keyClient(app.url, token);
    await client.projects.list.query({ orgId: org.id });

    const report = await fetch(`${app.url}/api/v1/keys/revoke-leaked`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ keys: [token, token] }),
    });
    expect([report.status, await report.json()]).toEqual([200, { revoked: 1 }]);
    expect(await errorCode(client.projects.list.query({ orgId: org.id }))).toBe('SESSION_TOKEN_EXPIRED');
    expect((await rest(app.url, token, 'GET', `/orgs/${org.id}/projects`)).status).toBe(401);
    // Reporting it again ends nothing more; the browser session that made it still works.
    const again = await fetch(`${app.url}/api/v1/keys/revoke-leaked`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ keys: [token] }),
    });
    expect(await again.json()).toEqual({ revoked: 0 });
    expect((await laptop.trpc.auth.me.query()).user.name).toBe('Tess');
    const audit = await app.orm.em
      .fork()
      .getConnection()
      .execute<{ action: string; metadata: { reason: string; hint: string } }[]>(
        'select action, metadata from audit_events where target_id = ? order by created_at',
        [sessionToken.id],
      );
    expect(audit.map((a) => a.action)).toEqual(['session_token.created', 'session_token.revoked']);
    expect(audit[1]?.metadata).toMatchObject({ reason: 'leak-report', hint: sessionToken.hint });
    expect(JSON.stringify(audit)).not.toContain(token);
  });

  it('expires after its TTL, can be refreshed before, and never outlives the session', async () => {
    const org = await orgWith(person('Owen'), 'Token expiry');
    const browser = await signedIn(person('Owen'));
    const { token, sessionToken } = await browser.trpc.auth.createSessionToken.mutate({
      audience: 'short-lived',
      ttlSeconds: 120,
    });
    const client = keyClient(app.url, token);
    app.clock.advance(100_000);
    const refreshed = await client.auth.refreshSessionToken.mutate({ ttlSeconds: 120 });
    expect(Date.parse(refreshed.expiresAt)).toBeGreaterThan(Date.parse(sessionToken.expiresAt));
    app.clock.advance(100_000);
    // Past the first expiry, inside the refreshed one.
    expect((await client.projects.list.query({ orgId: org.id })).items.length).toBe(0);
    app.clock.advance(30_000);
    expect(await errorCode(client.projects.list.query({ orgId: org.id }))).toBe('SESSION_TOKEN_EXPIRED');
    expect((await rest(app.url, token, 'GET', `/orgs/${org.id}/projects`)).body).toMatchObject({
      code: 'SESSION_TOKEN_EXPIRED',
    });
    // An expired token cannot bring itself back.
    expect(await errorCode(client.auth.refreshSessionToken.mutate({}))).toBe('SESSION_TOKEN_EXPIRED');
    // Out of range lifetimes are refused, not silently clamped.
    expect(
      await errorCode(
        browser.trpc.auth.createSessionToken.mutate({ audience: 'too long', ttlSeconds: 7200 }),
      ),
    ).toBe('VALIDATION_FAILED');
  });
});

describe('session tokens are handled like keys', () => {
  it('cost no database statement once verified, and share the user’s rate-limit budget', async () => {
    const org = await orgWith(person('Tess'), 'Token cache');
    const { token } = await tokenFor(person('Tess'), 'cache-check');
    const first = await rest(app.url, token, 'GET', `/orgs/${org.id}/projects`);
    expect(first.status).toBe(200);
    // The first use records "last used" in the background (coalesced to once a minute): let it land first.
    const conn = app.orm.em.getConnection();
    await expect
      .poll(async () => {
        const rows = await conn.execute<{ used: boolean }[]>(
          'select last_used_at is not null as used from session_tokens where hint = ?',
          [`${token.slice(0, 8)}…${token.slice(-4)}`],
        );
        return rows[0]?.used;
      })
      .toBe(true);
    // Verification alone (a procedure that reads nothing itself): served from the cache after the first load.
    let statements = 0;
    const stop = countStatements(app.orm, () => {
      statements++;
    });
    for (let i = 0; i < 10; i++) {
      const res = await fetch(`${app.url}/trpc/auth.session`, {
        headers: { authorization: `Bearer ${token}` },
      });
      expect(res.status).toBe(200);
    }
    stop();
    expect(statements).toBe(0);
    // The token spends the same budget as its user's browser session.
    expect(first.headers.get('ratelimit-policy')).toContain('"user"');
    const viaToken = await rest(app.url, token, 'GET', `/orgs/${org.id}/projects`);
    const remaining = (h: Headers) => Number(/r=(\d+)/.exec(h.get('ratelimit') ?? '')?.[1]);
    const viaSession = await person('Tess').browser.fetch(`${app.url}/trpc/orgs.list`);
    expect(remaining(viaSession.headers)).toBe(remaining(viaToken.headers) - 1);
  });

  it('is never stored, logged or returned raw, and the audit log names it', async () => {
    const org = await orgWith(person('Owen'), 'Token audit');
    const { token, sessionToken } = await tokenFor(person('Owen'), 'audited-service');
    await keyClient(app.url, token).projects.create.mutate({ orgId: org.id, name: 'by token' });
    await rest(app.url, token, 'GET', `/orgs/${org.id}/projects`, undefined, { 'x-debug': token });
    const conn = app.orm.em.getConnection();
    const tables = await conn.execute<{ table_name: string }[]>(
      "select table_name from information_schema.tables where table_schema = 'public'",
    );
    for (const { table_name } of tables) {
      const rows = await conn.execute(`select * from "${table_name}"`);
      expect(JSON.stringify(rows), table_name).not.toContain(token);
    }
    expect(app.logs.text).not.toContain(token);
    const audit = await person('Owen').browser.trpc.audit.list.query({ orgId: org.id });
    const byToken = audit.items.find((e) => e.action === 'project.created');
    expect(byToken).toMatchObject({
      actorType: 'session-token',
      actorTokenId: sessionToken.id,
      actorUserId: person('Owen').id,
    });
  });

  it('a malformed or unknown cds_ token is refused without a database lookup', async () => {
    const { token } = await tokenFor(person('Ada'), 'typo');
    const typo = `${token.slice(0, 10)}${token[10] === 'a' ? 'b' : 'a'}${token.slice(11)}`;
    let statements = 0;
    const stop = countStatements(app.orm, () => {
      statements++;
    });
    const res = await rest(app.url, typo, 'GET', '/orgs/00000000-0000-4000-8000-000000000000/projects');
    stop();
    expect(res.status).toBe(401);
    expect(res.headers.get('www-authenticate') ?? '').not.toContain(token);
    expect(statements).toBe(0);
  });
});
