/**
 * Stale-key hygiene and the audit log in Chromium, against the real API and PostgreSQL, with a clock the test moves:
 * an owner turns on "Revoke keys unused for N days", a month passes, the sweep runs, and the key table says why the
 * idle key stopped; then the audit page's filters (actor, event type, days) narrow the log the way the API does.
 */
import { type E2EServer, sweepStaleKeys } from '@crowdee/api/testing';
import type { TestDatabase } from '@crowdee/db/testing';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  createOrganizationThroughUi,
  dialog,
  goToSettings,
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

warnIfNoChromium('stale keys and audit filters in Chromium');

const DAY = 86_400_000;
const ORG = 'Globex Audit';

describe.skipIf(!chromiumAvailable)('stale keys and audit filters in Chromium', () => {
  let db: TestDatabase;
  let server: E2EServer;
  let browser: Browser;
  let owner: UserPage;
  let offset = 0;
  const ownerUser = testUser('Ophelia Owner');
  const keys: Record<string, string> = {};
  let orgId = '';

  beforeAll(async () => {
    ({ db, server, browser } = await startBrowserStory({
      config: { sessions: { absoluteMs: 90 * DAY, idleMs: 90 * DAY } },
      clock: () => new Date(Date.now() + offset),
    }));
    owner = await openUserPage(browser, server.url);
  });

  afterAll(async () => {
    await stopBrowserStory({ browser, server, db });
  });

  async function createKey(page: Page, name: string, onlyThisOrg: boolean): Promise<void> {
    await page.getByRole('button', { name: 'Create API key' }).click();
    const create = dialog(page, 'Create API key');
    await create.getByLabel('Name', { exact: true }).fill(name);
    await create.getByRole('radio', { name: 'Member', exact: true }).check();
    if (onlyThisOrg) {
      await create.getByRole('radio', { name: 'Only selected organizations' }).check();
      await create.getByRole('checkbox', { name: ORG }).check();
    }
    // Outlives the month the clock moves through.
    await create.getByLabel('Expiration', { exact: true }).selectOption({ label: '90 days' });
    await create.getByRole('button', { name: 'Create key' }).click();
    const panel = dialog(page, 'New API key');
    keys[name] = await panel.getByRole('textbox', { name: 'Secret key' }).inputValue();
    await panel.getByRole('button', { name: 'Done' }).click();
    await panel.waitFor({ state: 'detached' });
  }

  async function createProjectWith(key: string, name: string): Promise<void> {
    const res = await fetch(`${server.url}/api/v1/orgs/${orgId}/projects`, {
      method: 'POST',
      headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
      body: JSON.stringify({ name }),
    });
    expect(res.status).toBe(201);
  }

  it('turns on "Revoke keys unused for N days" and the key table says why an idle key stopped', async () => {
    const { page } = owner;
    await signUpThroughUi(page, ownerUser);
    await verifyThroughMailedLink(page, server.mailbox, ownerUser);
    await createOrganizationThroughUi(page, ORG);
    await createKey(page, 'Nightly export', true);
    await createKey(page, 'Deploy bot', true);
    const me = await fetch(`${server.url}/api/v1/me`, {
      headers: { authorization: `Bearer ${keys['Deploy bot']}` },
    });
    orgId = ((await me.json()) as { organizations: { id: string }[] }).organizations[0]?.id ?? '';

    const policy = page.getByRole('region', { name: 'Key policy' });
    await policy.getByRole('checkbox', { name: 'Revoke keys unused for N days' }).check();
    const days = policy.getByLabel('Days without use');
    await days.fill('3');
    await policy.getByRole('button', { name: 'Save key policy' }).click();
    await policy.getByText('Enter a whole number of days from 7 to 365.').waitFor();
    await days.fill('30');
    await policy.getByRole('button', { name: 'Save key policy' }).click();
    await policy.getByText('Keys unused here for 30 days are revoked.').waitFor();

    // Day 20: the deploy bot works. Day 31: the sweep runs.
    offset += 20 * DAY;
    await createProjectWith(keys['Deploy bot'] ?? '', 'deploy-1');
    await expect
      .poll(async () => {
        const rows = await server.deps.orm.em
          .fork()
          .getConnection()
          .execute<{ n: number }[]>(
            'select count(*)::int as n from api_key_org_access where organization_id = ? and last_used_at is not null',
            [orgId],
          );
        return rows[0]?.n;
      })
      .toBe(1);
    offset += 11 * DAY;
    const swept = await sweepStaleKeys(server.deps);
    expect(swept.actions.map((a) => a.action)).toEqual(['revoked']);

    await page.reload();
    const table = page.getByRole('region', { name: 'Your API keys' });
    const row = (name: string) =>
      table.getByRole('row').filter({ has: page.getByRole('rowheader', { name, exact: true }) });
    await page.getByRole('checkbox', { name: /Show revoked and expired keys/ }).check();
    await row('Nightly export').getByText('Revoked: unused for 30 days').waitFor();
    expect(await row('Deploy bot').getByText('Active').count()).toBe(1);
    await screenshot(page, 'stale-01-key-revoked-unused');
  });

  it('filters the audit log by actor, event type and day, and offers exports', async () => {
    const { page } = owner;
    await createProjectWith(keys['Deploy bot'] ?? '', 'deploy-2');
    await goToSettings(page, 'Audit log');
    const events = page.getByRole('region', { name: 'Events' });
    const rows = events.getByRole('table').getByRole('row');
    await events.getByRole('table').waitFor();
    const filters = page.getByRole('form', { name: 'Filter events' });

    // The key's events name it and its hint, never just "(API key)".
    const hint = `${keys['Deploy bot']?.slice(0, 8)}…${keys['Deploy bot']?.slice(-4)}`;
    await filters.getByLabel('Actor', { exact: true }).selectOption({ label: `Deploy bot (${hint})` });
    await expect.poll(() => rows.count()).toBe(3); // header + two projects created by the key
    await screenshot(page, 'audit-00-key-actor');
    for (const text of await rows.allInnerTexts())
      if (!text.startsWith('Time')) expect(text).toContain(`key “Deploy bot” ${hint}`);

    await filters.getByLabel('Actor', { exact: true }).selectOption({ label: 'Crowdee (automatic)' });
    await expect.poll(() => rows.count()).toBe(2);
    expect(await rows.nth(1).textContent()).toContain('unused for 30 days');

    await filters.getByLabel('Actor', { exact: true }).selectOption({ label: 'Anyone' });
    await filters.getByLabel('Event', { exact: true }).selectOption({ label: 'Project created' });
    await expect.poll(() => rows.count()).toBe(3);

    // Days are the reader's local days: from tomorrow (of the moved clock) matches nothing yet.
    const local = (ms: number) => {
      const d = new Date(ms);
      return `${d.getFullYear()}-${String(d.getMonth() + 1).padStart(2, '0')}-${String(d.getDate()).padStart(2, '0')}`;
    };
    const today = local(Date.now() + offset);
    await filters.getByLabel('From', { exact: true }).fill(local(Date.now() + offset + DAY));
    await events.getByText('No events match these filters').waitFor();
    await filters.getByLabel('From', { exact: true }).fill(local(Date.now() + offset - 15 * DAY));
    await filters.getByLabel('To', { exact: true }).fill(today);
    await expect.poll(() => rows.count()).toBe(3);
    await filters.getByLabel('From', { exact: true }).fill(local(Date.now() + offset - 40 * DAY));
    await filters.getByLabel('To', { exact: true }).fill(local(Date.now() + offset - 15 * DAY));
    await events.getByText('No events match these filters').waitFor();
    await filters.getByLabel('To', { exact: true }).fill(today);
    await filters.getByLabel('Event', { exact: true }).selectOption({ label: 'API key created' });
    await expect.poll(() => rows.count()).toBe(3);
    await screenshot(page, 'audit-01-filters');

    const download = page.waitForEvent('download');
    await events.getByRole('button', { name: 'Export CSV' }).click();
    const file = await download;
    expect(file.suggestedFilename()).toMatch(/^audit-.*\.csv$/);
    const path = await file.path();
    const { readFile } = await import('node:fs/promises');
    const csv = await readFile(path, 'utf8');
    const lines = csv.trimEnd().split('\r\n');
    expect(lines[0]).toMatch(/^id,time,action,/);
    expect(lines.slice(1).every((l) => l.includes(',key.created,'))).toBe(true);
    expect(lines).toHaveLength(3);

    await filters.getByRole('button', { name: 'Clear filters' }).click();
    await expect.poll(() => rows.count()).toBeGreaterThan(5);
  });
});
