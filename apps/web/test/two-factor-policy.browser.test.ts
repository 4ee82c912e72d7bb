/**
 * The organization policy "Members must use two-factor sign-in" in Chromium, against the real API and PostgreSQL:
 * an owner without a second factor is refused the switch (it would lock them out), an enrolled owner turns it on, a
 * member without a second factor sees the banner that sends them to Settings → Security, and the key tables (the
 * member's own and the organization's) show which key the policy stops — which the API then refuses.
 *
 * The owner sets up an authenticator app through the API from their signed-in page (`auth.totp.*`, the code computed
 * from the shown secret), as the Security page does; the Security page's own story is its suite's.
 */
import type { E2EServer } from '@crowdee/api/testing';
import { totpCodeForStep, totpStep } from '@crowdee/core';
import type { TestDatabase } from '@crowdee/db/testing';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  createOrganizationThroughUi,
  dialog,
  goToSettings,
  keyRow,
  signUpThroughUi,
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

warnIfNoChromium('the two-factor policy in the settings app');

const ORG = 'Policy Org';

describe.skipIf(!chromiumAvailable)('the two-factor policy in the settings app', () => {
  let db: TestDatabase;
  let server: E2EServer;
  let browser: Browser;
  let owner: UserPage;
  let member: UserPage;
  const ownerUser = testUser('Owen Owner');
  const memberUser = testUser('Mae Member');
  let memberKey = '';

  const section = (page: Page) => page.getByRole('region', { name: 'Two-factor sign-in' });

  beforeAll(async () => {
    ({ db, server, browser } = await startBrowserStory());
    owner = await openUserPage(browser, server.url);
    member = await openUserPage(browser, server.url);
  });

  afterAll(async () => {
    await stopBrowserStory({ browser, server, db });
  });

  it('a member joins and makes a key; the owner cannot switch the policy on without a second factor', async () => {
    const { page } = owner;
    await signUpThroughUi(page, ownerUser);
    await verifyThroughMailedLink(page, server.mailbox, ownerUser);
    await createOrganizationThroughUi(page, ORG);

    await signUpThroughUi(member.page, memberUser);
    await verifyThroughMailedLink(member.page, server.mailbox, memberUser);
    await goToSettings(page, 'Members');
    const invite = page.getByRole('region', { name: 'Invite member' });
    await invite.getByLabel('Email', { exact: true }).fill(memberUser.email);
    await invite.getByLabel('Role', { exact: true }).selectOption('member');
    await invite.getByRole('button', { name: 'Invite member' }).click();
    const mail = await server.mailbox.take(memberUser.email, 'invitations');
    await member.page.goto(mail.link.toString());
    const invitation = member.page.getByRole('listitem', { name: `Invitation to ${ORG}` });
    await invitation.getByRole('button', { name: 'Accept' }).click();
    await invitation.waitFor({ state: 'detached' });

    await goToSettings(member.page, 'API keys');
    await member.page.getByRole('button', { name: 'Create API key' }).click();
    const make = dialog(member.page, 'Create API key');
    await make.getByLabel('Name', { exact: true }).fill('Mae bot');
    await make.getByRole('radio', { name: 'Member', exact: true }).check();
    await make.getByRole('button', { name: 'Create key' }).click();
    const panel = dialog(member.page, 'New API key');
    memberKey = await panel.getByRole('textbox', { name: 'Secret key' }).inputValue();
    await panel.getByRole('button', { name: 'Done' }).click();
    await panel.waitFor({ state: 'detached' });
    // A member sees the policy and cannot change it.
    await section(member.page).getByText('Only owners can change this.').waitFor();
    expect(await section(member.page).getByRole('checkbox').count()).toBe(0);

    await goToSettings(page, 'API keys');
    const toggle = section(page).getByRole('checkbox', { name: 'Members must use two-factor sign-in' });
    expect(await toggle.isChecked()).toBe(false);
    await toggle.click();
    await section(page).getByText('Set up two-factor sign-in first').waitFor();
    await section(page)
      .getByText(/otherwise the policy would lock you out/)
      .waitFor();
    await expect.poll(() => toggle.isChecked()).toBe(false);
  });

  it('an enrolled owner turns it on; the member sees the banner and the key badge, and the key is refused', async () => {
    // The owner sets up an authenticator app (same-origin calls from their signed-in page).
    const call = (path: string, body?: unknown) =>
      owner.page.evaluate(
        async ([p, b]) => {
          const res = await fetch(`/trpc/${p}`, {
            method: 'POST',
            headers: { 'content-type': 'application/json' },
            ...(b === undefined ? {} : { body: JSON.stringify(b) }),
          });
          return (await res.json()) as { result?: { data: Record<string, unknown> } };
        },
        [path, body] as const,
      );
    const begun = await call('auth.totp.beginEnrolment');
    const secret = String(begun.result?.data.secret ?? '');
    const confirmed = await call('auth.totp.confirmEnrolment', {
      code: totpCodeForStep(secret, totpStep(new Date())),
    });
    expect(confirmed.result?.data.recoveryCodes).toHaveLength(10);

    const { page } = owner;
    const toggle = section(page).getByRole('checkbox', { name: 'Members must use two-factor sign-in' });
    await toggle.click();
    await section(page)
      .getByText(`Members of ${ORG} must use two-factor sign-in.`, { exact: false })
      .waitFor();
    expect(await toggle.isChecked()).toBe(true);
    await screenshot(page, 'two-factor-policy-on');
    // The organization's key table: the member's key is stopped here until she enrols.
    const orgKeyRow = page
      .getByRole('region', { name: /keys/i })
      .getByRole('row')
      .filter({ has: page.getByText('Mae bot', { exact: true }) });
    await orgKeyRow.getByText('Two-factor required').waitFor();
    // The owner enrolled: no banner for them.
    expect(await page.getByRole('region', { name: 'Two-factor sign-in required' }).count()).toBe(0);

    await member.page.reload();
    const banner = member.page.getByRole('region', { name: 'Two-factor sign-in required' });
    await banner.getByText(`${ORG} requires two-factor sign-in.`).waitFor();
    const link = banner.getByRole('link', { name: 'Settings → Security' });
    expect(await link.getAttribute('href')).toBe('/settings/security');
    const maesKey = keyRow(member.page, 'Mae bot');
    await maesKey.getByText('Two-factor required').waitFor();
    await maesKey.getByText(`Refused in ${ORG} until you set up two-factor sign-in`).waitFor();
    await screenshot(member.page, 'two-factor-policy-member');

    const me = (await (
      await fetch(`${server.url}/api/v1/me`, { headers: { authorization: `Bearer ${memberKey}` } })
    ).json()) as { organizations: { id: string }[] };
    expect(me.organizations).toEqual([]);
    const orgs = (await member.page.evaluate(async () => {
      const res = await fetch('/trpc/orgs.list');
      return (await res.json()) as { result: { data: { id: string }[] } };
    })) as { result: { data: { id: string }[] } };
    const orgId = orgs.result.data[0]?.id ?? '';
    const refused = await fetch(`${server.url}/api/v1/orgs/${orgId}/projects`, {
      headers: { authorization: `Bearer ${memberKey}` },
    });
    expect(refused.status).toBe(403);
    expect(((await refused.json()) as { code: string }).code).toBe('TWO_FACTOR_REQUIRED');

    // The switch is in the organization's audit log, in words.
    await goToSettings(page, 'Audit log');
    const row = page.getByRole('row').filter({ hasText: 'Two-factor policy changed' });
    await row.getByText('members must use two-factor sign-in').waitFor();
  });
});
