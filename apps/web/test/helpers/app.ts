import type { TestMailbox } from '@crowdee/api/testing';
import type { Locator, Page } from 'playwright-core';
import { screenshot } from './browser.ts';

export interface TestUser {
  name: string;
  email: string;
  password: string;
}

export const PASSWORD = 'correct horse battery staple';

export function testUser(name: string): TestUser {
  const local = name.toLowerCase().replace(/[^a-z]+/g, '.');
  return { name, email: `${local}.${Date.now().toString(36)}@example.com`, password: PASSWORD };
}

/** The app's sudo-mode prompt (`REAUTHENTICATION_REQUIRED` on a sensitive action). */
export const SUDO_DIALOG = 'Confirm it’s you';

/** Per page: the password of whoever signed in last on it, and how many prompts it answered. */
const answering = new WeakMap<Page, { password: string; answered: number }>();

/**
 * Answers the "Confirm it’s you" dialog with the signed-in user's password whenever it shows up during a story, as
 * the person would: a story that outlives the 10-minute sudo window in real time (a loaded machine) then reads the
 * same. Sign-up and sign-in through the UI register it; tests of the dialog itself turn it off
 * (`stopAnsweringSudoPrompts`).
 */
export async function answerSudoPrompts(page: Page, user: TestUser): Promise<void> {
  const state = answering.get(page);
  if (state) {
    state.password = user.password;
    return;
  }
  answering.set(page, { password: user.password, answered: 0 });
  const prompt = page.getByRole('dialog', { name: SUDO_DIALOG, exact: true });
  await page.addLocatorHandler(prompt, async () => {
    const current = answering.get(page);
    if (!current) return;
    await prompt.getByLabel('Password', { exact: true }).fill(current.password);
    await prompt.getByRole('button', { name: 'Confirm', exact: true }).click();
    current.answered++;
  });
}

export async function stopAnsweringSudoPrompts(page: Page): Promise<void> {
  await page.removeLocatorHandler(page.getByRole('dialog', { name: SUDO_DIALOG, exact: true }));
  answering.delete(page);
}

export function sudoPromptsAnswered(page: Page): number {
  return answering.get(page)?.answered ?? 0;
}

/** Signs up through the UI, starting from the sign-in page a signed-out visitor sees first. */
export async function signUpThroughUi(page: Page, user: TestUser, screenshotName?: string): Promise<void> {
  await page.goto('/');
  await page.getByRole('heading', { name: 'Sign in' }).waitFor();
  await page.getByRole('link', { name: 'Create an account' }).click();
  await page.getByLabel('Name', { exact: true }).fill(user.name);
  await page.getByLabel('Email', { exact: true }).fill(user.email);
  await page.getByLabel('Password', { exact: true }).fill(user.password);
  if (screenshotName) await screenshot(page, screenshotName);
  await page.getByRole('button', { name: 'Create account' }).click();
  await page.getByRole('heading', { name: 'API keys', level: 1 }).waitFor();
  await answerSudoPrompts(page, user);
}

/**
 * Follows the verification link that sign-up mailed to `user`, read from the test's real SMTP server, and returns
 * to the settings app (creating an organization needs a verified address).
 */
export async function verifyThroughMailedLink(
  page: Page,
  mailbox: TestMailbox,
  user: TestUser,
): Promise<void> {
  const mail = await mailbox.take(user.email, 'verify-email');
  await page.goto('about:blank');
  await page.goto(mail.link.toString());
  await page.getByText(`${user.email} is verified.`).waitFor();
  await page.getByRole('link', { name: 'Continue to settings' }).click();
  await page.getByRole('heading', { name: 'API keys', level: 1 }).waitFor();
}

export async function signInThroughUi(page: Page, user: TestUser): Promise<void> {
  await page.goto('/sign-in');
  await page.getByLabel('Email', { exact: true }).fill(user.email);
  await page.getByLabel('Password', { exact: true }).fill(user.password);
  await page.getByRole('button', { name: 'Sign in', exact: true }).click();
  await page.getByRole('heading', { name: 'API keys', level: 1 }).waitFor();
  await answerSudoPrompts(page, user);
}

export async function goToSettings(
  page: Page,
  label:
    | 'API keys'
    | 'Members'
    | 'Runs'
    | 'Usage'
    | 'Limits'
    | 'Sessions'
    | 'Audit log'
    | 'Account'
    | 'Security',
) {
  await page.getByRole('navigation', { name: 'Settings' }).getByRole('link', { name: label }).click();
  await page.getByRole('heading', { name: label, level: 1 }).waitFor();
}

export interface MeResponse {
  key: { id: string; name: string; role: string; scope: string[] | null; expiresAt: string | null };
  organizations: { id: string; name: string; creatorRole: string; effectiveRole: string }[];
}

/** `GET /api/v1/me` with a key, as a script would call it (Node's fetch: no browser, no cookies). */
export async function callMe(baseUrl: string, key: string): Promise<{ status: number; body: unknown }> {
  const response = await fetch(`${baseUrl}/api/v1/me`, { headers: { Authorization: `Bearer ${key}` } });
  return { status: response.status, body: await response.json() };
}

/** The open dialog with this title (a `dialog` or an `alertdialog`'s name is its title). */
export function dialog(page: Page, name: string): Locator {
  return page.getByRole('dialog', { name, exact: true });
}

/** The row of "Your API keys" whose name cell is `name`. */
export function keyRow(page: Page, name: string): Locator {
  return page
    .getByRole('region', { name: 'Your API keys' })
    .getByRole('row')
    .filter({ has: page.getByRole('rowheader', { name, exact: true }) });
}

/** Creates an organization through its dialog (the signed-in user becomes its owner and it becomes active). */
export async function createOrganizationThroughUi(page: Page, name: string): Promise<void> {
  await page.getByRole('button', { name: 'Create organization', exact: true }).click();
  const create = dialog(page, 'Create organization');
  await create.getByLabel('Organization name', { exact: true }).fill(name);
  await create.getByRole('button', { name: 'Create organization' }).click();
  await create.waitFor({ state: 'detached' });
}
