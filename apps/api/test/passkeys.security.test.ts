/**
 * Passkeys attacked over raw HTTP: batches that answer one ceremony twice or remove two factors at once,
 * ceremonies used for another purpose, malformed authenticator output (never a 500), login CSRF, and the
 * passkey sign-in budget (batches, attached credentials).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { signUpPerson } from './helpers/fixtures.ts';
import { Browser, errorCode } from './helpers/http-client.ts';
import { SoftwareAuthenticator } from './helpers/software-authenticator.ts';
import { startTestApp, type TestApp } from './helpers/test-app.ts';

interface Envelope {
  result?: { data: unknown };
  error?: { data: { code: string } };
}

async function post(browser: Browser, url: string, body: unknown, headers: Record<string, string> = {}) {
  const res = await browser.fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body: JSON.stringify(body),
  });
  return { status: res.status, body: (await res.json()) as Envelope[] | Envelope };
}

/** POSTs one tRPC batch: the same procedure `inputs.length` times, or the listed procedures. */
function batch(browser: Browser, base: string, procedures: string[], inputs: unknown[]) {
  const payload = Object.fromEntries(inputs.map((input, i) => [String(i), input]));
  return post(browser, `${base}/trpc/${procedures.join(',')}?batch=1`, payload);
}

const codes = (body: unknown) => (body as Envelope[]).map((e) => (e.error ? e.error.data.code : 'OK'));

describe('ceremonies under attack', () => {
  let app: TestApp;
  let origin: string;
  beforeAll(async () => {
    app = await startTestApp();
    origin = app.url.replace('127.0.0.1', 'localhost');
  });
  afterAll(async () => {
    await app?.close();
  });

  async function personWithPasskey(name: string) {
    const person = await signUpPerson(app, name);
    const authenticator = new SoftwareAuthenticator(origin);
    const { ceremonyId, options } = await person.browser.trpc.auth.passkeys.registrationOptions.mutate();
    const { passkey } = await person.browser.trpc.auth.passkeys.register.mutate({
      ceremonyId,
      name,
      response: authenticator.register(options).response,
    });
    return { person, authenticator, passkey };
  }

  it('one batch answering one sign-in ceremony twice signs in once', async () => {
    const { authenticator } = await personWithPasskey('Batch');
    const browser = new Browser(app.url);
    const { ceremonyId, options } = await browser.trpc.auth.passkeys.signInOptions.mutate();
    const response = authenticator.authenticate(options);
    const answer = await batch(
      browser,
      app.url,
      ['auth.passkeys.signIn', 'auth.passkeys.signIn', 'auth.passkeys.signIn'],
      [
        { ceremonyId, response },
        { ceremonyId, response },
        { ceremonyId, response },
      ],
    );
    expect(codes(answer.body).sort()).toEqual(['OK', 'PASSKEY_INVALID', 'PASSKEY_INVALID']);
  });

  it('two fresh ceremonies answered with one counter value at once: only one goes through', async () => {
    const { authenticator } = await personWithPasskey('Twice');
    const browser = new Browser(app.url);
    const first = await browser.trpc.auth.passkeys.signInOptions.mutate();
    const second = await browser.trpc.auth.passkeys.signInOptions.mutate();
    // A cloned authenticator: both assertions carry counter 1.
    const a = authenticator.authenticate(first.options, { counter: 1 });
    const b = authenticator.authenticate(second.options, { counter: 1 });
    const answer = await batch(
      browser,
      app.url,
      ['auth.passkeys.signIn', 'auth.passkeys.signIn'],
      [
        { ceremonyId: first.ceremonyId, response: a },
        { ceremonyId: second.ceremonyId, response: b },
      ],
    );
    expect(codes(answer.body).sort()).toEqual(['OK', 'PASSKEY_INVALID']);
  });

  it('one batch removing both of two passkeys without a fresh factor removes neither', async () => {
    const { person, authenticator } = await personWithPasskey('Remover');
    const { ceremonyId, options } = await person.browser.trpc.auth.passkeys.registrationOptions.mutate();
    const second = await person.browser.trpc.auth.passkeys.register.mutate({
      ceremonyId,
      name: 'second',
      response: authenticator.register(options).response,
    });
    const [first] = await person.browser.trpc.auth.passkeys.list.query();
    const answer = await batch(
      person.browser,
      app.url,
      ['auth.passkeys.remove', 'auth.passkeys.remove'],
      [{ id: first?.id }, { id: second.passkey.id }],
    );
    expect(codes(answer.body)).toEqual(['REAUTHENTICATION_REQUIRED', 'REAUTHENTICATION_REQUIRED']);
    expect(await person.browser.trpc.auth.passkeys.list.query()).toHaveLength(2);
  });

  it('a ceremony answers only its own purpose', async () => {
    const { person, authenticator } = await personWithPasskey('Purpose');
    // A registration ceremony's id and challenge, answered as a sign-in.
    const registration = await person.browser.trpc.auth.passkeys.registrationOptions.mutate();
    const asAssertion = authenticator.authenticate({
      challenge: registration.options.challenge,
      rpId: registration.options.rp.id ?? 'localhost',
    });
    expect(
      await errorCode(
        new Browser(app.url).trpc.auth.passkeys.signIn.mutate({
          ceremonyId: registration.ceremonyId,
          response: asAssertion,
        }),
      ),
    ).toBe('PASSKEY_INVALID');
    // A sign-in ceremony's id, answered as a registration.
    const signIn = await person.browser.trpc.auth.passkeys.signInOptions.mutate();
    const made = authenticator.register({
      challenge: signIn.options.challenge,
      rp: { id: 'localhost', name: 'x' },
      user: { id: 'AAAAAAAAAAAAAAAAAAAAAA' },
    });
    expect(
      await errorCode(
        person.browser.trpc.auth.passkeys.register.mutate({
          ceremonyId: signIn.ceremonyId,
          name: 'x',
          response: made.response,
        }),
      ),
    ).toBe('PASSKEY_INVALID');
  });

  it('malformed authenticator output is PASSKEY_INVALID or VALIDATION_FAILED, never a server error', async () => {
    const { person, authenticator } = await personWithPasskey('Garbage');
    const garbage = Buffer.from('not cbor at all').toString('base64url');
    const registration = await person.browser.trpc.auth.passkeys.registrationOptions.mutate();
    const good = authenticator.register(registration.options).response;
    const bad = [
      { ...good, response: { ...good.response, attestationObject: garbage } },
      { ...good, response: { ...good.response, clientDataJSON: garbage } },
      { ...good, rawId: `${good.id}A` },
    ];
    for (const response of bad) {
      const again = await person.browser.trpc.auth.passkeys.registrationOptions.mutate();
      const res = await post(person.browser, `${app.url}/trpc/auth.passkeys.register`, {
        ceremonyId: again.ceremonyId,
        name: 'x',
        response,
      });
      expect(res.status).toBe(401);
      expect((res.body as Envelope).error?.data.code).toBe('PASSKEY_INVALID');
    }
    const notBase64 = await post(person.browser, `${app.url}/trpc/auth.passkeys.register`, {
      ceremonyId: registration.ceremonyId,
      name: 'x',
      response: { ...good, response: { ...good.response, attestationObject: '{"json": true}' } },
    });
    expect(notBase64.status).toBe(400);
    expect((notBase64.body as Envelope).error?.data.code).toBe('VALIDATION_FAILED');

    const signIn = await new Browser(app.url).trpc.auth.passkeys.signInOptions.mutate();
    const assertion = authenticator.authenticate(signIn.options);
    for (const response of [
      { ...assertion, response: { ...assertion.response, authenticatorData: garbage } },
      { ...assertion, response: { ...assertion.response, signature: garbage } },
      { ...assertion, response: { ...assertion.response, clientDataJSON: garbage } },
    ]) {
      const fresh = await new Browser(app.url).trpc.auth.passkeys.signInOptions.mutate();
      const res = await post(new Browser(app.url), `${app.url}/trpc/auth.passkeys.signIn`, {
        ceremonyId: fresh.ceremonyId,
        response,
      });
      expect(res.status).toBe(401);
      expect((res.body as Envelope).error?.data.code).toBe('PASSKEY_INVALID');
    }
  });

  it('a passkey sign-in from another site is refused (login CSRF)', async () => {
    const browser = new Browser(app.url);
    browser.headers = { 'sec-fetch-site': 'cross-site', origin: 'https://evil.example' };
    const res = await post(browser, `${app.url}/trpc/auth.passkeys.signInOptions`, undefined);
    expect(res.status).toBe(403);
    expect((res.body as Envelope).error?.data.code).toBe('CSRF_REJECTED');
  });

  it('signing in with a passkey ends the session the browser held before (no fixation)', async () => {
    const { person, authenticator } = await personWithPasskey('Fixation');
    const before = person.browser.cookie;
    const { ceremonyId, options } = await person.browser.trpc.auth.passkeys.signInOptions.mutate();
    await person.browser.trpc.auth.passkeys.signIn.mutate({
      ceremonyId,
      response: authenticator.authenticate(options),
    });
    expect(person.browser.cookie).not.toBe(before);
    const stale = new Browser(app.url);
    stale.cookie = before;
    expect(await errorCode(stale.trpc.auth.me.query())).toBe('UNAUTHENTICATED');
  });
});

describe('the passkey sign-in budget', () => {
  let app: TestApp;
  beforeAll(async () => {
    app = await startTestApp({
      limits: {
        policies: {
          'passkey-sign-in': { quota: 3, windowSeconds: 900 },
          anonymous: { quota: 1000 },
          'sign-up': { quota: 1000 },
          'mailed-link': { quota: 1000 },
        },
      },
    });
  });
  afterAll(async () => {
    await app?.close();
  });

  it('counts every call of a batch, and a signed-in cookie does not lift it', async () => {
    const person = await signUpPerson(app, 'Budget');
    // A batch of four, over a budget of three: one clean 429 for the whole batch, nothing stored.
    const over = await batch(person.browser, app.url, Array(4).fill('auth.passkeys.signInOptions'), [
      undefined,
      undefined,
      undefined,
      undefined,
    ]);
    expect(over.status).toBe(429);
    for (let i = 0; i < 3; i++) await person.browser.trpc.auth.passkeys.signInOptions.mutate();
    expect(await errorCode(person.browser.trpc.auth.passkeys.signInOptions.mutate())).toBe('RATE_LIMITED');
    expect(
      await errorCode(
        new Browser(app.url).trpc.auth.passkeys.signIn.mutate({
          ceremonyId: 'x',
          response: {
            id: 'AA',
            rawId: 'AA',
            type: 'public-key',
            clientExtensionResults: {},
            response: { clientDataJSON: '', authenticatorData: '', signature: '' },
          },
        }),
      ),
    ).toBe('RATE_LIMITED');
    const stored = await app.orm.em
      .fork()
      .getConnection()
      .execute<{ n: string }[]>(
        `select count(*) as n from auth_challenges where purpose = 'passkey-authentication'`,
      );
    expect(Number(stored[0]?.n)).toBe(3);
  });
});
