/**
 * The per-account second-factor budget: guesses at an account's codes stay slow however many addresses they come
 * from (each answer also pays a per-IP budget at sign-in, and each challenge takes only five).
 */
import { TOTP_PERIOD_SECONDS, totpCodeForStep, totpStep } from '@crowdee/core';
import { TRPCClientError } from '@trpc/client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { signUpPerson } from './helpers/fixtures.ts';
import { Browser, errorCode, PASSWORD } from './helpers/http-client.ts';
import { startTestApp, type TestApp } from './helpers/test-app.ts';

const STEP_MS = TOTP_PERIOD_SECONDS * 1000;
const QUOTA = 3;
let app: TestApp;

beforeAll(async () => {
  app = await startTestApp({
    config: { trustedProxies: ['loopback'] },
    limits: { policies: { 'second-factor': { quota: QUOTA } } },
  });
  app.clock.pin(new Date(Math.floor(Date.now() / STEP_MS) * STEP_MS));
});
afterAll(async () => {
  await app?.close();
});

async function enrolled(name: string) {
  const person = await signUpPerson(app, name);
  const { secret } = await person.browser.trpc.auth.totp.beginEnrolment.mutate();
  await person.browser.trpc.auth.totp.confirmEnrolment.mutate({
    code: totpCodeForStep(secret, totpStep(app.clock.now())),
  });
  return { ...person, secret };
}

/** A sign-in from its own address, up to the second step. */
async function challengeFrom(ip: string, email: string) {
  const browser = new Browser(app.url);
  browser.headers['x-forwarded-for'] = ip;
  const result = await browser.trpc.auth.signIn.mutate({ email, password: PASSWORD });
  if (result.status !== 'second-factor-required') throw new Error('expected a second step');
  return { browser, challengeToken: result.challengeToken };
}

describe('second-factor budget per account', () => {
  it('refuses answers for an account past its budget, from any address, even the right code; others are unaffected', async () => {
    const ada = await enrolled('Target');
    const bob = await enrolled('Bystander');
    app.clock.advance(STEP_MS);
    const step = totpStep(app.clock.now());
    const right = totpCodeForStep(ada.secret, step);
    const wrong = right === '000000' ? '111111' : '000000';
    // The enrolment's code was the first unit; two wrong answers from two addresses spend the rest.
    for (const ip of ['198.51.100.1', '198.51.100.2']) {
      const c = await challengeFrom(ip, ada.email);
      expect(
        await errorCode(
          c.browser.trpc.auth.completeSignIn.mutate({ challengeToken: c.challengeToken, totpCode: wrong }),
        ),
      ).toBe('SECOND_FACTOR_INVALID');
    }
    const c = await challengeFrom('198.51.100.3', ada.email);
    const refused = await c.browser.trpc.auth.completeSignIn
      .mutate({ challengeToken: c.challengeToken, totpCode: right })
      .catch((e: unknown) => e);
    expect(refused).toBeInstanceOf(TRPCClientError);
    expect((refused as TRPCClientError<never>).data).toMatchObject({
      code: 'RATE_LIMITED',
      httpStatus: 429,
      violatedPolicies: ['second-factor'],
    });
    expect((refused as TRPCClientError<never>).data).toHaveProperty('retryAfter', expect.any(Number));

    const other = await challengeFrom('198.51.100.4', bob.email);
    expect(
      await errorCode(
        other.browser.trpc.auth.completeSignIn.mutate({
          challengeToken: other.challengeToken,
          totpCode: totpCodeForStep(bob.secret, step),
        }),
      ),
    ).toBe('OK');
  });

  it('one address gets a budget of its own for the sign-in step, whichever accounts it tries', async () => {
    const ip = '203.0.113.9';
    const people = await Promise.all(['One', 'Two', 'Three', 'Four'].map((n) => enrolled(n)));
    const answers: string[] = [];
    for (const person of people) {
      const c = await challengeFrom(ip, person.email);
      answers.push(
        await errorCode(
          c.browser.trpc.auth.completeSignIn.mutate({ challengeToken: c.challengeToken, totpCode: '000000' }),
        ),
      );
    }
    expect(answers.slice(0, QUOTA).every((a) => a === 'SECOND_FACTOR_INVALID' || a === 'OK')).toBe(true);
    expect(answers[QUOTA]).toBe('RATE_LIMITED');
  });
});
