/**
 * Sudo mode over tRPC and REST: every sensitive action needs a proof of identity no older than 10 minutes (the
 * server's clock, moved here by the TestClock), answers REAUTHENTICATION_REQUIRED with what the client needs to ask
 * for one, and runs after `auth.confirmSudo`. Bearer credentials (keys, `cds_` session tokens) never reach a sudo
 * action, whatever else is attached. Tests here turn the test browsers' automatic confirmation off to see refusals.
 */
import { randomUUID } from 'node:crypto';
import { DomainError, SUDO_WINDOW_MS, totpCodeForStep, totpStep } from '@crowdee/core';
import { AuditEvent, Passkey } from '@crowdee/db';
import { TRPCClientError } from '@trpc/client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { problemDetails, trpcErrorShape } from '../src/errors.ts';
import type { Meta } from '../src/procedure-meta.ts';
import { buildOpenApiDocument } from '../src/rest/openapi.ts';
import { appRouter } from '../src/routers/index.ts';
import { invite, keyFor, orgWith, type Person, signUpPerson } from './helpers/fixtures.ts';
import { Browser, errorCode, keyClient, PASSWORD, uniqueEmail } from './helpers/http-client.ts';
import { raw } from './helpers/raw-http.ts';
import { rest } from './helpers/rest.ts';
import { startTestApp, type TestApp } from './helpers/test-app.ts';

let app: TestApp;

beforeAll(async () => {
  app = await startTestApp();
  // Pinned, so authenticator codes are computed for the step the server will see, however loaded the machine.
  app.clock.pin(new Date());
});
afterAll(async () => {
  await app?.close();
});

/** A person whose browser does not confirm on its own: refusals reach the test. */
async function person(name: string): Promise<Person> {
  const p = await signUpPerson(app, name);
  p.browser.sudoPassword = null;
  return p;
}

/** Moves the server's clock past the window opened by the last proof of identity. */
const closeWindow = () => app.clock.advance(SUDO_WINDOW_MS);

interface Refusal {
  code: string;
  httpStatus: number;
  acceptedMethods: string[];
  sudoWindowSeconds: number;
  message: string;
}

async function refusal(promise: Promise<unknown>): Promise<Refusal | 'OK'> {
  try {
    await promise;
    return 'OK';
  } catch (error) {
    if (!(error instanceof TRPCClientError)) throw error;
    return { ...(error.data as Omit<Refusal, 'message'>), message: error.message };
  }
}

const PASSWORD_ONLY = {
  code: 'REAUTHENTICATION_REQUIRED',
  httpStatus: 403,
  acceptedMethods: ['password'],
  sudoWindowSeconds: 600,
};

async function auditOf(userId: string, action: string, on: TestApp = app) {
  return on.orm.em
    .fork()
    .find(AuditEvent, { actorUserId: userId, action }, { orderBy: { createdAt: 'asc' } });
}

/* ------------------------------------------------------------------------------------------ every sudo action */

interface World {
  owner: Person;
  orgId: string;
  target: Person;
  keyId: string;
  key: string;
}

/**
 * Each sensitive action: how to call it, and how to see that a refused call changed nothing. The world is built
 * while the owner's sign-in is fresh.
 */
interface Action {
  call: (w: World) => Promise<unknown>;
  unchanged: (w: World) => Promise<void>;
  /** The owner needs an authenticator app for it (switching the two-factor policy on): confirmed with a code. */
  needsSecondFactor?: true;
}

const ACTIONS: Record<string, Action> = {
  'keys.create': {
    call: (w) => w.owner.browser.trpc.keys.create.mutate({ name: 'minted', role: 'viewer' }),
    unchanged: async (w) => {
      const names = (await w.owner.browser.trpc.keys.list.query()).map((k) => k.name);
      expect(names).toEqual(['existing']);
    },
  },
  'keys.rotate': {
    call: (w) => w.owner.browser.trpc.keys.rotate.mutate({ id: w.keyId, gracePeriod: 'now' }),
    unchanged: async (w) => {
      expect((await rest(app.url, w.key, 'GET', '/me')).status).toBe(200);
      expect((await w.owner.browser.trpc.keys.list.query()).map((k) => k.status)).toEqual(['active']);
    },
  },
  'keys.updateAllowedIps': {
    call: (w) =>
      w.owner.browser.trpc.keys.updateAllowedIps.mutate({ id: w.keyId, allowedIps: ['10.0.0.0/8'] }),
    unchanged: async (w) => {
      const [listed] = await w.owner.browser.trpc.keys.list.query();
      expect(listed?.allowedIps ?? []).toEqual([]);
    },
  },
  'members.invite': {
    call: (w) =>
      w.owner.browser.trpc.members.invite.mutate({
        orgId: w.orgId,
        email: uniqueEmail('sudo'),
        role: 'admin',
      }),
    unchanged: async (w) => {
      expect(await w.owner.browser.trpc.members.invitations.query({ orgId: w.orgId })).toEqual([]);
    },
  },
  'members.updateRole': {
    call: (w) =>
      w.owner.browser.trpc.members.updateRole.mutate({ orgId: w.orgId, userId: w.target.id, role: 'admin' }),
    unchanged: async (w) => {
      const members = await w.owner.browser.trpc.members.list.query({ orgId: w.orgId });
      expect(members.find((m) => m.userId === w.target.id)?.role).toBe('viewer');
    },
  },
  'orgs.setKeyPolicy': {
    call: (w) =>
      w.owner.browser.trpc.orgs.setKeyPolicy.mutate({
        orgId: w.orgId,
        requireExpiry: true,
        maxLifetimeDays: 30,
      }),
    unchanged: async (w) => {
      const org = await w.owner.browser.trpc.orgs.get.query({ orgId: w.orgId });
      expect(org.keyPolicy).toMatchObject({ requireExpiry: false, maxLifetimeDays: null });
    },
  },
  'orgs.setTwoFactorPolicy': {
    needsSecondFactor: true,
    call: (w) => w.owner.browser.trpc.orgs.setTwoFactorPolicy.mutate({ orgId: w.orgId, required: true }),
    unchanged: async (w) => {
      const org = await w.owner.browser.trpc.orgs.get.query({ orgId: w.orgId });
      expect(org.twoFactorRequired).toBe(false);
    },
  },
  'orgs.delete': {
    call: (w) => w.owner.browser.trpc.orgs.delete.mutate({ orgId: w.orgId }),
    unchanged: async (w) => {
      expect((await w.owner.browser.trpc.orgs.get.query({ orgId: w.orgId })).id).toBe(w.orgId);
    },
  },
};

async function world(): Promise<World> {
  const owner = await person('Owner');
  const target = await signUpPerson(app, 'Target');
  const org = await orgWith(owner, 'Sudo', [{ person: target, role: 'viewer' }]);
  const made = await keyFor(owner, org.id, { name: 'existing', role: 'viewer' });
  return { owner, orgId: org.id, target, keyId: made.id, key: made.key };
}

describe('the sudo procedures', () => {
  it('are exactly the sensitive actions of issue #22, and each is session-only', () => {
    const procedures = appRouter._def.procedures as unknown as Record<string, { _def: { meta?: Meta } }>;
    const sudo = Object.entries(procedures)
      .filter(([, p]) => p._def.meta?.sudo === true)
      .map(([path]) => path)
      .sort();
    expect(sudo).toEqual(Object.keys(ACTIONS).sort());
  });

  it('none of them is a REST operation (REST takes no browser session, so it can never confirm one)', () => {
    const doc = buildOpenApiDocument(appRouter);
    const operations = Object.values(doc.paths ?? {}).flatMap((item) =>
      Object.values(item as Record<string, { operationId?: string }>).map((o) =>
        (o.operationId ?? '').replace(/-/g, '.'),
      ),
    );
    expect(operations.length).toBeGreaterThan(10);
    expect(operations.filter((id) => id in ACTIONS)).toEqual([]);
  });
});

/** Sets up an authenticator app for `who` (while their sign-in is fresh); returns its secret. */
async function enrolTotp(who: Person): Promise<string> {
  const { secret } = await who.browser.trpc.auth.totp.beginEnrolment.mutate();
  await who.browser.trpc.auth.totp.confirmEnrolment.mutate({
    code: totpCodeForStep(secret, totpStep(app.clock.now())),
  });
  return secret;
}

describe.each(Object.keys(ACTIONS))('%s', (name) => {
  const action = ACTIONS[name] as Action;

  it('runs right after sign-in, is refused once the window closed (nothing changes), runs after confirmSudo', async () => {
    const w = await world();
    const secret = action.needsSecondFactor ? await enrolTotp(w.owner) : null;
    closeWindow();
    const refused = await refusal(action.call(w));
    expect(refused).toMatchObject(
      secret ? { ...PASSWORD_ONLY, acceptedMethods: ['totp', 'recovery-code'] } : PASSWORD_ONLY,
    );
    await action.unchanged(w);

    const confirmed = await w.owner.browser.trpc.auth.confirmSudo.mutate(
      secret ? { totpCode: totpCodeForStep(secret, totpStep(app.clock.now())) } : { password: PASSWORD },
    );
    expect(confirmed.method).toBe(secret ? 'totp' : 'password');
    expect(Date.parse(confirmed.sudoExpiresAt) - Date.parse(confirmed.verifiedAt)).toBe(SUDO_WINDOW_MS);
    expect(await refusal(action.call(w))).toBe('OK');
  });
});

/* ----------------------------------------------------------------------------------------------- the window */

describe('the window', () => {
  it('is open until 10 minutes after the last proof, by the server’s clock, and closed from then on', async () => {
    const owner = await person('Edge');
    const org = await orgWith(owner, 'Edge');
    await owner.browser.trpc.orgs.setActive.mutate({ orgId: org.id });
    // Nine minutes on: still open (the minute left is far more than this test's own running time).
    app.clock.advance(SUDO_WINDOW_MS - 60_000);
    expect(await refusal(owner.browser.trpc.keys.create.mutate({ name: 'a', role: 'viewer' }))).toBe('OK');
    app.clock.advance(60_000);
    expect(await refusal(owner.browser.trpc.keys.create.mutate({ name: 'b', role: 'viewer' }))).toMatchObject(
      PASSWORD_ONLY,
    );
  });

  it('belongs to one session: confirming on the laptop leaves the phone’s session closed', async () => {
    const laptop = await person('Two devices');
    const org = await orgWith(laptop, 'Devices');
    const phone = new Browser(app.url);
    await phone.trpc.auth.signIn.mutate({ email: laptop.email, password: PASSWORD });
    closeWindow();
    await laptop.browser.trpc.auth.confirmSudo.mutate({ password: PASSWORD });
    expect(await refusal(laptop.browser.trpc.orgs.setKeyPolicy.mutate(policy(org.id)))).toBe('OK');
    expect(await refusal(phone.trpc.orgs.setKeyPolicy.mutate(policy(org.id)))).toMatchObject(PASSWORD_ONLY);
  });

  it('shows in auth.me and auth.session: how the session signed in, when it was verified, when sudo closes', async () => {
    const owner = await person('Me');
    const signedInAt = app.clock.now().getTime();
    const me = await owner.browser.trpc.auth.me.query();
    expect(me.session.authMethod).toBe('password');
    expect(me.twoFactor).toEqual({ enabled: false, methods: [] });
    const verifiedAt = Date.parse(me.session.verifiedAt ?? '');
    expect(Math.abs(verifiedAt - signedInAt)).toBeLessThan(60_000);
    expect(Date.parse(me.session.sudoExpiresAt ?? '')).toBe(verifiedAt + SUDO_WINDOW_MS);

    closeWindow();
    const stale = await owner.browser.trpc.auth.session.query();
    expect(stale?.session).toMatchObject({ verifiedAt: me.session.verifiedAt, sudoExpiresAt: null });

    const confirmed = await owner.browser.trpc.auth.confirmSudo.mutate({ password: PASSWORD });
    const after = await owner.browser.trpc.auth.me.query();
    expect(after.session).toMatchObject({
      authMethod: 'password',
      verifiedAt: confirmed.verifiedAt,
      sudoExpiresAt: confirmed.sudoExpiresAt,
    });
  });
});

const policy = (orgId: string) => ({ orgId, requireExpiry: true, maxLifetimeDays: 90 });

/* ------------------------------------------------------------------------------------------- auth.confirmSudo */

describe('auth.confirmSudo', () => {
  it('refuses a wrong password on the field, keeps the window closed, and audits success and failure', async () => {
    const owner = await person('Guesser');
    const org = await orgWith(owner, 'Guess');
    closeWindow();
    const wrong = owner.browser.trpc.auth.confirmSudo.mutate({ password: 'not the password at all' });
    await expect(wrong).rejects.toMatchObject({
      data: {
        code: 'VALIDATION_FAILED',
        fieldErrors: [{ path: 'password', message: 'Incorrect password.' }],
      },
    });
    expect(await refusal(owner.browser.trpc.orgs.setKeyPolicy.mutate(policy(org.id)))).toMatchObject(
      PASSWORD_ONLY,
    );
    const failed = await auditOf(owner.id, 'auth.sudo_failed');
    expect(failed.map((e) => e.metadata)).toEqual([{ method: 'password', reason: 'wrong-password' }]);

    await owner.browser.trpc.auth.confirmSudo.mutate({ password: PASSWORD });
    const confirmed = await auditOf(owner.id, 'auth.sudo_confirmed');
    expect(confirmed.map((e) => [e.metadata, e.targetType])).toEqual([[{ method: 'password' }, 'session']]);
    // Nothing secret in what was recorded.
    expect(JSON.stringify([...failed, ...confirmed])).not.toContain('not the password');
    expect(app.logs.text).not.toContain('not the password at all');
  });

  it('takes exactly one proof: none, two, or an unknown one are refused as invalid input', async () => {
    const owner = await person('Inputs');
    const call = (input: unknown) =>
      owner.browser.fetch(`${app.url}/trpc/auth.confirmSudo`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(input),
      });
    for (const input of [
      {},
      { password: PASSWORD, totpCode: '123456' },
      { secret: PASSWORD },
      { password: 42 },
    ]) {
      const res = await call(input);
      const code = ((await res.json()) as { error: { data: { code: string } } }).error.data.code;
      expect([JSON.stringify(input), res.status, code]).toEqual([
        JSON.stringify(input),
        400,
        'VALIDATION_FAILED',
      ]);
    }
    expect(await auditOf(owner.id, 'auth.sudo_confirmed')).toEqual([]);
  });

  it('with an authenticator app the password no longer confirms, even the right one; a code or a recovery code does, each once', async () => {
    const owner = await person('Enrolled');
    const org = await orgWith(owner, 'Enrolled');
    const { secret } = await owner.browser.trpc.auth.totp.beginEnrolment.mutate();
    const { recoveryCodes } = await owner.browser.trpc.auth.totp.confirmEnrolment.mutate({
      code: totpCodeForStep(secret, totpStep(app.clock.now())),
    });
    expect((await owner.browser.trpc.auth.me.query()).twoFactor).toEqual({
      enabled: true,
      methods: ['totp'],
    });
    closeWindow();
    const needs = { code: 'REAUTHENTICATION_REQUIRED', acceptedMethods: ['totp', 'recovery-code'] };
    expect(await refusal(owner.browser.trpc.orgs.setKeyPolicy.mutate(policy(org.id)))).toMatchObject(needs);
    expect(await refusal(owner.browser.trpc.auth.confirmSudo.mutate({ password: PASSWORD }))).toMatchObject(
      needs,
    );
    expect(await refusal(owner.browser.trpc.orgs.setKeyPolicy.mutate(policy(org.id)))).toMatchObject(needs);

    const code = totpCodeForStep(secret, totpStep(app.clock.now()));
    const wrong = code === '000000' ? '111111' : '000000';
    expect(await errorCode(owner.browser.trpc.auth.confirmSudo.mutate({ totpCode: wrong }))).toBe(
      'SECOND_FACTOR_INVALID',
    );
    const byCode = await owner.browser.trpc.auth.confirmSudo.mutate({ totpCode: code });
    expect(byCode.method).toBe('totp');
    expect(await refusal(owner.browser.trpc.orgs.setKeyPolicy.mutate(policy(org.id)))).toBe('OK');
    // A code works once, here as at sign-in.
    expect(await errorCode(owner.browser.trpc.auth.confirmSudo.mutate({ totpCode: code }))).toBe(
      'SECOND_FACTOR_INVALID',
    );

    closeWindow();
    const recoveryCode = recoveryCodes[0] ?? '';
    const byRecovery = await owner.browser.trpc.auth.confirmSudo.mutate({ recoveryCode });
    expect(byRecovery.method).toBe('recovery-code');
    expect(await refusal(owner.browser.trpc.orgs.delete.mutate({ orgId: org.id }))).toBe('OK');
    expect(await errorCode(owner.browser.trpc.auth.confirmSudo.mutate({ recoveryCode }))).toBe(
      'SECOND_FACTOR_INVALID',
    );
    // A second factor confirmed here also counts for weakening the account's own protection.
    expect(await errorCode(owner.browser.trpc.auth.totp.regenerateRecoveryCodes.mutate())).toBe('OK');

    // The clock is pinned, so events of one moment share a time: compared as sets.
    const failures = (await auditOf(owner.id, 'auth.sudo_failed')).map((e) => JSON.stringify(e.metadata));
    expect(failures.sort()).toEqual(
      [
        { method: 'password', reason: 'method-not-accepted' },
        { method: 'totp', reason: 'wrong-code' },
        { method: 'totp', reason: 'wrong-code' },
        { method: 'recovery-code', reason: 'wrong-code' },
      ]
        .map((m) => JSON.stringify(m))
        .sort(),
    );
    expect((await auditOf(owner.id, 'auth.sudo_confirmed')).map((e) => e.metadata)).toEqual([
      { method: 'totp' },
      { method: 'recovery-code' },
    ]);
    const recorded = JSON.stringify(await app.orm.em.fork().find(AuditEvent, { actorUserId: owner.id }));
    for (const secretish of [secret, code, recoveryCode]) expect(recorded).not.toContain(secretish);
    expect(app.logs.text).not.toContain(secret);
    expect(app.logs.text).not.toContain(recoveryCode);
  });

  it('a passkey joins the accepted methods (first, as the strongest)', async () => {
    const owner = await person('Passkey holder');
    // Registering one is the passkeys work's; the row it leaves is what matters here.
    const em = app.orm.em.fork();
    em.create(Passkey, {
      id: randomUUID(),
      user: owner.id,
      credentialId: randomUUID(),
      publicKey: Buffer.from('not a key'),
      deviceType: 'singleDevice',
      name: 'Laptop',
      createdAt: app.clock.now(),
    });
    await em.flush();
    closeWindow();
    expect(await refusal(owner.browser.trpc.keys.create.mutate({ name: 'x', role: 'viewer' }))).toMatchObject(
      {
        acceptedMethods: ['passkey'],
      },
    );
    expect(await refusal(owner.browser.trpc.auth.confirmSudo.mutate({ password: PASSWORD }))).toMatchObject({
      code: 'REAUTHENTICATION_REQUIRED',
      acceptedMethods: ['passkey'],
    });
    expect((await owner.browser.trpc.auth.me.query()).twoFactor).toEqual({
      enabled: true,
      methods: ['passkey'],
    });
  });

  it('is per account rate-limited (reauthentication tier): guessing from a borrowed session stays slow', async () => {
    const limited = await startTestApp({
      limits: { policies: { reauthentication: { quota: 3, windowSeconds: 900 } } },
    });
    try {
      const guesser = await signUpPerson(limited, 'Borrowed');
      const other = await signUpPerson(limited, 'Bystander');
      const guess = () =>
        errorCode(guesser.browser.trpc.auth.confirmSudo.mutate({ password: 'a wrong guess!' }));
      for (let i = 0; i < 3; i++) expect(await guess()).toBe('VALIDATION_FAILED');
      const limitedCall = guesser.browser.trpc.auth.confirmSudo.mutate({ password: PASSWORD });
      await expect(limitedCall).rejects.toMatchObject({
        data: { code: 'RATE_LIMITED', violatedPolicies: ['reauthentication'] },
      });
      // Per account: someone else's confirmation is not affected.
      expect(await errorCode(other.browser.trpc.auth.confirmSudo.mutate({ password: PASSWORD }))).toBe('OK');
      // A batch pays one unit per call: four guesses in one request against a budget of three are one clean 429.
      const batcher = await signUpPerson(limited, 'Batcher');
      const body = Object.fromEntries([0, 1, 2, 3].map((i) => [i, { password: `batched guess ${i}` }]));
      const batch = await raw(
        limited.url,
        'POST',
        `/trpc/${Array(4).fill('auth.confirmSudo').join(',')}?batch=1`,
        {
          headers: { cookie: batcher.browser.cookie ?? '', 'sec-fetch-site': 'same-origin' },
          body,
        },
      );
      expect(batch.status).toBe(429);
      // Refused before any procedure ran: not one guess was checked.
      expect(await auditOf(batcher.id, 'auth.sudo_failed', limited)).toEqual([]);
      expect(await auditOf(guesser.id, 'auth.sudo_failed', limited)).toHaveLength(3);
    } finally {
      await limited.close();
    }
  });
});

/* ------------------------------------------------------------------------- bearer credentials and red team */

describe('bearer credentials never reach a sudo action', () => {
  it('an admin key, even with the owner’s fresh cookie attached, is refused with SESSION_REQUIRED', async () => {
    const w = await world();
    const admin = await signUpPerson(app, 'Admin');
    await invite(w.owner, w.orgId, admin, 'admin');
    const { key } = await keyFor(admin, w.orgId, { role: 'admin' });
    // members:manage lets keys through; the role change is sudo, so session-only.
    const viaKey = keyClient(app.url, key);
    expect(
      await errorCode(
        viaKey.members.updateRole.mutate({ orgId: w.orgId, userId: w.target.id, role: 'admin' }),
      ),
    ).toBe('SESSION_REQUIRED');
    expect(await errorCode(viaKey.auth.confirmSudo.mutate({ password: PASSWORD }))).toBe('SESSION_REQUIRED');

    for (const path of Object.keys(ACTIONS)) {
      const input =
        path === 'keys.create'
          ? { name: 'both attached', role: 'viewer' }
          : path === 'members.updateRole'
            ? { orgId: w.orgId, userId: w.target.id, role: 'admin' }
            : path.startsWith('keys.')
              ? { id: w.keyId, gracePeriod: 'now', allowedIps: ['10.0.0.0/8'] }
              : path === 'members.invite'
                ? { orgId: w.orgId, email: uniqueEmail('both'), role: 'admin' }
                : { ...policy(w.orgId), required: true };
      const res = await raw(app.url, 'POST', `/trpc/${path}`, {
        headers: {
          cookie: w.owner.browser.cookie ?? '',
          'sec-fetch-site': 'same-origin',
          authorization: `Bearer ${key}`,
        },
        body: input,
      });
      expect([path, res.status, JSON.parse(res.text).error.data.code]).toEqual([
        path,
        403,
        'SESSION_REQUIRED',
      ]);
    }
    await ACTIONS['keys.create']?.unchanged(w);
    await ACTIONS['members.updateRole']?.unchanged(w);
  });

  it('a session token (cds_), alone or with its own session’s cookie, is refused with SESSION_REQUIRED', async () => {
    const w = await world();
    const { token } = await w.owner.browser.trpc.auth.createSessionToken.mutate({
      audience: 'sudo red team',
    });
    const viaToken = keyClient(app.url, token);
    expect(await errorCode(viaToken.auth.confirmSudo.mutate({ password: PASSWORD }))).toBe(
      'SESSION_REQUIRED',
    );
    expect(await errorCode(viaToken.orgs.delete.mutate({ orgId: w.orgId }))).toBe('SESSION_REQUIRED');
    expect(
      await errorCode(
        viaToken.members.updateRole.mutate({ orgId: w.orgId, userId: w.target.id, role: 'admin' }),
      ),
    ).toBe('SESSION_REQUIRED');
    const withCookie = await raw(app.url, 'POST', '/trpc/keys.create', {
      headers: {
        cookie: w.owner.browser.cookie ?? '',
        'sec-fetch-site': 'same-origin',
        authorization: `Bearer ${token}`,
      },
      body: { name: 'token and cookie', role: 'viewer' },
    });
    expect([withCookie.status, JSON.parse(withCookie.text).error.data.code]).toEqual([
      403,
      'SESSION_REQUIRED',
    ]);
    await ACTIONS['keys.create']?.unchanged(w);
    await ACTIONS['orgs.delete']?.unchanged(w);
  });

  it('REST answers no spelling of a sudo action, with a key, a session token or a cookie', async () => {
    const w = await world();
    const admin = await signUpPerson(app, 'Rest admin');
    await invite(w.owner, w.orgId, admin, 'admin');
    const { key } = await keyFor(admin, w.orgId, { role: 'admin' });
    const { token } = await w.owner.browser.trpc.auth.createSessionToken.mutate({ audience: 'rest' });
    const routes: [string, string, unknown][] = [
      ['POST', '/keys', { name: 'rest', role: 'viewer' }],
      ['POST', `/keys/${w.keyId}/rotate`, { gracePeriod: 'now' }],
      ['PUT', `/keys/${w.keyId}/allowed-ips`, { allowedIps: [] }],
      ['POST', `/orgs/${w.orgId}/members`, { email: uniqueEmail('rest'), role: 'admin' }],
      ['POST', `/orgs/${w.orgId}/invitations`, { email: uniqueEmail('rest'), role: 'admin' }],
      ['PATCH', `/orgs/${w.orgId}/members/${w.target.id}`, { role: 'admin' }],
      ['PUT', `/orgs/${w.orgId}/key-policy`, { requireExpiry: true, maxLifetimeDays: 30 }],
      ['DELETE', `/orgs/${w.orgId}`, undefined],
      ['POST', '/keys.create', { name: 'rest', role: 'viewer' }],
      ['POST', '/trpc/keys.create', { name: 'rest', role: 'viewer' }],
    ];
    const cookie = { cookie: w.owner.browser.cookie ?? '', 'sec-fetch-site': 'same-origin' };
    for (const [method, path, body] of routes) {
      for (const [who, credential, headers] of [
        ['key', key, {}],
        ['token', token, {}],
        ['cookie', null, cookie],
      ] as const) {
        const res = await rest(app.url, credential, method, path, body, headers);
        expect([method, path, who, res.status]).toEqual([method, path, who, 404]);
      }
    }
    await ACTIONS['keys.create']?.unchanged(w);
    await ACTIONS['members.invite']?.unchanged(w);
    await ACTIONS['members.updateRole']?.unchanged(w);
    await ACTIONS['orgs.setKeyPolicy']?.unchanged(w);
    await ACTIONS['orgs.delete']?.unchanged(w);
  });
});

describe('red team over raw HTTP, with a session past its window', () => {
  let w: World;
  const cookie = () => ({ cookie: w.owner.browser.cookie ?? '', 'sec-fetch-site': 'same-origin' });

  beforeAll(async () => {
    w = await world();
    closeWindow();
  });

  it('no other spelling of the path gets a key minted', async () => {
    const body = { name: 'spelled', role: 'viewer' };
    const spellings = [
      '/trpc/keys.create/',
      '/trpc//keys.create',
      '/trpc/./keys.create',
      '/trpc/keys%2Ecreate',
      '/trpc/keys%2ecreate',
      '/trpc/KEYS.CREATE',
      '/trpc/keys.create?x=1',
      '/trpc/apiKeys.create',
      '/TRPC/keys.create',
      '/trpc/keys.create%00',
    ];
    for (const path of spellings) {
      const res = await raw(app.url, 'POST', path, { headers: cookie(), body });
      expect(res.status, `${path}: ${res.text}`).toBeGreaterThanOrEqual(400);
    }
    const viaGet = await raw(
      app.url,
      'GET',
      `/trpc/keys.create?input=${encodeURIComponent(JSON.stringify(body))}`,
      { headers: cookie() },
    );
    expect(viaGet.status).toBeGreaterThanOrEqual(400);
    await ACTIONS['keys.create']?.unchanged(w);
  });

  it('a batch answers each call on its own: the sudo call is refused with its details, the others run', async () => {
    const res = await raw(app.url, 'POST', '/trpc/keys.update,keys.create,orgs.update?batch=1', {
      headers: cookie(),
      body: {
        0: { id: w.keyId, name: 'renamed in a batch' },
        1: { name: 'batched', role: 'viewer' },
        2: { orgId: w.orgId, name: 'Renamed in a batch' },
      },
    });
    expect(res.status).toBe(207);
    const [rename, create, renameOrg] = JSON.parse(res.text) as {
      result?: { data: { name: string } };
      error?: { data: Record<string, unknown> };
    }[];
    expect(rename?.result?.data.name).toBe('renamed in a batch');
    expect(renameOrg?.result?.data.name).toBe('Renamed in a batch');
    expect(create?.error?.data).toMatchObject({ ...PASSWORD_ONLY, path: 'keys.create' });
    const names = (await w.owner.browser.trpc.keys.list.query()).map((k) => k.name);
    expect(names).toEqual(['renamed in a batch']);
  });

  it('a confirmation batched with the action does not open the window for it (calls are judged as they arrived)', async () => {
    const res = await raw(app.url, 'POST', '/trpc/auth.confirmSudo,keys.create?batch=1', {
      headers: cookie(),
      body: { 0: { password: PASSWORD }, 1: { name: 'same batch', role: 'viewer' } },
    });
    const [confirm, create] = JSON.parse(res.text) as {
      result?: { data: unknown };
      error?: { data: { code: string } };
    }[];
    expect(confirm?.result).toBeDefined();
    expect(create?.error?.data.code).toBe('REAUTHENTICATION_REQUIRED');
    expect((await w.owner.browser.trpc.keys.list.query()).map((k) => k.name)).not.toContain('same batch');
    // The next request finds the window open.
    expect(await refusal(w.owner.browser.trpc.keys.create.mutate({ name: 'after', role: 'viewer' }))).toBe(
      'OK',
    );
  });

  it('a wrong password batched many times over still opens nothing', async () => {
    closeWindow();
    const calls = Array.from({ length: 5 }, () => 'auth.confirmSudo').join(',');
    const body = Object.fromEntries(
      Array.from({ length: 5 }, (_, i) => [i, { password: `guess ${i} guess` }]),
    );
    const res = await raw(app.url, 'POST', `/trpc/${calls}?batch=1`, { headers: cookie(), body });
    const answers = JSON.parse(res.text) as { error?: { data: { code: string } } }[];
    expect(answers.map((a) => a.error?.data.code)).toEqual(Array(5).fill('VALIDATION_FAILED'));
    expect(await refusal(w.owner.browser.trpc.orgs.delete.mutate({ orgId: w.orgId }))).toMatchObject(
      PASSWORD_ONLY,
    );
  });
});

describe('both transports render the refusal’s details', () => {
  it('tRPC’s error data and REST’s problem+json carry acceptedMethods and sudoWindowSeconds', () => {
    const error = new DomainError('REAUTHENTICATION_REQUIRED', undefined, {
      acceptedMethods: ['totp', 'recovery-code'],
      sudoWindowSeconds: 600,
    });
    expect(trpcErrorShape(error, 'keys.create').data).toMatchObject({
      code: 'REAUTHENTICATION_REQUIRED',
      httpStatus: 403,
      acceptedMethods: ['totp', 'recovery-code'],
      sudoWindowSeconds: 600,
    });
    expect(problemDetails(error)).toMatchObject({
      status: 403,
      code: 'REAUTHENTICATION_REQUIRED',
      acceptedMethods: ['totp', 'recovery-code'],
      sudoWindowSeconds: 600,
    });
  });
});
