/**
 * Sudo mode in Chromium, against the real API and PostgreSQL, with a server clock the test moves: once the
 * 10-minute window has closed, a sensitive action opens "Confirm it’s you" inline; cancelling leaves the form as it
 * was, a wrong password is said so on the field, the right one confirms and the action goes ahead by itself.
 */

import type { E2EServer } from '@crowdee/api/testing';
import { totpCodeForStep, totpStep } from '@crowdee/core';
import { SUDO_WINDOW_MS } from '@crowdee/core/two-factor';
import type { TestDatabase } from '@crowdee/db/testing';
import type { Browser, Locator, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  callMe,
  goToSettings,
  type MeResponse,
  SUDO_DIALOG,
  signUpThroughUi,
  stopAnsweringSudoPrompts,
  sudoPromptsAnswered,
  testUser,
  verifyThroughMailedLink,
} from './helpers/app.ts';
import {
  chromiumAvailable,
  openUserPage,
  screenshot,
  type UserPage,
  warnIfNoChromium,
} from './helpers/browser.ts';
import { startBrowserStory, stopBrowserStory } from './helpers/story.ts';

warnIfNoChromium('sudo mode in Chromium');

const ORG = 'Sudo Labs';

describe.skipIf(!chromiumAvailable)('sudo mode in Chromium', () => {
  let db: TestDatabase;
  let server: E2EServer;
  let browser: Browser;
  let owner: UserPage;
  let offset = 0;
  const ownerUser = testUser('Sam Sudo');

  beforeAll(async () => {
    ({ db, server, browser } = await startBrowserStory({
      clock: () => new Date(Date.now() + offset),
    }));
    owner = await openUserPage(browser, server.url);
  });

  afterAll(async () => {
    await stopBrowserStory({ browser, server, db });
  });

  const dialog = (page: Page, name: string): Locator => page.getByRole('dialog', { name, exact: true });

  async function openCreateKey(page: Page, name: string): Promise<Locator> {
    await page.getByRole('button', { name: 'Create API key' }).click();
    const create = dialog(page, 'Create API key');
    await create.getByLabel('Name', { exact: true }).fill(name);
    await create.getByRole('radio', { name: 'Admin', exact: true }).check();
    return create;
  }

  it('signs up and creates an organization (sudo actions right after sign-in need no confirmation)', async () => {
    const { page } = owner;
    await signUpThroughUi(page, ownerUser);
    // This file watches the prompt itself.
    await stopAnsweringSudoPrompts(page);
    await verifyThroughMailedLink(page, server.mailbox, ownerUser);
    await page.getByRole('button', { name: 'Create organization', exact: true }).click();
    const create = dialog(page, 'Create organization');
    await create.getByLabel('Organization name', { exact: true }).fill(ORG);
    await create.getByRole('button', { name: 'Create organization' }).click();
    await create.waitFor({ state: 'detached' });
    const fresh = await openCreateKey(page, 'Fresh key');
    await fresh.getByRole('button', { name: 'Create key' }).click();
    await dialog(page, 'New API key').getByRole('button', { name: 'Done' }).click();
    await page
      .getByRole('region', { name: 'Your API keys' })
      .getByRole('rowheader', { name: 'Fresh key', exact: true })
      .waitFor();
    expect(await dialog(page, SUDO_DIALOG).count()).toBe(0);
  });

  it('past the window, creating a key asks "Confirm it’s you"; cancel keeps the form as it was', async () => {
    const { page } = owner;
    offset += SUDO_WINDOW_MS;
    const create = await openCreateKey(page, 'Deploy bot');
    await create.getByRole('button', { name: 'Create key' }).click();
    const prompt = dialog(page, SUDO_DIALOG);
    await prompt.waitFor();
    // Focus lands in the password field, ready to type.
    await expect
      .poll(() => page.evaluate(() => (document.activeElement as HTMLInputElement | null)?.type))
      .toBe('password');
    await screenshot(page, 'sudo-01-confirm-dialog');
    await prompt.getByRole('button', { name: 'Cancel' }).click();
    await prompt.waitFor({ state: 'detached' });

    // The action did not run, and the form is untouched, with a word on why.
    await create.getByText('Confirm it’s you to continue').waitFor();
    expect(await create.getByLabel('Name', { exact: true }).inputValue()).toBe('Deploy bot');
    expect(await create.getByRole('radio', { name: 'Admin', exact: true }).isChecked()).toBe(true);
    expect(await page.getByRole('rowheader', { name: 'Deploy bot', exact: true }).count()).toBe(0);
  });

  it('a wrong password is said so on the field; the right one confirms and the key is created, once', async () => {
    const { page } = owner;
    const create = dialog(page, 'Create API key');
    await create.getByRole('button', { name: 'Create key' }).click();
    const prompt = dialog(page, SUDO_DIALOG);
    await prompt.getByLabel('Password', { exact: true }).fill('not my password at all');
    await prompt.getByRole('button', { name: 'Confirm', exact: true }).click();
    await prompt.getByText('Incorrect password.').waitFor();
    await prompt.getByLabel('Password', { exact: true }).fill(ownerUser.password);
    await prompt.getByRole('button', { name: 'Confirm', exact: true }).click();
    await prompt.waitFor({ state: 'detached' });

    // The original request went again by itself: the key is revealed without another click.
    const panel = dialog(page, 'New API key');
    const key = await panel.getByRole('textbox', { name: 'Secret key' }).inputValue();
    await screenshot(page, 'sudo-02-key-created-after-confirming');
    await panel.getByRole('button', { name: 'Done' }).click();
    const me = await callMe(server.url, key);
    expect(me.status).toBe(200);
    expect((me.body as MeResponse).key).toMatchObject({ name: 'Deploy bot', role: 'admin' });
    const table = page.getByRole('region', { name: 'Your API keys' });
    await table.getByRole('rowheader', { name: 'Deploy bot', exact: true }).waitFor();
    expect(await table.getByRole('rowheader', { name: 'Deploy bot', exact: true }).count()).toBe(1);
  });

  it('once confirmed, the next sensitive action within the window goes ahead without asking', async () => {
    const { page } = owner;
    const create = await openCreateKey(page, 'Second bot');
    await create.getByRole('button', { name: 'Create key' }).click();
    await dialog(page, 'New API key').getByRole('button', { name: 'Done' }).click();
    await page.getByRole('rowheader', { name: 'Second bot', exact: true }).waitFor();
    expect(await dialog(page, SUDO_DIALOG).count()).toBe(0);
    expect(sudoPromptsAnswered(page)).toBe(0);
  });

  it('asks on other pages too: changing the key policy after the window closed', async () => {
    const { page } = owner;
    offset += SUDO_WINDOW_MS;
    await goToSettings(page, 'API keys');
    const policy = page.getByRole('region', { name: 'Key policy' });
    await policy.getByRole('checkbox', { name: 'Require an expiration date' }).check();
    await policy.getByRole('button', { name: 'Save key policy' }).click();
    const prompt = dialog(page, SUDO_DIALOG);
    await prompt.getByLabel('Password', { exact: true }).fill(ownerUser.password);
    await prompt.getByRole('button', { name: 'Confirm', exact: true }).click();
    await prompt.waitFor({ state: 'detached' });
    await policy.getByText('Saved.', { exact: true }).waitFor();
  });

  it('with an authenticator app, the dialog asks for its code (or a recovery code) instead of the password', async () => {
    const { page, context } = owner;
    // Set up through the API with this browser's session (Settings → Security is the TOTP story's to drive).
    const call = async <T>(path: string, input?: unknown): Promise<T> => {
      const res = await context.request.post(`/trpc/${path}`, {
        headers: { 'content-type': 'application/json', 'sec-fetch-site': 'same-origin' },
        ...(input === undefined ? {} : { data: input }),
      });
      expect(res.status(), await res.text()).toBe(200);
      return ((await res.json()) as { result: { data: T } }).result.data;
    };
    const serverNow = () => new Date(Date.now() + offset);
    const { secret } = await call<{ secret: string }>('auth.totp.beginEnrolment');
    const { recoveryCodes } = await call<{ recoveryCodes: string[] }>('auth.totp.confirmEnrolment', {
      code: totpCodeForStep(secret, totpStep(serverNow())),
    });
    await page.reload();
    await page.getByRole('heading', { name: 'API keys', level: 1 }).waitFor();

    offset += SUDO_WINDOW_MS;
    const create = await openCreateKey(page, 'Two-factor bot');
    await create.getByRole('button', { name: 'Create key' }).click();
    const prompt = dialog(page, SUDO_DIALOG);
    const code = prompt.getByLabel('Authentication code', { exact: true });
    await code.waitFor();
    expect(await prompt.getByLabel('Password', { exact: true }).count()).toBe(0);
    const current = totpCodeForStep(secret, totpStep(serverNow()));
    await code.fill(current === '000000' ? '111111' : '000000');
    await prompt.getByRole('button', { name: 'Confirm', exact: true }).click();
    await prompt.getByText('That code or passkey was not accepted', { exact: false }).waitFor();
    await screenshot(page, 'sudo-03-authentication-code');
    await code.fill(totpCodeForStep(secret, totpStep(serverNow())));
    await prompt.getByRole('button', { name: 'Confirm', exact: true }).click();
    await prompt.waitFor({ state: 'detached' });
    const panel = dialog(page, 'New API key');
    const key = await panel.getByRole('textbox', { name: 'Secret key' }).inputValue();
    await panel.getByRole('button', { name: 'Done' }).click();
    expect((await callMe(server.url, key)).status).toBe(200);

    offset += SUDO_WINDOW_MS;
    const policy = page.getByRole('region', { name: 'Key policy' });
    await policy.getByLabel('Maximum lifetime (days)', { exact: true }).fill('90');
    await policy.getByRole('button', { name: 'Save key policy' }).click();
    await prompt.getByRole('button', { name: 'Use a recovery code' }).click();
    await prompt.getByLabel('Recovery code', { exact: true }).fill(recoveryCodes[0] ?? '');
    await prompt.getByRole('button', { name: 'Confirm', exact: true }).click();
    await prompt.waitFor({ state: 'detached' });
    await policy.getByText('Saved.', { exact: true }).waitFor();
  });
});
