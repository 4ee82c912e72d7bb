/**
 * The settings app judged as outside tools judge it: axe-core on every page and dialog (any violation of any impact
 * fails), row actions inside the viewport and uncovered at common desktop widths and operable on a phone, and a
 * quiet console on normal loads (no console error, no failed request, no 4xx/5xx answer).
 *
 * axe is injected through the test browser (`bypassCSP` on the axe context only): the app's Content-Security-Policy
 * stays as strict as in production, and the console checks run in a context that does not bypass it, so a CSP
 * violation would show up there as a console error.
 */

import { createRequire } from 'node:module';
import type { E2EServer } from '@crowdee/api/testing';
import type { TestDatabase } from '@crowdee/db/testing';
import type { Browser, BrowserContext, Locator, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { dialog, goToSettings, signUpThroughUi, testUser, verifyThroughMailedLink } from './helpers/app.ts';
import { chromiumAvailable, screenshot, warnIfNoChromium } from './helpers/browser.ts';
import { startBrowserStory, stopBrowserStory } from './helpers/story.ts';

warnIfNoChromium('settings app quality (axe, layout, console) in Chromium');

const axeSource: string = (() => {
  const require = createRequire(import.meta.url);
  return require('node:fs').readFileSync(require.resolve('axe-core/axe.min.js'), 'utf8');
})();

interface AxeViolation {
  id: string;
  impact: string | null;
  help: string;
  nodes: { target: unknown[]; failureSummary?: string }[];
}

/** axe-core over the whole document as it is now (an open dialog included). */
async function axeViolations(page: Page): Promise<AxeViolation[]> {
  const loaded = await page.evaluate(() => 'axe' in window);
  if (!loaded) await page.addScriptTag({ content: axeSource });
  return page.evaluate(async () => {
    const axe = (window as unknown as { axe: { run: (ctx: Document, opts: object) => Promise<unknown> } })
      .axe;
    const result = (await axe.run(document, { resultTypes: ['violations'] })) as {
      violations: AxeViolation[];
    };
    return result.violations.map((v) => ({
      id: v.id,
      impact: v.impact,
      help: v.help,
      nodes: v.nodes.map((n) => ({ target: n.target, failureSummary: n.failureSummary })),
    }));
  });
}

function describeViolations(where: string, violations: AxeViolation[]): string {
  return violations
    .map(
      (v) =>
        `${where}: ${v.id} (${v.impact}) ${v.help}\n${v.nodes.map((n) => `  ${JSON.stringify(n.target)} ${n.failureSummary ?? ''}`).join('\n')}`,
    )
    .join('\n');
}

async function expectNoAxeViolations(page: Page, where: string): Promise<void> {
  const violations = await axeViolations(page);
  expect(violations, describeViolations(where, violations)).toEqual([]);
}

/** Console errors, failed requests and 4xx/5xx answers seen by a page from now on. */
function watchProblems(page: Page): { problems: string[]; clear(): void } {
  const problems: string[] = [];
  page.on('console', (message) => {
    if (message.type() === 'error') problems.push(`console error: ${message.text()}`);
  });
  page.on('pageerror', (error) => problems.push(`page error: ${error.message}`));
  page.on('requestfailed', (request) =>
    problems.push(`failed request: ${request.method()} ${request.url()} (${request.failure()?.errorText})`),
  );
  page.on('response', (response) => {
    if (response.status() >= 400) problems.push(`HTTP ${response.status()}: ${response.url()}`);
  });
  return {
    problems,
    clear: () => {
      problems.length = 0;
    },
  };
}

/** Waits until no request has been in flight for a moment, so late failures are seen before asserting. */
async function settle(page: Page): Promise<void> {
  await page.waitForLoadState('networkidle');
}

async function newContext(browser: Browser, baseURL: string, width: number, bypassCSP: boolean) {
  const context = await browser.newContext({
    baseURL,
    viewport: { width, height: 900 },
    locale: 'en-US',
    bypassCSP,
  });
  context.setDefaultTimeout(15_000);
  return context;
}

/**
 * Where a control is not fully visible: outside the viewport's width, clipped by an ancestor that hides or scrolls
 * its overflow, or — once scrolled vertically into view — covered by another element at its centre. Null when it
 * is fully visible and on top. Nothing is scrolled sideways first: at desktop widths an action must be reachable
 * without scrolling a table.
 */
function visibilityProblem(control: Locator): Promise<string | null> {
  return control.evaluate((el) => {
    const name = `"${(el.textContent ?? '').trim()}"`;
    const eps = 0.5;
    const horizontal = el.getBoundingClientRect();
    if (horizontal.width === 0 || horizontal.height === 0) return `${name} has no size`;
    if (horizontal.left < -eps || horizontal.right > window.innerWidth + eps) {
      return `${name} is outside the viewport (${Math.round(horizontal.left)}–${Math.round(horizontal.right)} of ${window.innerWidth} px)`;
    }
    for (let a = el.parentElement; a; a = a.parentElement) {
      const style = getComputedStyle(a);
      if (style.overflowX === 'visible' && style.overflowY === 'visible') continue;
      const box = a.getBoundingClientRect();
      if (horizontal.left < box.left - eps || horizontal.right > box.right + eps) {
        return `${name} is clipped by <${a.tagName.toLowerCase()} class="${a.className}"> (${Math.round(horizontal.left)}–${Math.round(horizontal.right)} outside ${Math.round(box.left)}–${Math.round(box.right)})`;
      }
    }
    el.scrollIntoView({ block: 'center', inline: 'nearest' });
    const rect = el.getBoundingClientRect();
    const hit = document.elementFromPoint(rect.left + rect.width / 2, rect.top + rect.height / 2);
    if (!hit || !(hit === el || el.contains(hit)))
      return `${name} is covered by ${hit?.outerHTML.slice(0, 80)}`;
    return null;
  });
}

describe.skipIf(!chromiumAvailable)('settings app quality in Chromium', () => {
  let db: TestDatabase;
  let server: E2EServer;
  let browser: Browser;
  let axeContext: BrowserContext;
  let page: Page;
  const user = testUser('Quinn Quality');

  beforeAll(async () => {
    ({ db, server, browser } = await startBrowserStory());
    axeContext = await newContext(browser, server.url, 1280, true);
    page = await axeContext.newPage();
  });

  afterAll(async () => {
    await stopBrowserStory({ browser, server, db });
  });

  it('sign-in and sign-up load with a quiet console and no accessibility violations', async () => {
    // A signed-out visitor's first load, under the production CSP: nothing in the console, no failed request.
    const quiet = await newContext(browser, server.url, 1280, false);
    const visitor = await quiet.newPage();
    const watch = watchProblems(visitor);
    await visitor.goto('/');
    await visitor.getByRole('heading', { name: 'Sign in' }).waitFor();
    await settle(visitor);
    await visitor.getByRole('link', { name: 'Create an account' }).click();
    await visitor.getByRole('heading', { name: 'Create your account' }).waitFor();
    await settle(visitor);
    await visitor.goto('/docs');
    await visitor.locator('.swagger-ui').first().waitFor();
    await settle(visitor);
    await visitor.goto('/docs/errors');
    await settle(visitor);
    expect(watch.problems).toEqual([]);
    await quiet.close();

    await page.goto('/sign-in');
    await page.getByRole('heading', { name: 'Sign in' }).waitFor();
    await expectNoAxeViolations(page, 'sign-in');
    await page.getByRole('link', { name: 'Create an account' }).click();
    await page.getByRole('heading', { name: 'Create your account' }).waitFor();
    await expectNoAxeViolations(page, 'sign-up');
  });

  it('has a favicon, and the API reference keeps the Bearer key across a reload', async () => {
    for (const path of ['/favicon.svg', '/favicon.ico']) {
      const response = await fetch(`${server.url}${path}`);
      expect(response.status).toBe(200);
      expect(response.headers.get('content-type')).toContain('image/svg+xml');
      expect(await response.text()).toContain('<svg');
    }
    await page.goto('/docs');
    await page.getByRole('button', { name: 'Authorize' }).first().click();
    const auth = page.locator('.auth-container').first();
    await auth.locator('input').first().fill('cdk_docs_test_value');
    await auth.locator('button.authorize').click();
    await page.locator('.auth-btn-wrapper button.btn-done').first().click();
    await page.reload();
    await page.locator('.swagger-ui .btn.authorize').first().waitFor();
    await expect
      .poll(() => page.locator('.swagger-ui .btn.authorize').first().getAttribute('class'))
      .toContain('locked');
    const stored = await page.evaluate(() => window.localStorage.getItem('authorized') ?? '');
    expect(stored).toContain('bearerAuth');
    // It lives in this browser only; forget it again so nothing lingers in the test profile.
    await page.evaluate(() => window.localStorage.removeItem('authorized'));
  });

  // The longest story of the suite (every page and dialog, the restriction fields included): more than the default.
  it('every settings page and key dialog passes axe, with keys present', async () => {
    await signUpThroughUi(page, user);
    await page.getByRole('region', { name: 'Email verification' }).waitFor();
    await expectNoAxeViolations(page, 'API keys (unverified banner)');
    await verifyThroughMailedLink(page, server.mailbox, user);
    await page.getByRole('button', { name: 'Create organization', exact: true }).click();
    const createOrg = dialog(page, 'Create organization');
    await expectNoAxeViolations(page, 'Create organization dialog');
    await createOrg.getByLabel('Organization name', { exact: true }).fill('Quality Assurance Ltd');
    await createOrg.getByRole('button', { name: 'Create organization' }).click();
    await createOrg.waitFor({ state: 'detached' });
    await page.getByText('No API keys yet').waitFor();
    await expectNoAxeViolations(page, 'API keys (empty)');

    for (const [name, role] of [
      ['Nightly data export to the analytics warehouse', 'Viewer'],
      ['CI deploys', 'Member'],
      ['Backoffice sync', 'Admin'],
    ] as const) {
      await page.getByRole('button', { name: 'Create API key' }).click();
      const create = dialog(page, 'Create API key');
      await create.getByLabel('Name', { exact: true }).fill(name);
      await create.getByRole('radio', { name: role, exact: true }).check();
      if (name === 'CI deploys') {
        // With the restriction fields open: the permission catalogue grouped by resource, and an allowlist.
        await create.getByRole('radio', { name: 'Only these', exact: true }).check();
        await create.getByRole('checkbox', { name: 'projects:read' }).check();
        await create.getByLabel('Allowed IPs', { exact: true }).fill('0.0.0.0/0');
        await create.getByRole('button', { name: 'Create key' }).click();
        await create.getByText('Line 1:', { exact: false }).waitFor();
        await expectNoAxeViolations(page, 'Create API key dialog (restricted, with an error)');
        await create.getByLabel('Allowed IPs', { exact: true }).fill('');
      }
      await create.getByRole('button', { name: 'Create key' }).click();
      const reveal = dialog(page, 'New API key');
      await reveal.waitFor();
      if (name === 'CI deploys') await expectNoAxeViolations(page, 'New API key panel');
      await reveal.getByRole('button', { name: 'Done' }).click();
      await reveal.waitFor({ state: 'detached' });
    }
    await expectNoAxeViolations(page, 'API keys (with keys)');

    const yourKeys = page.getByRole('region', { name: 'Your API keys' });
    await yourKeys.getByRole('button', { name: 'Rotate' }).first().click();
    const rotate = dialog(page, 'Rotate API key');
    await rotate.waitFor();
    await expectNoAxeViolations(page, 'Rotate dialog');
    await rotate.getByRole('button', { name: 'Cancel' }).click();
    await rotate.waitFor({ state: 'detached' });

    await yourKeys.getByRole('button', { name: 'Allowed IPs' }).first().click();
    const allowedIps = dialog(page, 'Allowed IPs');
    await allowedIps.waitFor();
    await expectNoAxeViolations(page, 'Allowed IPs dialog');
    await allowedIps.getByRole('button', { name: 'Cancel' }).click();
    await allowedIps.waitFor({ state: 'detached' });

    await yourKeys.getByRole('button', { name: 'Revoke' }).first().click();
    const revoke = page.getByRole('alertdialog', { name: 'Revoke API key' });
    await revoke.waitFor();
    await expectNoAxeViolations(page, 'Revoke confirmation');
    await page.keyboard.press('Escape');
    await revoke.waitFor({ state: 'detached' });

    for (const label of [
      'Members',
      'Runs',
      'Usage',
      'Limits',
      'Sessions',
      'Audit log',
      'Account',
      'Security',
    ] as const) {
      await goToSettings(page, label);
      await settle(page);
      await expectNoAxeViolations(page, label);
      if (label === 'Members') {
        // With a pending invitation listed (and its Cancel action).
        const form = page.getByRole('region', { name: 'Invite member' });
        await form.getByLabel('Email', { exact: true }).fill(`invitee.${Date.now()}@example.com`);
        await form.getByRole('button', { name: 'Invite member' }).click();
        await page.getByRole('button', { name: 'Cancel', exact: true }).first().waitFor();
        await expectNoAxeViolations(page, 'Members (pending invitation)');
      }
      if (label === 'Limits') {
        await page.getByRole('button', { name: 'Request a higher limit' }).click();
        await dialog(page, 'Request a higher limit').waitFor();
        await expectNoAxeViolations(page, 'Request a higher limit dialog');
        await page.keyboard.press('Escape');
        await dialog(page, 'Request a higher limit').waitFor({ state: 'detached' });
      }
      if (label === 'Security') {
        // The set-up panel: QR code, the secret for manual entry, the code field.
        const section = page.getByRole('region', { name: 'Authenticator app' });
        await section.getByRole('button', { name: 'Set up' }).click();
        await section.getByRole('img', { name: 'QR code for your authenticator app' }).waitFor();
        await expectNoAxeViolations(page, 'Security (setting up the authenticator app)');
        await section.getByRole('button', { name: 'Cancel' }).click();
        await section.getByRole('button', { name: 'Set up' }).waitFor();
        await page.getByRole('button', { name: 'Add a passkey' }).click();
        await dialog(page, 'Add a passkey').waitFor();
        await expectNoAxeViolations(page, 'Add a passkey dialog');
        await page.keyboard.press('Escape');
        await dialog(page, 'Add a passkey').waitFor({ state: 'detached' });
      }
    }
    await goToSettings(page, 'API keys');
  }, 120_000);

  it('links the getting-started guide from the app; the guide passes axe and needs no script', async () => {
    await page.goto('/');
    await page.getByRole('heading', { name: 'API keys', level: 1 }).waitFor();
    await page.getByRole('link', { name: 'Getting started' }).click();
    await page.getByRole('heading', { name: 'Getting started with the Crowdee API', level: 1 }).waitFor();
    expect(await page.locator('script').count()).toBe(0);
    await expectNoAxeViolations(page, 'getting started');
    // In-page anchors land on their sections.
    await page
      .getByRole('navigation', { name: 'On this page' })
      .getByRole('link', { name: 'Rate limits' })
      .click();
    await expect.poll(() => page.evaluate(() => window.location.hash)).toBe('#rate-limits');
    await screenshot(page, 'quality-getting-started');
    await page.goto('/');
  });

  it('keeps every row action of the key tables inside the viewport and uncovered from 1024 to 1920 px', async () => {
    const storage = await axeContext.storageState();
    for (const width of [1024, 1280, 1440, 1920]) {
      const context = await browser.newContext({
        baseURL: server.url,
        viewport: { width, height: 900 },
        locale: 'en-US',
        storageState: storage,
      });
      const p = await context.newPage();
      const watch = watchProblems(p);
      await p.goto('/');
      await p.getByRole('heading', { name: 'API keys', level: 1 }).waitFor();
      const tables = p.getByRole('table');
      await tables.first().waitFor();
      await settle(p);
      const actions = p.locator('table tbody button');
      const count = await actions.count();
      // Three keys in "Your API keys" (Rotate + Revoke each) and the organization's table of them.
      expect(count).toBeGreaterThanOrEqual(6);
      const problems: string[] = [];
      for (let i = 0; i < count; i++) {
        const problem = await visibilityProblem(actions.nth(i));
        if (problem) problems.push(problem);
      }
      await screenshot(p, `quality-api-keys-${width}`);
      expect(problems, `at ${width} px`).toEqual([]);
      // A normal signed-in load is as quiet as a signed-out one.
      expect(watch.problems, `console at ${width} px`).toEqual([]);
      await context.close();
    }
  }, 120_000);

  it('stays operable on a 390 px phone: every row action can be reached and is not covered', async () => {
    const context = await browser.newContext({
      baseURL: server.url,
      viewport: { width: 390, height: 844 },
      locale: 'en-US',
      storageState: await axeContext.storageState(),
      isMobile: true,
      hasTouch: true,
    });
    const p = await context.newPage();
    await p.goto('/');
    await p.getByRole('heading', { name: 'API keys', level: 1 }).waitFor();
    await p.getByRole('table').first().waitFor();
    const actions = p.locator('table tbody button');
    const count = await actions.count();
    expect(count).toBeGreaterThanOrEqual(6);
    const problems: string[] = [];
    for (let i = 0; i < count; i++) {
      // On a phone the table scrolls inside its frame: bring the control into view the way a finger would.
      await actions.nth(i).scrollIntoViewIfNeeded();
      const problem = await visibilityProblem(actions.nth(i));
      if (problem) problems.push(problem);
    }
    await screenshot(p, 'quality-api-keys-390');
    expect(problems).toEqual([]);
    // The create dialog fits the phone and can be completed.
    await p.getByRole('button', { name: 'Create API key' }).click();
    const create = dialog(p, 'Create API key');
    await create.getByLabel('Name', { exact: true }).fill('Phone key');
    const submit = create.getByRole('button', { name: 'Create key' });
    await submit.scrollIntoViewIfNeeded();
    expect(await visibilityProblem(submit)).toBeNull();
    await screenshot(p, 'quality-create-key-390');
    await p.keyboard.press('Escape');
    await context.close();
  });
});
