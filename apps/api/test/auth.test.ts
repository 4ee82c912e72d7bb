import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { signUpPerson } from './helpers/fixtures.ts';
import { Browser, errorCode, PASSWORD, signUp, uniqueEmail } from './helpers/http-client.ts';
import { startTestApp, type TestApp } from './helpers/test-app.ts';

let app: TestApp;
beforeAll(async () => {
  app = await startTestApp({ config: { sessions: { absoluteMs: 3_600_000, idleMs: 600_000 } } });
});
afterAll(async () => {
  await app?.close();
});

describe('accounts', () => {
  it('signs up, normalises the email, sets the session and answers me()', async () => {
    const browser = new Browser(app.url);
    const email = uniqueEmail('Ada');
    const { user } = await browser.trpc.auth.signUp.mutate({
      email: `  ${email.toUpperCase()} `,
      password: PASSWORD,
      name: 'Ada',
    });
    expect(user.email).toBe(email.toLowerCase());
    const me = await browser.trpc.auth.me.query();
    expect(me.user).toEqual({ id: user.id, email: email.toLowerCase(), name: 'Ada', emailVerified: false });
    expect(me.activeOrganization).toBeNull();
  });

  it('refuses a second account for the same mailbox (any case) with EMAIL_TAKEN', async () => {
    const { email } = await signUp(app.url, 'Twin');
    const other = new Browser(app.url);
    expect(
      await errorCode(
        other.trpc.auth.signUp.mutate({ email: email.toUpperCase(), password: PASSWORD, name: 'x' }),
      ),
    ).toBe('EMAIL_TAKEN');
  });

  it('requires passwords of at least 10 characters and valid input, with field errors', async () => {
    const browser = new Browser(app.url);
    const res = await browser.fetch(`${app.url}/trpc/auth.signUp`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ email: uniqueEmail(), password: 'short', name: 'x' }),
    });
    expect(res.status).toBe(400);
    const body = (await res.json()) as { error: { data: { code: string; fieldErrors: { path: string }[] } } };
    expect(body.error.data.code).toBe('VALIDATION_FAILED');
    expect(body.error.data.fieldErrors.map((f) => f.path)).toContain('password');
    const bad = await browser.fetch(`${app.url}/trpc/auth.signUp`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ email: 'not-an-email', password: PASSWORD, name: '' }),
    });
    const badBody = (await bad.json()) as { error: { data: { fieldErrors: { path: string }[] } } };
    expect(bad.status).toBe(400);
    expect(badBody.error.data.fieldErrors.map((f) => f.path).sort()).toEqual(['email', 'name']);
  });

  it('gives the same error for an unknown email and a wrong password', async () => {
    const { email } = await signUp(app.url, 'Known');
    const browser = new Browser(app.url);
    const unknown = await browser.fetch(`${app.url}/trpc/auth.signIn`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ email: uniqueEmail('nobody'), password: PASSWORD }),
    });
    const wrong = await browser.fetch(`${app.url}/trpc/auth.signIn`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ email, password: 'wrong password!' }),
    });
    expect(unknown.status).toBe(401);
    expect(wrong.status).toBe(401);
    const a = (await unknown.json()) as { error: { message: string; data: { code: string } } };
    const b = (await wrong.json()) as { error: { message: string; data: { code: string } } };
    expect(a.error.data.code).toBe('INVALID_CREDENTIALS');
    expect(b.error).toEqual(a.error);
    expect(unknown.headers.get('set-cookie')).toBeNull();
  });
});

describe('sign-in timing', () => {
  it('pays for one argon2id verification whether or not the email exists', async () => {
    const { email } = await signUp(app.url, 'Timing');
    const real = app.deps.passwords;
    const calls: string[] = [];
    // Delegates to the real hasher; only records which path ran.
    app.deps.passwords = Object.assign(Object.create(real) as typeof real, {
      verify: (hash: string, password: string) => {
        calls.push('verify');
        return real.verify(hash, password);
      },
      verifyDummy: (password: string) => {
        calls.push('dummy');
        return real.verifyDummy(password);
      },
    });
    try {
      const browser = new Browser(app.url);
      await errorCode(browser.trpc.auth.signIn.mutate({ email: uniqueEmail('ghost'), password: PASSWORD }));
      await errorCode(browser.trpc.auth.signIn.mutate({ email, password: 'wrong password!' }));
      expect(calls).toEqual(['dummy', 'verify']);
    } finally {
      app.deps.passwords = real;
    }
  });
});

describe('sessions', () => {
  it('sets an HttpOnly, SameSite=Lax cookie holding only an opaque token (no Secure over plain HTTP)', async () => {
    const { browser } = await signUp(app.url, 'Cookie');
    const line = browser.lastSetCookie.join('\n');
    expect(line).toMatch(/^crowdee_session=[A-Za-z0-9_-]{20}\.[A-Za-z0-9_-]{43};/);
    expect(line).toMatch(/HttpOnly/);
    expect(line).toMatch(/SameSite=Lax/);
    expect(line).toMatch(/Path=\//);
    expect(line).not.toMatch(/Secure/);
  });

  it('uses the __Host- prefix and Secure when served over HTTPS (behind a trusted proxy)', async () => {
    const secure = await startTestApp({ config: { trustedProxies: ['loopback'] } });
    try {
      const browser = new Browser(secure.url);
      browser.headers['x-forwarded-proto'] = 'https';
      await browser.trpc.auth.signUp.mutate({ email: uniqueEmail('tls'), password: PASSWORD, name: 'TLS' });
      const line = browser.lastSetCookie.join('\n');
      expect(line).toMatch(/^__Host-crowdee_session=/);
      expect(line).toMatch(/Secure/);
      expect(line).toMatch(/Path=\//);
      expect(line).not.toMatch(/Domain=/i);
      expect((await browser.trpc.auth.me.query()).user.name).toBe('TLS');
    } finally {
      await secure.close();
    }
  });

  it('stores only the SHA-256 of the secret, never the token', async () => {
    const { browser, id } = await signUp(app.url, 'Hash');
    const token = decodeURIComponent(browser.cookie?.split('=')[1] ?? '');
    const [, secret] = token.split('.');
    const rows = await app.orm.em
      .getConnection()
      .execute<Record<string, unknown>[]>('select * from sessions where user_id = ?', [id]);
    const dump = JSON.stringify(rows);
    expect(dump).not.toContain(secret);
    expect(dump).not.toContain(token);
    expect(rows[0]?.secret_hash).toMatch(/^[0-9a-f]{64}$/);
  });

  it('issues a new token at every sign-in and ends the session the browser held before', async () => {
    const { browser, email } = await signUp(app.url, 'Rotate');
    const before = browser.cookie;
    await browser.trpc.auth.signIn.mutate({ email, password: PASSWORD });
    expect(browser.cookie).toBeDefined();
    expect(browser.cookie).not.toBe(before);
    const stale = new Browser(app.url);
    stale.cookie = before;
    expect(await errorCode(stale.trpc.auth.me.query())).toBe('UNAUTHENTICATED');
    expect((await browser.trpc.auth.me.query()).user.email).toBe(email);
  });

  it('refuses the old cookie after sign-out, and clears it', async () => {
    const { browser } = await signUp(app.url, 'Out');
    const cookie = browser.cookie;
    await browser.trpc.auth.signOut.mutate();
    expect(browser.cookie).toBeUndefined();
    const replay = new Browser(app.url);
    replay.cookie = cookie;
    expect(await errorCode(replay.trpc.auth.me.query())).toBe('UNAUTHENTICATED');
  });

  it('auth.session answers null, not an error, to anyone without a live browser session', async () => {
    const anonymous = await fetch(`${app.url}/trpc/auth.session`);
    expect(anonymous.status).toBe(200);
    expect(await anonymous.json()).toEqual({ result: { data: null } });

    const { browser, id } = await signUpPerson(app, 'Present');
    const session = await browser.trpc.auth.session.query();
    expect(session).toEqual(await browser.trpc.auth.me.query());
    expect(session?.user.id).toBe(id);

    // A key is not a browser session: it learns nothing here.
    const org = await browser.trpc.orgs.create.mutate({ name: 'Session probe' });
    await browser.trpc.orgs.setActive.mutate({ orgId: org.id });
    const { key } = await browser.trpc.keys.create.mutate({ name: 'probe', role: 'viewer' });
    const withKey = await fetch(`${app.url}/trpc/auth.session`, {
      headers: { authorization: `Bearer ${key}` },
    });
    expect(await withKey.json()).toEqual({ result: { data: null } });

    // A cookie whose session ended is forgotten (and cleared), still without an error.
    const cookie = browser.cookie;
    await browser.trpc.auth.signOut.mutate();
    const ended = await fetch(`${app.url}/trpc/auth.session`, { headers: { cookie: cookie ?? '' } });
    expect(ended.status).toBe(200);
    expect(await ended.json()).toEqual({ result: { data: null } });
    expect(ended.headers.getSetCookie().join(';')).toMatch(/Max-Age=0|Expires=Thu, 01 Jan 1970/i);
  });

  it('enforces the idle timeout on the server', async () => {
    const { browser } = await signUp(app.url, 'Idle');
    app.clock.advance(9 * 60_000);
    expect((await browser.trpc.auth.me.query()).user.name).toBe('Idle');
    // Activity above reset the idle clock (it is written at most once a minute).
    app.clock.advance(9 * 60_000);
    expect((await browser.trpc.auth.me.query()).user.name).toBe('Idle');
    app.clock.advance(10 * 60_000 + 1);
    expect(await errorCode(browser.trpc.auth.me.query())).toBe('UNAUTHENTICATED');
  });

  it('enforces the absolute lifetime even for an active session', async () => {
    const { browser } = await signUp(app.url, 'Absolute');
    for (let i = 0; i < 6; i++) {
      app.clock.advance(9 * 60_000);
      expect((await browser.trpc.auth.me.query()).user.name).toBe('Absolute');
    }
    app.clock.advance(7 * 60_000);
    expect(await errorCode(browser.trpc.auth.me.query())).toBe('UNAUTHENTICATED');
  });

  it('lists sessions with the current flag, revokes one, and signs out the others', async () => {
    const { browser, email } = await signUp(app.url, 'Many');
    const laptop = new Browser(app.url);
    laptop.headers['user-agent'] = 'Laptop/1.0';
    await laptop.trpc.auth.signIn.mutate({ email, password: PASSWORD });
    const phone = new Browser(app.url);
    await phone.trpc.auth.signIn.mutate({ email, password: PASSWORD });

    const list = await laptop.trpc.sessions.list.query();
    expect(list).toHaveLength(3);
    expect(list.filter((s) => s.current)).toHaveLength(1);
    const current = list.find((s) => s.current);
    expect(current?.userAgent).toBe('Laptop/1.0');
    expect(current?.ip).toMatch(/127\.0\.0\.1/);

    const phoneSession = (await phone.trpc.sessions.list.query()).find((s) => s.current);
    await laptop.trpc.sessions.revoke.mutate({ id: phoneSession?.id ?? '' });
    expect(await errorCode(phone.trpc.auth.me.query())).toBe('UNAUTHENTICATED');

    expect(await laptop.trpc.sessions.revokeOthers.mutate()).toEqual({ revoked: 1 });
    expect(await errorCode(browser.trpc.auth.me.query())).toBe('UNAUTHENTICATED');
    expect((await laptop.trpc.sessions.list.query()).map((s) => s.current)).toEqual([true]);
  });

  it('cannot revoke another user’s session', async () => {
    const a = await signUp(app.url, 'Alice');
    const b = await signUp(app.url, 'Bob');
    const bobs = await b.browser.trpc.sessions.list.query();
    expect(await errorCode(a.browser.trpc.sessions.revoke.mutate({ id: bobs[0]?.id ?? '' }))).toBe(
      'NOT_FOUND',
    );
    expect((await b.browser.trpc.auth.me.query()).user.name).toBe('Bob');
  });
});

describe('CSRF', () => {
  async function mutateWith(headers: Record<string, string>, withCookie: boolean): Promise<number> {
    const { browser } = await signUpPerson(app, 'Csrf');
    const res = await fetch(`${app.url}/trpc/orgs.create`, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        ...(withCookie && browser.cookie ? { cookie: browser.cookie } : {}),
        ...headers,
      },
      body: JSON.stringify({ name: 'Acme' }),
    });
    return res.status;
  }

  it('accepts a cookie mutation from the same origin (Sec-Fetch-Site)', async () => {
    expect(await mutateWith({ 'sec-fetch-site': 'same-origin' }, true)).toBe(200);
  });

  it('refuses cross-site and same-site cookie mutations', async () => {
    expect(await mutateWith({ 'sec-fetch-site': 'cross-site', origin: 'https://evil.example' }, true)).toBe(
      403,
    );
    expect(
      await mutateWith({ 'sec-fetch-site': 'same-site', origin: 'https://evil.crowdee.dev' }, true),
    ).toBe(403);
  });

  it('falls back to Origin when Sec-Fetch-Site is absent', async () => {
    const host = new URL(app.url).host;
    expect(await mutateWith({ origin: `http://${host}` }, true)).toBe(200);
    expect(await mutateWith({ origin: 'https://evil.example' }, true)).toBe(403);
    expect(await mutateWith({ origin: 'null' }, true)).toBe(403);
  });

  it('refuses a cookie mutation with neither header', async () => {
    expect(await mutateWith({}, true)).toBe(403);
  });

  it('honours the configured allowlist', async () => {
    const other = await startTestApp({ config: { allowedOrigins: ['https://admin.crowdee.dev'] } });
    try {
      const { browser } = await signUpPerson(other, 'Allow');
      const res = await fetch(`${other.url}/trpc/orgs.create`, {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          cookie: browser.cookie ?? '',
          'sec-fetch-site': 'same-site',
          origin: 'https://admin.crowdee.dev',
        },
        body: JSON.stringify({ name: 'Allowed' }),
      });
      expect(res.status).toBe(200);
    } finally {
      await other.close();
    }
  });

  it('stops login CSRF: a cross-site sign-in is refused', async () => {
    const res = await fetch(`${app.url}/trpc/auth.signIn`, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        'sec-fetch-site': 'cross-site',
        origin: 'https://evil.example',
      },
      body: JSON.stringify({ email: 'x@example.com', password: PASSWORD }),
    });
    expect(res.status).toBe(403);
    const body = (await res.json()) as { error: { data: { code: string } } };
    expect(body.error.data.code).toBe('CSRF_REJECTED');
  });

  it('never changes state through a query (GET)', async () => {
    const { browser } = await signUpPerson(app, 'Get');
    const res = await browser.fetch(
      `${app.url}/trpc/orgs.create?input=${encodeURIComponent(JSON.stringify({ name: 'Sneaky' }))}`,
    );
    expect(res.status).toBe(405);
    expect(await browser.trpc.orgs.list.query()).toEqual([]);
  });
});
