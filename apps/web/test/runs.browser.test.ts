/**
 * The Runs page in Chromium against the real API with its in-process run workers: a run started over a dataset is
 * worked by the queue, and the page shows its dataset, status, progress and verdict counts.
 */
import { createHash, randomUUID } from 'node:crypto';
import type { E2EServer } from '@crowdee/api/testing';
import { adminQuery, type TestDatabase } from '@crowdee/db/testing';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  createOrganizationThroughUi,
  goToSettings,
  signUpThroughUi,
  testUser,
  verifyThroughMailedLink,
} from './helpers/app.ts';
import { chromiumAvailable, openUserPage, screenshot, warnIfNoChromium } from './helpers/browser.ts';
import { startBrowserStory, stopBrowserStory } from './helpers/story.ts';

warnIfNoChromium('Runs page in Chromium');

/** What the default pipeline makes of these: two passes, a duplicate and a link flagged, a blank text failed. */
const TEXTS = ['hello there', 'hello there', 'see https://example.com', '   ', 'fine'];

/** A tRPC call from the signed-in page itself: the session cookie and the browser's own CSRF headers. */
async function trpc<T>(page: Page, path: string, input: unknown, method: 'GET' | 'POST'): Promise<T> {
  return page.evaluate(
    async ({ path, input, method }) => {
      const url =
        method === 'GET' && input !== undefined
          ? `/trpc/${path}?input=${encodeURIComponent(JSON.stringify(input))}`
          : `/trpc/${path}`;
      const res = await fetch(url, {
        method,
        headers: { 'content-type': 'application/json' },
        ...(method === 'POST' ? { body: JSON.stringify(input) } : {}),
      });
      const body = (await res.json()) as { result?: { data: unknown }; error?: unknown };
      if (!body.result) throw new Error(JSON.stringify(body.error));
      return body.result.data;
    },
    { path, input, method },
  ) as Promise<T>;
}

describe.skipIf(!chromiumAvailable)('Runs page in Chromium', () => {
  let db: TestDatabase;
  let server: E2EServer;
  let browser: Browser;
  let page: Page;
  const user = testUser('Rita Runs');

  beforeAll(async () => {
    ({ db, server, browser } = await startBrowserStory({
      workers: true,
    }));
    ({ page } = await openUserPage(browser, server.url));
  });

  afterAll(async () => {
    await stopBrowserStory({ browser, server, db });
  });

  it('lists a finished run with its dataset, status, progress and verdict counts', async () => {
    await signUpThroughUi(page, user);
    await verifyThroughMailedLink(page, server.mailbox, user);
    await createOrganizationThroughUi(page, 'Run Watchers');

    await goToSettings(page, 'Runs');
    await page.getByText('No runs yet').waitFor();

    const [org] = await trpc<{ id: string }[]>(page, 'orgs.list', undefined, 'GET');
    const orgId = org?.id ?? '';
    const project = await trpc<{ id: string }>(
      page,
      'projects.create',
      { orgId, name: 'Moderation' },
      'POST',
    );
    // Items are written straight to the database: uploads are tested with the dataset routes.
    const datasetId = randomUUID();
    const me = await trpc<{ user: { id: string } } | null>(page, 'auth.session', undefined, 'GET');
    await adminQuery(
      db.url,
      `insert into datasets (id, organization_id, project_id, name, created_by, created_at, item_count)
       values ($1, $2, $3, 'Forum posts', $4, now(), $5)`,
      [datasetId, orgId, project.id, me?.user.id ?? randomUUID(), TEXTS.length],
    );
    for (const [i, text] of TEXTS.entries()) {
      await adminQuery(
        db.url,
        `insert into dataset_items (id, dataset_id, external_id, kind, media_type, size, sha256, text, created_at)
         values ($1, $2, $3, 'text', 'text/plain; charset=utf-8', $4, $5, $6, now())`,
        [
          randomUUID(),
          datasetId,
          `post-${i}`,
          Buffer.byteLength(text),
          createHash('sha256').update(text).digest('hex'),
          text,
        ],
      );
    }
    const run = await trpc<{ id: string }>(
      page,
      'runs.start',
      { orgId, projectId: project.id, datasetId },
      'POST',
    );
    await expect
      .poll(
        async () =>
          (
            await trpc<{ status: string }>(
              page,
              'runs.get',
              { orgId, projectId: project.id, datasetId, runId: run.id },
              'GET',
            )
          ).status,
        { timeout: 60_000, interval: 250 },
      )
      .toBe('succeeded');

    await page.reload();
    await page.getByRole('heading', { name: 'Runs', level: 1 }).waitFor();
    const row = page.getByRole('row').filter({ hasText: 'Forum posts' });
    await row.waitFor();
    const text = (await row.textContent()) ?? '';
    expect(text).toContain('Succeeded');
    expect(text).toContain('5 of 5 items');
    expect(text).toContain('2 pass');
    expect(text).toContain('2 flag');
    expect(text).toContain('1 fail');
    expect(await row.getByRole('progressbar').getAttribute('value')).toBe('5');
    await screenshot(page, 'runs-page');
  });
});
