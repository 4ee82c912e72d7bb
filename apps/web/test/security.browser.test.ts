/**
 * The authenticator app in Chromium, against the real API and PostgreSQL, with the server's clock in the test's
 * hands (30-second steps must not roll over between computing a code and the server checking it): a user sets up
 * the app by computing codes from the secret the page shows, keeps the recovery codes, signs out, and signs in
 * again through the second step — with a code, then with a recovery code — and finally turns the app off.
 */
import { readFile } from 'node:fs/promises';
import type { E2EServer } from '@crowdee/api/testing';
import { TOTP_PERIOD_SECONDS, totpCodeForStep, totpStep } from '@crowdee/core';
import type { TestDatabase } from '@crowdee/db/testing';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { goToSettings, signUpThroughUi, testUser } from './helpers/app.ts';
import {
  chromiumAvailable,
  openUserPage,
  screenshot,
  type UserPage,
  warnIfNoChromium,
} from './helpers/browser.ts';
import { startBrowserStory, stopBrowserStory } from './helpers/story.ts';

warnIfNoChromium('authenticator app in Chromium');

const STEP_MS = TOTP_PERIOD_SECONDS * 1000;

describe.skipIf(!chromiumAvailable)('authenticator app in Chromium', () => {
  let db: TestDatabase;
  let server: E2EServer;
  let browser: Browser;
  let user: UserPage;
  /** The server's time: the start of a 30-second step, moved one step at a time by the test. */
  let now = Math.floor(Date.now() / STEP_MS) * STEP_MS;
  const person = testUser('Tessa Totp');
  let secret = '';
  let recoveryCodes: string[] = [];

  const code = () => totpCodeForStep(secret, totpStep(new Date(now)));
  const nextStep = () => {
    now += STEP_MS;
  };

  beforeAll(async () => {
    ({ db, server, browser } = await startBrowserStory({
      clock: () => new Date(now),
    }));
    user = await openUserPage(browser, server.url);
  });

  afterAll(async () => {
    await stopBrowserStory({ browser, server, db });
  });

  async function signOut(page: Page): Promise<void> {
    await page.getByRole('button', { name: 'Sign out' }).click();
    await page.getByRole('heading', { name: 'Sign in' }).waitFor();
  }

  async function passwordStep(page: Page): Promise<void> {
    await page.getByLabel('Email', { exact: true }).fill(person.email);
    await page.getByLabel('Password', { exact: true }).fill(person.password);
    await page.getByRole('button', { name: 'Sign in', exact: true }).click();
    await page.getByRole('heading', { name: 'Two-step verification' }).waitFor();
  }

  it('sets up the app from the QR code’s secret and shows the recovery codes once', async () => {
    const { page } = user;
    await signUpThroughUi(page, person);
    await goToSettings(page, 'Security');
    const section = page.getByRole('region', { name: 'Authenticator app' });
    await section.getByText('Not set up: sign-in asks only for your password.').waitFor();
    await section.getByRole('button', { name: 'Set up' }).click();

    await section.getByRole('img', { name: 'QR code for your authenticator app' }).waitFor();
    secret = await section.getByLabel('Can’t scan it? Enter this key in the app instead').inputValue();
    expect(secret).toMatch(/^[A-Z2-7]{32}$/);
    await screenshot(page, 'security-01-set-up');

    // A wrong code first: the form says so and stays.
    const field = section.getByLabel('2. Enter the 6-digit code the app shows');
    await field.fill(totpCodeForStep(secret, totpStep(new Date(now)) + 3));
    await section.getByRole('button', { name: 'Turn on' }).click();
    await section.getByText('Couldn’t turn it on').waitFor();
    await field.fill(code());
    await section.getByRole('button', { name: 'Turn on' }).click();

    const list = section.getByRole('list', { name: 'Recovery codes' });
    await list.waitFor();
    recoveryCodes = (await list.getByRole('listitem').allTextContents()).map((c) => c.trim());
    expect(recoveryCodes).toHaveLength(10);
    for (const c of recoveryCodes) expect(c).toMatch(/^[a-z2-9]{5}-[a-z2-9]{5}$/);
    await section.getByText('Save these recovery codes now. They will not be shown again.').waitFor();
    await screenshot(page, 'security-02-recovery-codes');

    const download = page.waitForEvent('download');
    await section.getByRole('button', { name: 'Download' }).click();
    const file = await download;
    expect(file.suggestedFilename()).toBe('crowdee-recovery-codes.txt');
    expect((await readFile(await file.path(), 'utf8')).trim().split('\n')).toEqual(recoveryCodes);

    await section.getByRole('button', { name: 'Copy' }).click();
    await section.getByText('Copied to the clipboard.').waitFor();
    expect(await page.evaluate(() => navigator.clipboard.readText())).toBe(`${recoveryCodes.join('\n')}\n`);

    await section.getByRole('button', { name: 'I saved them' }).click();
    await expect.poll(() => list.count()).toBe(0);
    await section.getByText('10 recovery codes left.').waitFor();
    // Reloading never brings the codes back.
    await page.reload();
    await page
      .getByRole('region', { name: 'Authenticator app' })
      .getByText('10 recovery codes left.')
      .waitFor();
    expect(await page.getByRole('list', { name: 'Recovery codes' }).count()).toBe(0);
  });

  it('signs in again with a code from the app after the password', async () => {
    const { page } = user;
    await signOut(page);
    await passwordStep(page);
    const field = page.getByLabel('Enter the 6-digit code from your authenticator app');
    await screenshot(page, 'security-03-second-step');
    // The code used to turn the app on cannot be used again.
    await field.fill(code());
    await page.getByRole('button', { name: 'Verify' }).click();
    await page
      .getByRole('alert')
      .getByText('That code or passkey was not accepted', { exact: false })
      .waitFor();
    nextStep();
    await field.fill(code());
    await page.getByRole('button', { name: 'Verify' }).click();
    await page.getByRole('heading', { name: 'API keys', level: 1 }).waitFor();
  });

  it('signs in with a recovery code instead, once', async () => {
    const { page } = user;
    await signOut(page);
    await passwordStep(page);
    await page.getByRole('button', { name: 'Use a recovery code' }).click();
    await page.getByLabel('Enter one of your recovery codes').fill((recoveryCodes[0] ?? '').toUpperCase());
    await page.getByRole('button', { name: 'Verify' }).click();
    await page.getByRole('heading', { name: 'API keys', level: 1 }).waitFor();
    await goToSettings(page, 'Security');
    await page
      .getByRole('region', { name: 'Authenticator app' })
      .getByText('9 recovery codes left.')
      .waitFor();
  });

  it('turns the app off with a second factor proven just now; sign-in is one step again', async () => {
    const { page } = user;
    const section = page.getByRole('region', { name: 'Authenticator app' });
    await section.getByRole('button', { name: 'Turn off' }).click();
    const dialog = page.getByRole('alertdialog', { name: 'Turn off the authenticator app?' });
    await dialog.getByRole('button', { name: 'Turn off' }).click();
    await dialog.waitFor({ state: 'detached' });
    await section.getByText('Not set up: sign-in asks only for your password.').waitFor();
    await signOut(page);
    await page.getByLabel('Email', { exact: true }).fill(person.email);
    await page.getByLabel('Password', { exact: true }).fill(person.password);
    await page.getByRole('button', { name: 'Sign in', exact: true }).click();
    await page.getByRole('heading', { name: 'API keys', level: 1 }).waitFor();
  });
});
