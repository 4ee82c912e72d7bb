/**
 * Red-team attacks on the combination of issue #22's parts (two-step sign-in, recovery codes, sudo mode, the org
 * two-factor policy), over raw HTTP against real PostgreSQL. Each attack that found a hole stays here as its
 * regression test; a few that found nothing stay too, as cheap guards of the seams between the parts.
 */
import { SUDO_WINDOW_MS, TOTP_PERIOD_SECONDS, totpCodeForStep, totpStep } from '@crowdee/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { tokenOf } from '../src/mail/test-mailbox.ts';
import { orgWith, type Person, signUpPerson } from './helpers/fixtures.ts';
import { Browser, errorCode, PASSWORD } from './helpers/http-client.ts';
import { startTestApp, type TestApp } from './helpers/test-app.ts';

const STEP_MS = TOTP_PERIOD_SECONDS * 1000;
const NEW_PASSWORD = 'a brand new passphrase for this account';
let app: TestApp;

beforeAll(async () => {
  app = await startTestApp();
  app.clock.pin(new Date(Math.floor(Date.now() / STEP_MS) * STEP_MS));
});
afterAll(async () => {
  await app?.close();
});

const code = (secret: string) => totpCodeForStep(secret, totpStep(app.clock.now()));

interface Enrolled extends Person {
  secret: string;
  recoveryCodes: string[];
}

async function enrol(name: string): Promise<Enrolled> {
  const person = await signUpPerson(app, name);
  const { secret } = await person.browser.trpc.auth.totp.beginEnrolment.mutate();
  const { recoveryCodes } = await person.browser.trpc.auth.totp.confirmEnrolment.mutate({
    code: code(secret),
  });
  app.clock.advance(STEP_MS);
  return { ...person, secret, recoveryCodes };
}

async function challengeFor(email: string, password = PASSWORD): Promise<string> {
  const result = await new Browser(app.url).trpc.auth.signIn.mutate({ email, password });
  if (result.status !== 'second-factor-required') throw new Error('expected a second step');
  return result.challengeToken;
}

describe('a sign-in challenge is a proof of the password it was made with', () => {
  // FOUND: a challenge outlived a password reset — whoever had the old password (the reason for the reset) could
  // still finish signing in with a phished code for five more minutes.
  it('dies when the password is reset from the mailed link', async () => {
    const victim = await enrol('ResetVictim');
    const attackerChallenge = await challengeFor(victim.email);
    const anon = new Browser(app.url);
    await anon.trpc.auth.requestPasswordReset.mutate({ email: victim.email });
    const link = tokenOf((await app.mailbox.take(victim.email, 'reset-password')).link);
    await anon.trpc.auth.resetPassword.mutate({ token: link, newPassword: NEW_PASSWORD });
    // The reset signs nobody in: no cookie for an account with a second factor.
    expect(anon.cookie).toBeFalsy();

    const attacker = new Browser(app.url);
    expect(
      await errorCode(
        attacker.trpc.auth.completeSignIn.mutate({
          challengeToken: attackerChallenge,
          totpCode: code(victim.secret),
        }),
      ),
    ).toBe('SIGN_IN_CHALLENGE_INVALID');
    expect(attacker.cookie).toBeFalsy();
    // The new password still asks for the second factor.
    const fresh = await new Browser(app.url).trpc.auth.signIn.mutate({
      email: victim.email,
      password: NEW_PASSWORD,
    });
    expect(fresh.status).toBe('second-factor-required');
  });

  it('dies when the owner changes the password in a session of their own', async () => {
    const victim = await enrol('ChangeVictim');
    const attackerChallenge = await challengeFor(victim.email);
    await victim.browser.trpc.auth.changePassword.mutate({
      currentPassword: PASSWORD,
      newPassword: NEW_PASSWORD,
    });
    expect(
      await errorCode(
        new Browser(app.url).trpc.auth.completeSignIn.mutate({
          challengeToken: attackerChallenge,
          recoveryCode: victim.recoveryCodes[0] ?? '',
        }),
      ),
    ).toBe('SIGN_IN_CHALLENGE_INVALID');
    // The recovery code was not spent by the refused attempt: the owner can still use it.
    const own = await challengeFor(victim.email, NEW_PASSWORD);
    const owner = new Browser(app.url);
    await owner.trpc.auth.completeSignIn.mutate({
      challengeToken: own,
      recoveryCode: victim.recoveryCodes[0] ?? '',
    });
    expect(owner.cookie).toBeTruthy();
  });
});

describe('enrolling a factor is no proof of identity', () => {
  // FOUND: confirming an authenticator app stamped the session "verified with the app, just now", which opened the
  // sudo window — a stolen session long past its sign-in enrolled an app of the thief's own and minted keys (and
  // could then remove the owner's factors), never knowing the password.
  // FOUND: a stolen session long past its sign-in could set up an app (or a passkey) of the thief's own: the
  // owner's other sessions ended, and their next sign-in — even after a password reset — asked for the thief's code.
  it('a session whose sudo window closed must confirm before it adds a factor', async () => {
    const victim = await signUpPerson(app, 'Takeover');
    victim.browser.sudoPassword = null;
    app.clock.advance(SUDO_WINDOW_MS);
    expect(await errorCode(victim.browser.trpc.auth.totp.beginEnrolment.mutate())).toBe(
      'REAUTHENTICATION_REQUIRED',
    );
    expect(await errorCode(victim.browser.trpc.auth.passkeys.registrationOptions.mutate())).toBe(
      'REAUTHENTICATION_REQUIRED',
    );
    expect((await victim.browser.trpc.auth.totp.status.query()).enabled).toBe(false);
    // The owner, who knows the password, confirms and goes on.
    await victim.browser.trpc.auth.confirmSudo.mutate({ password: PASSWORD });
    const { secret } = await victim.browser.trpc.auth.totp.beginEnrolment.mutate();
    await victim.browser.trpc.auth.totp.confirmEnrolment.mutate({ code: code(secret) });
    app.clock.advance(STEP_MS);
    expect((await victim.browser.trpc.auth.passkeys.registrationOptions.mutate()).ceremonyId).toBeTruthy();
  });

  it('an app set up late in the window does not extend it', async () => {
    const victim = await signUpPerson(app, 'LateEnrolment');
    victim.browser.sudoPassword = null;
    const org = await orgWith(victim, 'Late', []);
    await victim.browser.trpc.orgs.setActive.mutate({ orgId: org.id });
    // Nine minutes after the sign-in, an app is set up (still inside the window: allowed).
    app.clock.advance(SUDO_WINDOW_MS - 60_000);
    const { secret } = await victim.browser.trpc.auth.totp.beginEnrolment.mutate();
    await victim.browser.trpc.auth.totp.confirmEnrolment.mutate({ code: code(secret) });
    // Two minutes later the sign-in is more than ten minutes old: the window is closed, enrolment or not.
    app.clock.advance(2 * 60_000);
    expect(await errorCode(victim.browser.trpc.keys.create.mutate({ name: 'stolen', role: 'viewer' }))).toBe(
      'REAUTHENTICATION_REQUIRED',
    );
    expect(await victim.browser.trpc.keys.list.query()).toEqual([]);
    expect((await victim.browser.trpc.auth.me.query()).session?.sudoExpiresAt ?? null).toBeNull();
    // The app's own code (a real confirmation, audited) opens it as ever.
    await victim.browser.trpc.auth.confirmSudo.mutate({ totpCode: code(secret) });
    expect(await errorCode(victim.browser.trpc.keys.create.mutate({ name: 'mine', role: 'viewer' }))).toBe(
      'OK',
    );
  });
});

describe('seams that held', () => {
  it('a wrong password answers the same for an account with and without a second factor', async () => {
    const enrolled = await enrol('Enrolled');
    const plain = await signUpPerson(app, 'Plain');
    const answer = async (email: string) => {
      const res = await fetch(`${app.url}/trpc/auth.signIn`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ email, password: 'not the password at all' }),
      });
      const body = (await res.json()) as {
        error: { message: string; code: number; data: Record<string, unknown> };
      };
      const { requestId: _requestId, ...data } = body.error.data;
      return { status: res.status, cookie: res.headers.get('set-cookie'), ...body.error, data };
    };
    const [a, b] = [await answer(enrolled.email), await answer(plain.email)];
    expect(a.status).toBe(401);
    expect(a).toEqual(b);
  });

  it('a challenge made while the app was on does not finish with a recovery code once the app is off', async () => {
    const victim = await enrol('Disabler');
    const attackerChallenge = await challengeFor(victim.email);
    await victim.browser.trpc.auth.totp.disable.mutate();
    expect(
      await errorCode(
        new Browser(app.url).trpc.auth.completeSignIn.mutate({
          challengeToken: attackerChallenge,
          recoveryCode: victim.recoveryCodes[1] ?? '',
        }),
      ),
    ).toBe('SECOND_FACTOR_INVALID');
  });
});

describe('a password sign-in racing a first enrolment', () => {
  // FOUND (stop 25's open gap): a sign-in that checked for factors just before an enrolment committed made a
  // password-only session after it, and the enrolment's sign-out of other sessions had already run without it.
  // Made certain here: an enrolment holds the user's row while the sign-in arrives, then commits its factor.
  it('waits for the enrolment, then asks for the new factor: no password-only session comes out of it', async () => {
    const racer = await signUpPerson(app, 'Racer');
    const knex = app.orm.em.getConnection().getKnex();
    const waitingOnLocks = async () =>
      Number(
        (
          (await knex.raw(
            "select count(*) as n from pg_stat_activity where wait_event_type = 'Lock' and datname = current_database()",
          )) as { rows: { n: string }[] }
        ).rows[0]?.n ?? 0,
      );
    const outcome = await knex.transaction(async (trx) => {
      await trx.raw('select id from users where id = ? for update', [racer.id]);
      const signIn = new Browser(app.url).trpc.auth.signIn.mutate({ email: racer.email, password: PASSWORD });
      let finished = false;
      const settled = signIn.then(
        (result) => {
          finished = true;
          return result.status;
        },
        (error: unknown) => {
          finished = true;
          return String(error);
        },
      );
      // The sign-in must queue behind the enrolment's lock; without it, it finishes (signed in) right away.
      await expect
        .poll(async () => finished || (await waitingOnLocks()) > 0, { timeout: 15_000, interval: 20 })
        .toBe(true);
      const earlyAnswer = finished ? await settled : null;
      await trx.raw(
        "insert into user_totp (id, user_id, secret_ciphertext, confirmed_at, created_at) values (gen_random_uuid(), ?, 'sealed', now(), now())",
        [racer.id],
      );
      return { earlyAnswer, settled };
    });
    expect(outcome.earlyAnswer).toBeNull();
    expect(await outcome.settled).toBe('second-factor-required');
    const sessions = (await knex.raw('select count(*) as n from sessions where user_id = ?', [racer.id])) as {
      rows: { n: string }[];
    };
    // Only the sign-up's own session: the racing sign-in made none.
    expect(Number(sessions.rows[0]?.n)).toBe(1);
  });
});
