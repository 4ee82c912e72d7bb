/**
 * Usage and limits in Chromium, against the real API and PostgreSQL: a key's sparkline and 30-day chart (uPlot,
 * under the app's own CSP), the organization's Usage page, and a limit request sent from the Limits page, approved
 * with the operator command and seen back in the app with the override in force.
 */
import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { type E2EServer, testConfig } from '@crowdee/api/testing';
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

warnIfNoChromium('usage and limits in Chromium');

const apiDir = fileURLToPath(new URL('../../api/', import.meta.url));

describe.skipIf(!chromiumAvailable)('usage and limits in Chromium', () => {
  let db: TestDatabase;
  let server: E2EServer;
  let browser: Browser;
  let owner: UserPage;
  const user = testUser('Uma Usage');
  let key = '';
  const cspViolations: string[] = [];

  beforeAll(async () => {
    const base = testConfig();
    ({ db, server, browser } = await startBrowserStory({
      // Rate limits on, so the Limits page has a limit to show and an approval has something to raise.
      config: {
        rateLimits: { ...base.rateLimits, enabled: true, namespace: `web-usage-${Date.now()}` },
      },
    }));
    owner = await openUserPage(browser, server.url);
    owner.page.on('console', (message) => {
      if (/Content Security Policy/i.test(message.text())) cspViolations.push(message.text());
    });
  });

  afterAll(async () => {
    await stopBrowserStory({ browser, server, db });
  });

  it('shows a key’s last 7 days as a sparkline and its 30 days as a chart, with the last IPs', async () => {
    const { page } = owner;
    await signUpThroughUi(page, user);
    await verifyThroughMailedLink(page, server.mailbox, user);
    await createOrganizationThroughUi(page, 'Usage Co');
    await page.getByRole('button', { name: 'Create API key' }).click();
    const create = dialog(page, 'Create API key');
    await create.getByLabel('Name', { exact: true }).fill('Nightly sync');
    await create.getByRole('button', { name: 'Create key' }).click();
    const panel = dialog(page, 'New API key');
    key = await panel.getByRole('textbox', { name: 'Secret key' }).inputValue();
    await panel.getByRole('button', { name: 'Done' }).click();

    // A script's traffic: 9 answered, 3 refused as not found.
    for (let i = 0; i < 9; i++) {
      const res = await fetch(`${server.url}/api/v1/me`, { headers: { authorization: `Bearer ${key}` } });
      expect(res.status).toBe(200);
    }
    for (let i = 0; i < 3; i++)
      await fetch(`${server.url}/api/v1/orgs/00000000-0000-4000-8000-000000000000/projects`, {
        headers: { authorization: `Bearer ${key}` },
      });
    await server.deps.usage.flush();
    await page.reload();
    const row = page
      .getByRole('region', { name: 'Your API keys' })
      .getByRole('row')
      .filter({ has: page.getByRole('rowheader', { name: 'Nightly sync', exact: true }) });
    await row.getByRole('img', { name: '12 requests in the last 7 days' }).waitFor();
    await screenshot(row, 'usage-01-sparkline');

    await row.getByRole('button', { name: 'Usage', exact: true }).click();
    const usage = dialog(page, 'Usage of Nightly sync');
    await usage.getByText('12', { exact: true }).waitFor();
    expect(await usage.textContent()).toContain('9 succeeded, 3 client errors, 0 rate-limited (429)');
    const chart = usage.getByRole('img', { name: 'Requests per day by Nightly sync over the last 30 days' });
    // uPlot drew: a canvas and its legend with one entry per outcome.
    await chart.locator('canvas').waitFor();
    expect(await chart.locator('.u-legend .u-series').allInnerTexts()).toEqual(
      expect.arrayContaining([expect.stringContaining('2xx'), expect.stringContaining('429')]),
    );
    await usage.getByRole('list', { name: 'Last IPs' }).getByText('127.0.0.1').waitFor();
    await screenshot(usage, 'usage-02-key-chart');
    await usage.getByRole('button', { name: 'Close' }).click();
    expect(cspViolations).toEqual([]);
  });

  it('the Usage page shows the organization’s requests against its limit', async () => {
    const { page } = owner;
    await page.getByRole('navigation', { name: 'Settings' }).getByRole('link', { name: 'Usage' }).click();
    await page.getByRole('heading', { name: 'Usage', level: 1 }).waitFor();
    await page
      .getByRole('img', { name: 'Requests per day in Usage Co over the last 30 days' })
      .locator('canvas')
      .waitFor();
    // Requests that acted in the organization: the owner's own page loads count, the key's /me calls do not.
    const meter = page.getByRole('meter');
    await meter.waitFor();
    expect(Number(await meter.getAttribute('max'))).toBe(1200 * 60);
    await page.getByText('1,200 requests per minute', { exact: true }).waitFor();
    await screenshot(page, 'usage-03-usage-page');
    expect(cspViolations).toEqual([]);
  });

  it('a limit request goes from the Limits page to the operator command and back, and is in force', async () => {
    const { page } = owner;
    await page.getByRole('navigation', { name: 'Settings' }).getByRole('link', { name: 'Limits' }).click();
    await page.getByRole('heading', { name: 'Limits', level: 1 }).waitFor();
    await page.getByText('No requests yet').waitFor();
    await page.getByRole('button', { name: 'Request a higher limit' }).click();
    const ask = dialog(page, 'Request a higher limit');
    await ask.getByLabel('Quota', { exact: true }).fill('5000');
    await ask.getByLabel('Window', { exact: true }).selectOption({ label: 'per minute' });
    await ask.getByLabel('Justification', { exact: true }).fill('too short');
    await ask.getByRole('button', { name: 'Send request' }).click();
    // Refused by the API, the reason bound to the field.
    await expect
      .poll(() => ask.getByLabel('Justification', { exact: true }).getAttribute('aria-invalid'))
      .toBe('true');
    await ask.getByLabel('Justification', { exact: true }).fill('Nightly sync of 40k projects from our ERP');
    await screenshot(ask, 'usage-04-request-dialog');
    await ask.getByRole('button', { name: 'Send request' }).click();
    await ask.waitFor({ state: 'detached' });
    const requests = page.getByRole('table', { name: 'Limit requests' });
    await requests.getByText('Pending').waitFor();
    expect(await page.getByRole('button', { name: 'Request a higher limit' }).isDisabled()).toBe(true);

    const run = (...args: string[]) =>
      promisify(execFile)(
        process.execPath,
        ['--import', 'tsx', 'src/admin/cli.ts', 'limits', 'requests', ...args],
        {
          cwd: apiDir,
          env: {
            ...process.env,
            DATABASE_URL: db.url,
            LOG_LEVEL: 'silent',
            SMTP_URL: server.mailbox.smtpUrl,
          },
        },
      );
    const pending = JSON.parse((await run('list', '--json')).stdout) as { id: string; orgName: string }[];
    expect(pending.map((r) => r.orgName)).toEqual(['Usage Co']);
    await run('approve', pending[0]?.id ?? '', '--note', 'Approved for the sync', '--by', 'ops');

    await page.reload();
    await requests.getByText('Approved', { exact: true }).waitFor();
    await requests.getByText('Approved for the sync').waitFor();
    expect(await page.getByTestId('effective-limit').textContent()).toBe('5,000 requests per minute');
    await screenshot(page, 'usage-05-limits-approved');
    // In force on the server: the key's budget in this organization is the granted one.
    await expect
      .poll(async () => {
        const res = await fetch(`${server.url}/api/v1/orgs/${await orgId(page)}/projects`, {
          headers: { authorization: `Bearer ${key}` },
        });
        return res.headers.get('ratelimit-policy');
      })
      .toBe('"user";q=5000;w=60');
    const mail = await server.mailbox.take(user.email, 'settings/limits');
    expect(mail.subject).toBe('Your higher limit for Usage Co is approved');
    expect(cspViolations).toEqual([]);
    await goToSettings(page, 'API keys');
  });
});

/** The active organization's id, as the app itself knows it. */
async function orgId(page: Page): Promise<string> {
  return page
    .getByRole('combobox', { name: 'Organization', exact: true })
    .locator('option:checked')
    .getAttribute('value')
    .then((v) => v ?? '');
}
