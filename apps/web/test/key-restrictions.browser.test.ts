/**
 * The create dialog's restriction fields and the key table's "Allowed IPs" and "Expires soon", in Chromium against
 * the real API and PostgreSQL. The checkboxes must be the catalogue's (grouped by resource, for the chosen role),
 * and what the dialog saves must be what the API then enforces.
 */

import type { E2EServer } from '@crowdee/api/testing';
import { keyPermissionGroups } from '@crowdee/core/key-permissions';
import type { TestDatabase } from '@crowdee/db/testing';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  callMe,
  createOrganizationThroughUi,
  dialog,
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

warnIfNoChromium('key restrictions in the settings app');

describe.skipIf(!chromiumAvailable)('key restrictions in the settings app', () => {
  let db: TestDatabase;
  let server: E2EServer;
  let browser: Browser;
  let owner: UserPage;
  const user = testUser('Rhea Restricted');

  async function takeRevealedKey(page: Page): Promise<string> {
    const panel = dialog(page, 'New API key');
    await panel.waitFor();
    const key = await panel.getByRole('textbox', { name: 'Secret key' }).inputValue();
    await panel.getByRole('button', { name: 'Done' }).click();
    await panel.waitFor({ state: 'detached' });
    return key;
  }

  beforeAll(async () => {
    ({ db, server, browser } = await startBrowserStory());
    owner = await openUserPage(browser, server.url);
    const { page } = owner;
    await signUpThroughUi(page, user);
    await verifyThroughMailedLink(page, server.mailbox, user);
    await createOrganizationThroughUi(page, 'Restricted Inc');
    await page.getByText('No API keys yet').waitFor();
  });

  afterAll(async () => {
    await stopBrowserStory({ browser, server, db });
  });

  it('offers the catalogue grouped by resource, and the key it creates holds only what was ticked', async () => {
    const { page } = owner;
    await page.getByRole('button', { name: 'Create API key' }).click();
    const create = dialog(page, 'Create API key');
    await create.getByLabel('Name', { exact: true }).fill('Read-only reporter');
    await create.getByRole('radio', { name: 'Member', exact: true }).check();
    const permissions = create.getByRole('group', { name: 'Permissions', exact: true });
    await permissions.getByRole('radio', { name: 'Everything the role allows' }).waitFor();
    expect(await create.getByRole('group', { name: 'Choose permissions' }).count()).toBe(0);
    await permissions.getByRole('radio', { name: 'Only these' }).check();

    // One group per resource, each with that resource's permissions, exactly as the catalogue says for a member key.
    const expected = keyPermissionGroups('member');
    const chooser = create.getByRole('group', { name: 'Choose permissions' });
    for (const group of expected) {
      const boxes = chooser.getByRole('group', { name: group.resource, exact: true }).getByRole('checkbox');
      expect(await boxes.count(), group.resource).toBe(group.permissions.length);
    }
    expect(await chooser.getByRole('checkbox').count()).toBe(expected.flatMap((g) => g.permissions).length);
    // An admin-only permission is not offered to a member key.
    expect(await chooser.getByRole('checkbox', { name: 'projects:delete' }).count()).toBe(0);

    // Nothing ticked: the dialog says so instead of sending an empty subset.
    await create.getByRole('button', { name: 'Create key' }).click();
    await create.getByText('Choose at least one permission.').waitFor();

    await chooser.getByRole('checkbox', { name: 'projects:read' }).check();
    // A range that allows everything is refused before it is sent, with the API's own parser.
    const ips = create.getByLabel('Allowed IPs', { exact: true });
    await ips.fill('127.0.0.1\n0.0.0.0/0');
    await create.getByRole('button', { name: 'Create key' }).click();
    await create.getByText('Line 2:', { exact: false }).waitFor();
    await ips.fill('127.0.0.1\n2001:DB8::/32');
    await screenshot(create, 'restrictions-01-create-key-dialog');
    await create.getByRole('button', { name: 'Create key' }).click();
    const key = await takeRevealedKey(page);

    const me = await callMe(server.url, key);
    expect(me.status).toBe(200);
    const body = me.body as {
      key: { permissions: string[]; allowedIps: string[] };
      organizations: { permissions: string[] }[];
    };
    expect(body.key.permissions).toEqual(['projects:read']);
    expect(body.key.allowedIps).toEqual(['127.0.0.1/32', '2001:db8::/32']);
    expect(body.organizations.map((o) => o.permissions)).toEqual([['projects:read']]);

    const cells = (await keyRow(page, 'Read-only reporter').getByRole('cell').allInnerTexts()).join(' ');
    expect(cells).toContain('Only projects:read');
    expect(cells).toContain('From 2 IP ranges');
  });

  it('edits a key’s allowed IPs from its row; the API follows at once', async () => {
    const { page } = owner;
    await page.getByRole('button', { name: 'Create API key' }).click();
    const create = dialog(page, 'Create API key');
    await create.getByLabel('Name', { exact: true }).fill('Office only');
    await create.getByLabel('Allowed IPs', { exact: true }).fill('203.0.113.0/24');
    await create.getByRole('button', { name: 'Create key' }).click();
    const key = await takeRevealedKey(page);
    expect((await callMe(server.url, key)).status).toBe(403);

    await keyRow(page, 'Office only').getByRole('button', { name: 'Allowed IPs' }).click();
    const edit = dialog(page, 'Allowed IPs');
    const box = edit.getByLabel('Allowed IPs', { exact: true });
    expect(await box.inputValue()).toBe('203.0.113.0/24');
    await box.fill('203.0.113.0/24\nfe80::1%eth0');
    await edit.getByRole('button', { name: 'Save' }).click();
    await edit.getByText('Zone ids', { exact: false }).waitFor();
    await box.fill('203.0.113.0/24\n127.0.0.1');
    await screenshot(edit, 'restrictions-02-allowed-ips-dialog');
    await edit.getByRole('button', { name: 'Save' }).click();
    await edit.waitFor({ state: 'detached' });
    expect((await callMe(server.url, key)).status).toBe(200);
    await keyRow(page, 'Office only').getByText('From 2 IP ranges').waitFor();
  });

  it('flags a key in its last 7 days as "Expires soon"', async () => {
    const { page } = owner;
    await page.getByRole('button', { name: 'Create API key' }).click();
    const create = dialog(page, 'Create API key');
    await create.getByLabel('Name', { exact: true }).fill('Short-lived');
    await create.getByLabel('Expiration', { exact: true }).selectOption({ label: '7 days' });
    await create.getByRole('button', { name: 'Create key' }).click();
    await takeRevealedKey(page);
    await keyRow(page, 'Short-lived').getByText('Expires soon').waitFor();
    expect(await keyRow(page, 'Office only').getByText('Expires soon').count()).toBe(0);
    const headers = await page
      .getByRole('region', { name: 'Your API keys' })
      .getByRole('columnheader')
      .allInnerTexts();
    expect(headers.slice(0, 8)).toEqual([
      'Name',
      'Key',
      'Role',
      'Organizations',
      'Created',
      'Last used',
      'Expires',
      'Status',
    ]);
    expect(await keyRow(page, 'Short-lived').getByRole('cell').allInnerTexts()).toContain('Active');
    await screenshot(page, 'restrictions-03-keys-table');
  });
});
