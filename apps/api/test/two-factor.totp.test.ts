/**
 * Authenticator codes (TOTP) end to end against real PostgreSQL, with the injected clock pinned so that 30-second
 * steps are exact: enrolment, the two-step sign-in, the ±1 step window, replay refusal, recovery codes, the
 * challenge's limits, factor changes ending other sessions, audit events, and secrets never raw in the database or
 * the logs. Attacks go over raw HTTP (batches, reused and foreign challenges).
 */
import {
  MAX_BATCH_CALLS,
  recoveryCodeHash,
  SIGN_IN_CHALLENGE_MAX_ATTEMPTS,
  SIGN_IN_CHALLENGE_TTL_MS,
  SUDO_WINDOW_MS,
  TOTP_PERIOD_SECONDS,
  totpCodeForStep,
  totpStep,
} from '@crowdee/core';
import { TRPCClientError } from '@trpc/client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Person, signUpPerson } from './helpers/fixtures.ts';
import { Browser, errorCode, PASSWORD } from './helpers/http-client.ts';
import { startTestApp, type TestApp } from './helpers/test-app.ts';

const STEP_MS = TOTP_PERIOD_SECONDS * 1000;
let app: TestApp;
/** Every secret and recovery code the tests saw: none may appear in the logs or the database. */
const seen: string[] = [];

beforeAll(async () => {
  app = await startTestApp();
  // Pinned at the start of a step: codes are computed for exact steps, whatever the machine's load.
  app.clock.pin(new Date(Math.floor(Date.now() / STEP_MS) * STEP_MS));
});
afterAll(async () => {
  await app?.close();
});

const step = () => totpStep(app.clock.now());
const nextStep = () => app.clock.advance(STEP_MS);

interface Enrolled extends Person {
  secret: string;
  recoveryCodes: string[];
}

async function enrol(name: string): Promise<Enrolled> {
  const person = await signUpPerson(app, name);
  const { secret } = await person.browser.trpc.auth.totp.beginEnrolment.mutate();
  const { recoveryCodes } = await person.browser.trpc.auth.totp.confirmEnrolment.mutate({
    code: totpCodeForStep(secret, step()),
  });
  seen.push(secret, ...recoveryCodes);
  // The enrolment used this step's code: later sign-ins use later steps.
  nextStep();
  return { ...person, secret, recoveryCodes };
}

async function challenge(person: Person, browser = new Browser(app.url)) {
  const result = await browser.trpc.auth.signIn.mutate({ email: person.email, password: PASSWORD });
  if (result.status !== 'second-factor-required') throw new Error('expected a second step');
  seen.push(result.challengeToken);
  return { browser, ...result };
}

async function sessionRow(browser: Browser) {
  const id = decodeURIComponent(browser.cookie?.split('=')[1] ?? '').split('.')[0];
  const rows = await app.orm.em
    .fork()
    .getConnection()
    .execute<{ auth_method: string; verified_method: string }[]>(
      'select auth_method, verified_method from sessions where id = ?',
      [id],
    );
  return rows[0];
}

async function auditActions(userId: string): Promise<string[]> {
  const rows = await app.orm.em
    .fork()
    .getConnection()
    .execute<{ action: string }[]>(
      `select action from audit_events where actor_user_id = ? or target_id = ? order by created_at, id`,
      [userId, userId],
    );
  return rows.map((r) => r.action);
}

describe('enrolment', () => {
  it('shows a QR code and the secret, stores only ciphertext, and turns on with a code from the app', async () => {
    const person = await signUpPerson(app, 'Ada');
    const other = new Browser(app.url);
    await other.trpc.auth.signIn.mutate({ email: person.email, password: PASSWORD });

    const begun = await person.browser.trpc.auth.totp.beginEnrolment.mutate();
    seen.push(begun.secret);
    expect(begun.secret).toMatch(/^[A-Z2-7]{32}$/);
    expect(begun.otpauthUri).toContain(`secret=${begun.secret}`);
    expect(begun.otpauthUri).toContain('issuer=Crowdee');
    expect(begun.qrCodeDataUrl).toMatch(/^data:image\/png;base64,/);
    expect(await person.browser.trpc.auth.totp.status.query()).toMatchObject({
      enabled: false,
      pending: true,
    });

    const [row] = await app.orm.em
      .fork()
      .getConnection()
      .execute<{ secret_ciphertext: string }[]>('select secret_ciphertext from user_totp where user_id = ?', [
        person.id,
      ]);
    expect(row?.secret_ciphertext).toMatch(/^v1\./);
    expect(row?.secret_ciphertext).not.toContain(begun.secret);

    // A pending set-up changes nothing at sign-in.
    expect(
      (await new Browser(app.url).trpc.auth.signIn.mutate({ email: person.email, password: PASSWORD }))
        .status,
    ).toBe('signed-in');
    expect(
      await errorCode(
        person.browser.trpc.auth.totp.confirmEnrolment.mutate({
          code: totpCodeForStep(begun.secret, step() + 2),
        }),
      ),
    ).toBe('SECOND_FACTOR_INVALID');
    const { recoveryCodes, endedSessions } = await person.browser.trpc.auth.totp.confirmEnrolment.mutate({
      code: totpCodeForStep(begun.secret, step()),
    });
    seen.push(...recoveryCodes);
    expect(recoveryCodes).toHaveLength(10);
    expect(new Set(recoveryCodes).size).toBe(10);
    expect(endedSessions).toBe(2);
    expect(await errorCode(other.trpc.auth.me.query())).toBe('UNAUTHENTICATED');
    expect(await person.browser.trpc.auth.me.query()).toMatchObject({ user: { id: person.id } });
    expect(await person.browser.trpc.auth.totp.status.query()).toMatchObject({
      enabled: true,
      pending: false,
      recoveryCodesRemaining: 10,
    });

    const hashes = await app.orm.em
      .fork()
      .getConnection()
      .execute<{ code_hash: string }[]>('select code_hash from recovery_codes where user_id = ?', [
        person.id,
      ]);
    expect(hashes.map((h) => h.code_hash).sort()).toEqual(
      recoveryCodes.map((c) => recoveryCodeHash(c)).sort(),
    );
    expect(await auditActions(person.id)).toContain('auth.totp_enabled');

    // Set up once: starting again is refused while it is on.
    expect(await errorCode(person.browser.trpc.auth.totp.beginEnrolment.mutate())).toBe('CONFLICT');
    expect(await errorCode(person.browser.trpc.auth.totp.confirmEnrolment.mutate({ code: '123456' }))).toBe(
      'NOT_FOUND',
    );
    nextStep();
  });
});

describe('two-step sign-in', () => {
  it('asks for the second factor without setting a cookie, then signs in with a code', async () => {
    const ada = await enrol('Signer');
    const first = await challenge(ada);
    expect(first.methods).toEqual(['totp', 'recovery-code']);
    expect(first.browser.cookie).toBeUndefined();
    expect(first.browser.lastSetCookie).toEqual([]);
    expect(new Date(first.expiresAt).getTime() - app.clock.now().getTime()).toBe(SIGN_IN_CHALLENGE_TTL_MS);
    expect(await errorCode(first.browser.trpc.auth.me.query())).toBe('UNAUTHENTICATED');

    const done = await first.browser.trpc.auth.completeSignIn.mutate({
      challengeToken: first.challengeToken,
      totpCode: totpCodeForStep(ada.secret, step()),
    });
    expect(done).toEqual({ status: 'signed-in', user: expect.objectContaining({ id: ada.id }) });
    expect(await first.browser.trpc.auth.me.query()).toMatchObject({ user: { id: ada.id } });
    expect(await sessionRow(first.browser)).toEqual({
      auth_method: 'password+totp',
      verified_method: 'totp',
    });
    // The challenge is spent: the same token never signs in twice.
    expect(
      await errorCode(
        new Browser(app.url).trpc.auth.completeSignIn.mutate({
          challengeToken: first.challengeToken,
          totpCode: totpCodeForStep(ada.secret, step() + 1),
        }),
      ),
    ).toBe('SIGN_IN_CHALLENGE_INVALID');
  });

  it('accepts a code one step early or late, refuses two steps away, and never the same code twice', async () => {
    const ada = await enrol('Window');
    app.clock.advance(10 * STEP_MS);
    const s = step();
    const answer = async (code: string) => {
      const c = await challenge(ada);
      return errorCode(
        c.browser.trpc.auth.completeSignIn.mutate({ challengeToken: c.challengeToken, totpCode: code }),
      );
    };
    expect(await answer(totpCodeForStep(ada.secret, s - 2))).toBe('SECOND_FACTOR_INVALID');
    expect(await answer(totpCodeForStep(ada.secret, s + 2))).toBe('SECOND_FACTOR_INVALID');
    expect(await answer(totpCodeForStep(ada.secret, s - 1))).toBe('OK');
    // Replay of the code just used: refused.
    expect(await answer(totpCodeForStep(ada.secret, s - 1))).toBe('SECOND_FACTOR_INVALID');
    expect(await answer(totpCodeForStep(ada.secret, s + 1))).toBe('OK');
    // Once step s+1 is used, the current step's code is older: refused too.
    expect(await answer(totpCodeForStep(ada.secret, s))).toBe('SECOND_FACTOR_INVALID');
    expect(await answer(totpCodeForStep(ada.secret, s + 1))).toBe('SECOND_FACTOR_INVALID');
    app.clock.advance(2 * STEP_MS);
    expect(
      await answer(
        `${totpCodeForStep(ada.secret, step()).slice(0, 3)} ${totpCodeForStep(ada.secret, step()).slice(3)}`,
      ),
    ).toBe('OK');
    const failures = (await auditActions(ada.id)).filter((a) => a === 'auth.second_factor_failed');
    expect(failures).toHaveLength(5);
  });

  it('signs in with a recovery code once, typed any way; the session says so', async () => {
    const ada = await enrol('Recovery');
    const [code = '', second = ''] = ada.recoveryCodes;
    const c = await challenge(ada);
    await c.browser.trpc.auth.completeSignIn.mutate({ challengeToken: c.challengeToken, recoveryCode: code });
    expect(await sessionRow(c.browser)).toEqual({
      auth_method: 'password+recovery-code',
      verified_method: 'recovery-code',
    });
    const again = await challenge(ada);
    expect(
      await errorCode(
        again.browser.trpc.auth.completeSignIn.mutate({
          challengeToken: again.challengeToken,
          recoveryCode: code,
        }),
      ),
    ).toBe('SECOND_FACTOR_INVALID');
    const typed = ` ${second.toUpperCase().replace('-', ' ')} `;
    expect(
      await errorCode(
        again.browser.trpc.auth.completeSignIn.mutate({
          challengeToken: again.challengeToken,
          recoveryCode: typed,
        }),
      ),
    ).toBe('OK');
    expect(await c.browser.trpc.auth.totp.status.query()).toMatchObject({ recoveryCodesRemaining: 8 });
  });

  it('a challenge takes five answers, then dies even for the right code', async () => {
    const ada = await enrol('Guesser');
    const c = await challenge(ada);
    const right = totpCodeForStep(ada.secret, step());
    const wrong = right === '000000' ? '111111' : '000000';
    for (let i = 0; i < SIGN_IN_CHALLENGE_MAX_ATTEMPTS; i++)
      expect(
        await errorCode(
          c.browser.trpc.auth.completeSignIn.mutate({ challengeToken: c.challengeToken, totpCode: wrong }),
        ),
      ).toBe('SECOND_FACTOR_INVALID');
    expect(
      await errorCode(
        c.browser.trpc.auth.completeSignIn.mutate({ challengeToken: c.challengeToken, totpCode: right }),
      ),
    ).toBe('SIGN_IN_CHALLENGE_INVALID');
    // The right code was not spent by the dead challenge: a new one takes it.
    const fresh = await challenge(ada);
    expect(
      await errorCode(
        fresh.browser.trpc.auth.completeSignIn.mutate({
          challengeToken: fresh.challengeToken,
          totpCode: right,
        }),
      ),
    ).toBe('OK');
  });

  it('a challenge expires after five minutes; a forged or altered token is refused alike', async () => {
    const ada = await enrol('Late');
    const c = await challenge(ada);
    const [id, secret = ''] = c.challengeToken.split('.');
    const altered = `${id}.${secret.slice(0, -1)}${secret.endsWith('A') ? 'B' : 'A'}`;
    for (const token of [altered, 'nonsense', `${'A'.repeat(20)}.${'A'.repeat(43)}`])
      expect(
        await errorCode(
          c.browser.trpc.auth.completeSignIn.mutate({
            challengeToken: token,
            totpCode: totpCodeForStep(ada.secret, step()),
          }),
        ),
      ).toBe('SIGN_IN_CHALLENGE_INVALID');
    app.clock.advance(SIGN_IN_CHALLENGE_TTL_MS);
    const live = () =>
      app.orm.em
        .fork()
        .getConnection()
        .execute<{ n: string }[]>('select count(*) as n from auth_challenges where user_id = ?', [ada.id]);
    expect(Number((await live())[0]?.n)).toBe(1);
    expect(
      await errorCode(
        c.browser.trpc.auth.completeSignIn.mutate({
          challengeToken: c.challengeToken,
          totpCode: totpCodeForStep(ada.secret, step()),
        }),
      ),
    ).toBe('SIGN_IN_CHALLENGE_INVALID');
    // The next sign-in clears the dead challenge away.
    await challenge(ada);
    expect(Number((await live())[0]?.n)).toBe(1);
  });

  it("another account's code does not answer my challenge", async () => {
    const mine = await enrol('Mine');
    const theirs = await enrol('Theirs');
    const c = await challenge(mine);
    expect(
      await errorCode(
        c.browser.trpc.auth.completeSignIn.mutate({
          challengeToken: c.challengeToken,
          totpCode: totpCodeForStep(theirs.secret, step()),
        }),
      ),
    ).toBe('SECOND_FACTOR_INVALID');
    expect(
      await errorCode(
        c.browser.trpc.auth.completeSignIn.mutate({
          challengeToken: c.challengeToken,
          recoveryCode: theirs.recoveryCodes[0] ?? '',
        }),
      ),
    ).toBe('SECOND_FACTOR_INVALID');
  });

  it('refuses both answers at once, or none', async () => {
    const ada = await enrol('Both');
    const c = await challenge(ada);
    const code = totpCodeForStep(ada.secret, step());
    const res = await fetch(`${app.url}/trpc/auth.completeSignIn`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'sec-fetch-site': 'same-origin' },
      body: JSON.stringify({
        challengeToken: c.challengeToken,
        totpCode: code,
        recoveryCode: ada.recoveryCodes[0],
      }),
    });
    expect(res.status).toBe(400);
    expect(
      await errorCode(
        c.browser.trpc.auth.completeSignIn.mutate({ challengeToken: c.challengeToken } as never),
      ),
    ).toBe('VALIDATION_FAILED');
  });
});

describe('attacks over raw HTTP', () => {
  async function batch(browser: Browser, inputs: unknown[]) {
    const payload = Object.fromEntries(inputs.map((input, i) => [String(i), input]));
    const res = await fetch(`${app.url}/trpc/${inputs.map(() => 'auth.completeSignIn').join(',')}?batch=1`, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        'sec-fetch-site': 'same-origin',
        ...(browser.cookie ? { cookie: browser.cookie } : {}),
      },
      body: JSON.stringify(payload),
    });
    const body = (await res.json()) as { error?: { data: { code: string } } }[];
    return { res, codes: body.map((e) => (e.error ? e.error.data.code : 'OK')) };
  }

  it('a batch of guesses gets at most five checks out of one challenge', async () => {
    const ada = await enrol('Batcher');
    const c = await challenge(ada);
    const right = totpCodeForStep(ada.secret, step());
    const guesses = Array.from({ length: MAX_BATCH_CALLS }, (_, i) => String(i).padStart(6, '0')).filter(
      (g) => g !== right,
    );
    const { codes } = await batch(
      c.browser,
      guesses.map((totpCode) => ({ challengeToken: c.challengeToken, totpCode })),
    );
    expect(codes.filter((x) => x === 'SECOND_FACTOR_INVALID')).toHaveLength(SIGN_IN_CHALLENGE_MAX_ATTEMPTS);
    expect(codes.filter((x) => x === 'SIGN_IN_CHALLENGE_INVALID')).toHaveLength(
      guesses.length - SIGN_IN_CHALLENGE_MAX_ATTEMPTS,
    );
  });

  it('the right code sent many times at once signs in exactly once', async () => {
    const ada = await enrol('Racer');
    const c = await challenge(ada);
    const right = totpCodeForStep(ada.secret, step());
    const { res, codes } = await batch(
      c.browser,
      Array.from({ length: 5 }, () => ({ challengeToken: c.challengeToken, totpCode: right })),
    );
    expect(codes.filter((x) => x === 'OK')).toHaveLength(1);
    expect(res.headers.getSetCookie()).toHaveLength(1);
    const sessions = await app.orm.em
      .fork()
      .getConnection()
      .execute<{ n: string }[]>(
        `select count(*) as n from sessions where user_id = ? and auth_method = 'password+totp'`,
        [ada.id],
      );
    expect(Number(sessions[0]?.n)).toBe(1);
  });

  it('one recovery code raced on two challenges signs in once', async () => {
    const ada = await enrol('Recovery racer');
    const a = await challenge(ada);
    const b = await challenge(ada);
    const code = ada.recoveryCodes[0] ?? '';
    const results = await Promise.all(
      [a, b].map((c) =>
        errorCode(
          c.browser.trpc.auth.completeSignIn.mutate({ challengeToken: c.challengeToken, recoveryCode: code }),
        ),
      ),
    );
    expect(results.sort()).toEqual(['OK', 'SECOND_FACTOR_INVALID']);
  });
});

describe('changing factors', () => {
  it('turning the app off needs a fresh second factor; then ends other sessions and sign-in is one step again', async () => {
    const ada = await enrol('Switcher');
    // The enrolment counts as a second factor proven just now; after the sudo window it no longer does.
    app.clock.advance(SUDO_WINDOW_MS);
    const refused = await ada.browser.trpc.auth.totp.disable.mutate().catch((e: unknown) => e);
    expect(refused).toBeInstanceOf(TRPCClientError);
    expect((refused as TRPCClientError<never>).data).toMatchObject({
      code: 'REAUTHENTICATION_REQUIRED',
      httpStatus: 403,
      acceptedMethods: ['totp', 'recovery-code'],
      sudoWindowSeconds: 600,
    });
    expect(await errorCode(ada.browser.trpc.auth.totp.regenerateRecoveryCodes.mutate())).toBe(
      'REAUTHENTICATION_REQUIRED',
    );

    // A sign-in with the app is a fresh second factor.
    const c = await challenge(ada);
    await c.browser.trpc.auth.completeSignIn.mutate({
      challengeToken: c.challengeToken,
      totpCode: totpCodeForStep(ada.secret, step()),
    });
    const regenerated = await c.browser.trpc.auth.totp.regenerateRecoveryCodes.mutate();
    seen.push(...regenerated.recoveryCodes);
    expect(regenerated.endedSessions).toBe(1);
    expect(await errorCode(ada.browser.trpc.auth.me.query())).toBe('UNAUTHENTICATED');
    const stale = await challenge(ada);
    expect(
      await errorCode(
        stale.browser.trpc.auth.completeSignIn.mutate({
          challengeToken: stale.challengeToken,
          recoveryCode: ada.recoveryCodes[1] ?? '',
        }),
      ),
    ).toBe('SECOND_FACTOR_INVALID');
    expect(
      await errorCode(
        stale.browser.trpc.auth.completeSignIn.mutate({
          challengeToken: stale.challengeToken,
          recoveryCode: regenerated.recoveryCodes[0] ?? '',
        }),
      ),
    ).toBe('OK');

    const { endedSessions } = await c.browser.trpc.auth.totp.disable.mutate();
    expect(endedSessions).toBe(1);
    expect(await errorCode(stale.browser.trpc.auth.me.query())).toBe('UNAUTHENTICATED');
    expect(await c.browser.trpc.auth.me.query()).toMatchObject({ user: { id: ada.id } });
    expect(await c.browser.trpc.auth.totp.status.query()).toEqual({
      enabled: false,
      pending: false,
      confirmedAt: null,
      recoveryCodesRemaining: 0,
    });
    const plain = await new Browser(app.url).trpc.auth.signIn.mutate({
      email: ada.email,
      password: PASSWORD,
    });
    expect(plain.status).toBe('signed-in');
    const left = await app.orm.em
      .fork()
      .getConnection()
      .execute<{ n: string }[]>(
        'select (select count(*) from recovery_codes where user_id = ?) + (select count(*) from user_totp where user_id = ?) as n',
        [ada.id, ada.id],
      );
    expect(Number(left[0]?.n)).toBe(0);
    const actions = await auditActions(ada.id);
    for (const action of ['auth.totp_enabled', 'auth.recovery_codes_regenerated', 'auth.totp_disabled'])
      expect(actions).toContain(action);
  });

  it('a second factor proven longer ago than the sudo window does not count, in any session', async () => {
    const ada = await enrol('Password only');
    const other = await challenge(ada);
    await other.browser.trpc.auth.completeSignIn.mutate({
      challengeToken: other.challengeToken,
      recoveryCode: ada.recoveryCodes[0] ?? '',
    });
    app.clock.advance(SUDO_WINDOW_MS);
    expect(await errorCode(other.browser.trpc.auth.totp.disable.mutate())).toBe('REAUTHENTICATION_REQUIRED');
    expect(await errorCode(ada.browser.trpc.auth.totp.disable.mutate())).toBe('REAUTHENTICATION_REQUIRED');
  });

  it('a set-up never confirmed can be dropped without a second factor; nothing to turn off is NOT_FOUND', async () => {
    const person = await signUpPerson(app, 'Dropper');
    expect(await errorCode(person.browser.trpc.auth.totp.disable.mutate())).toBe('NOT_FOUND');
    expect(await errorCode(person.browser.trpc.auth.totp.regenerateRecoveryCodes.mutate())).toBe('NOT_FOUND');
    const begun = await person.browser.trpc.auth.totp.beginEnrolment.mutate();
    seen.push(begun.secret);
    expect(await person.browser.trpc.auth.totp.disable.mutate()).toEqual({ endedSessions: 0 });
    expect(await person.browser.trpc.auth.totp.status.query()).toMatchObject({
      pending: false,
      enabled: false,
    });
  });
});

describe('secrets at rest and in logs', () => {
  it('no seed or recovery code appears raw in any table or log line', async () => {
    expect(seen.length).toBeGreaterThan(20);
    const logs = app.logs.text;
    for (const secret of seen) expect(logs).not.toContain(secret);
    const dump = await app.orm.em
      .fork()
      .getConnection()
      .execute<{ t: string }[]>(
        `select coalesce(string_agg(x::text, ' '), '') as t from (
           select row_to_json(u)::text as x from user_totp u
           union all select row_to_json(r)::text from recovery_codes r
           union all select row_to_json(a)::text from audit_events a
           union all select row_to_json(c)::text from auth_challenges c) rows`,
      );
    const text = dump[0]?.t ?? '';
    expect(text).toContain('v1.');
    for (const secret of seen) {
      expect(text).not.toContain(secret);
      expect(text.toLowerCase()).not.toContain(secret.toLowerCase());
    }
  });
});
