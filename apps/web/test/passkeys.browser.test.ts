/**
 * Passkeys end to end in Chromium: the DevTools virtual authenticator (a platform authenticator with resident keys
 * and user verification, as a laptop's fingerprint reader is) stands in for the person's device. One story in
 * order: register a passkey in Settings → Security, sign in with the password and the passkey as the second step,
 * sign in with the passkey alone, remove it, and see the removed passkey refused. The app is opened at `localhost`: browsers refuse an IP address as an RP ID.
 */

import type { E2EServer } from '@crowdee/api/testing';
import type { TestDatabase } from '@crowdee/db/testing';
import type { Browser, CDPSession, Locator, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  goToSettings,
  SUDO_DIALOG,
  signUpThroughUi,
  stopAnsweringSudoPrompts,
  testUser,
} from './helpers/app.ts';
import {
  chromiumAvailable,
  openUserPage,
  screenshot,
  type UserPage,
  warnIfNoChromium,
} from './helpers/browser.ts';
import { startBrowserStory, stopBrowserStory } from './helpers/story.ts';

warnIfNoChromium('passkeys in Chromium');

describe.skipIf(!chromiumAvailable)('passkeys in Chromium', () => {
  let db: TestDatabase;
  let server: E2EServer;
  let browser: Browser;
  let user: UserPage;
  let cdp: CDPSession;
  let authenticatorId = '';
  const person = testUser('Pat Passkey');

  beforeAll(async () => {
    ({ db, server, browser } = await startBrowserStory());
    user = await openUserPage(browser, server.url.replace('127.0.0.1', 'localhost'));
    cdp = await user.context.newCDPSession(user.page);
    await cdp.send('WebAuthn.enable');
    ({ authenticatorId } = await cdp.send('WebAuthn.addVirtualAuthenticator', {
      options: {
        protocol: 'ctap2',
        transport: 'internal',
        hasResidentKey: true,
        hasUserVerification: true,
        isUserVerified: true,
        automaticPresenceSimulation: true,
      },
    }));
  });

  afterAll(async () => {
    await stopBrowserStory({ browser, server, db });
  });

  const passkeysCard = (page: Page): Locator => page.getByRole('region', { name: 'Passkeys' });
  const credentials = async () =>
    (await cdp.send('WebAuthn.getCredentials', { authenticatorId })).credentials;

  it('registers a named passkey in Settings → Security', async () => {
    const { page } = user;
    await signUpThroughUi(page, person);
    await goToSettings(page, 'Security');
    const card = passkeysCard(page);
    await card.getByText('No passkeys yet').waitFor();
    await card.getByRole('button', { name: 'Add a passkey' }).click();
    const add = page.getByRole('dialog', { name: 'Add a passkey' });
    await add.getByLabel('Passkey name', { exact: true }).fill('Work laptop');
    await add.getByRole('button', { name: 'Continue' }).click();
    await card.getByText('Passkey “Work laptop” added.').waitFor();
    const row = card.getByRole('row').filter({ has: page.getByRole('rowheader', { name: 'Work laptop' }) });
    expect(await row.getByRole('cell').nth(1).textContent()).toBe('Never');
    await screenshot(page, 'passkeys-01-registered');
    // The authenticator now holds one discoverable credential for this site, for this account.
    const made = await credentials();
    expect(made).toHaveLength(1);
    expect(made[0]?.rpId).toBe('localhost');
    expect(made[0]?.isResidentCredential).toBe(true);
  });

  it('renames it', async () => {
    const { page } = user;
    const card = passkeysCard(page);
    await card.getByRole('button', { name: 'Rename' }).click();
    const rename = page.getByRole('dialog', { name: 'Rename passkey' });
    await rename.getByLabel('Passkey name', { exact: true }).fill('MacBook');
    await rename.getByRole('button', { name: 'Save' }).click();
    await card.getByText('Passkey renamed to “MacBook”.').waitFor();
    await card.getByRole('rowheader', { name: 'MacBook' }).waitFor();
  });

  it('after the password, asks for the passkey as the second step', async () => {
    const { page } = user;
    await page.getByRole('button', { name: 'Sign out' }).click();
    await page.getByRole('heading', { name: 'Sign in' }).waitFor();
    await page.getByLabel('Email', { exact: true }).fill(person.email);
    await page.getByLabel('Password', { exact: true }).fill(person.password);
    await page.getByRole('button', { name: 'Sign in', exact: true }).click();
    await page.getByRole('heading', { name: 'Two-step verification' }).waitFor();
    await screenshot(page, 'passkeys-02-second-step');
    await page.getByRole('button', { name: 'Use a passkey' }).click();
    await page.getByRole('heading', { name: 'API keys', level: 1 }).waitFor();
    const methods = await server.deps.orm.em
      .fork()
      .getConnection()
      .execute<{ auth_method: string }[]>(
        'select s.auth_method from sessions s join users u on u.id = s.user_id where u.email = ?',
        [person.email],
      );
    expect(methods.map((s) => s.auth_method)).toEqual(['password+passkey']);
  });

  it('signs out, then signs in with the passkey alone', async () => {
    const { page } = user;
    await page.getByRole('button', { name: 'Sign out' }).click();
    await page.getByRole('heading', { name: 'Sign in' }).waitFor();
    await screenshot(page, 'passkeys-03-sign-in');
    await page.getByRole('button', { name: 'Sign in with a passkey' }).click();
    await page.getByRole('heading', { name: 'API keys', level: 1 }).waitFor();
    // The API recorded it as a passkey sign-in, and the passkey as just used.
    const signIns = await server.deps.orm.em
      .fork()
      .getConnection()
      .execute<{ auth_method: string }[]>(
        'select s.auth_method from sessions s join users u on u.id = s.user_id where u.email = ?',
        [person.email],
      );
    expect(signIns.map((s) => s.auth_method)).toEqual(['passkey']);
    await goToSettings(page, 'Security');
    const row = passkeysCard(page)
      .getByRole('row')
      .filter({ has: page.getByRole('rowheader', { name: 'MacBook' }) });
    await expect.poll(() => row.getByRole('cell').nth(1).textContent()).not.toBe('Never');
    expect((await credentials())[0]?.signCount).toBeGreaterThan(0);
  });

  it('removing it past the sudo window asks “Confirm it’s you”, a passkey confirms, and the removal goes ahead', async () => {
    const { page } = user;
    // This story answers the prompt itself, with the passkey (the account has no password-only way to confirm).
    await stopAnsweringSudoPrompts(page);
    // The sign-in was a proof of identity 11 minutes ago, as far as the server can tell.
    await server.deps.orm.em
      .fork()
      .getConnection()
      .execute(
        "update sessions set verified_at = verified_at - interval '11 minutes' where user_id = (select id from users where email = ?)",
        [person.email],
      );
    const card = passkeysCard(page);
    await card.getByRole('button', { name: 'Remove' }).click();
    const confirm = page.getByRole('alertdialog', { name: 'Remove passkey' });
    await confirm.getByRole('button', { name: 'Remove passkey' }).click();
    const prompt = page.getByRole('dialog', { name: SUDO_DIALOG, exact: true });
    await prompt.waitFor();
    // Only a passkey is accepted here: no password field to type into.
    expect(await prompt.getByLabel('Password', { exact: true }).count()).toBe(0);
    await screenshot(page, 'passkeys-04-confirm-with-passkey');
    await prompt.getByRole('button', { name: 'Use a passkey' }).click();
    await prompt.waitFor({ state: 'detached' });
    await card.getByText('Passkey “MacBook” removed.').waitFor();
    await card.getByText('No passkeys yet').waitFor();
    await screenshot(page, 'passkeys-05-removed');
    const confirmations = await server.deps.orm.em
      .fork()
      .getConnection()
      .execute<{ metadata: { method: string } }[]>(
        "select metadata from audit_events where action = 'auth.sudo_confirmed' and actor_user_id = (select id from users where email = ?)",
        [person.email],
      );
    expect(confirmations.map((c) => c.metadata.method)).toEqual(['passkey']);
  });

  it('the removed passkey no longer signs in', async () => {
    const { page } = user;

    await page.getByRole('button', { name: 'Sign out' }).click();
    await page.getByRole('heading', { name: 'Sign in' }).waitFor();
    // The device still offers its credential; the API no longer knows it.
    expect(await credentials()).toHaveLength(1);
    await page.getByRole('button', { name: 'Sign in with a passkey' }).click();
    const notice = page.getByRole('alert').filter({ hasText: 'This passkey was not accepted' });
    await notice.waitFor();
    await screenshot(page, 'passkeys-06-refused');
    await page.getByRole('heading', { name: 'Sign in' }).waitFor();
  });
});
