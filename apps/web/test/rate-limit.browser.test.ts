/**
 * A 429 in the settings app: a second API server with rate limits on and a tiny quota for signed-in users.
 */

import { type E2EServer, testConfig } from '@crowdee/api/testing';
import type { TestDatabase } from '@crowdee/db/testing';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { signUpThroughUi, testUser } from './helpers/app.ts';
import { chromiumAvailable, openUserPage, screenshot, warnIfNoChromium } from './helpers/browser.ts';
import { startBrowserStory, stopBrowserStory } from './helpers/story.ts';

warnIfNoChromium('rate limits in the settings app');

describe.skipIf(!chromiumAvailable)('rate limits in the settings app', () => {
  let db: TestDatabase;
  let server: E2EServer;
  let browser: Browser;

  beforeAll(async () => {
    const policies = testConfig().rateLimits.policies;
    ({ db, server, browser } = await startBrowserStory({
      config: {
        rateLimits: {
          enabled: true,
          namespace: `web-test-${process.pid}`,
          policies: { ...policies, authenticated: { name: 'authenticated', quota: 5, windowSeconds: 60 } },
        },
      },
    }));
  });

  afterAll(async () => {
    await stopBrowserStory({ browser, server, db });
  });

  it('says when to retry after a 429, and offers a retry', async () => {
    const { page } = await openUserPage(browser, server.url);
    // Signing up and loading the first page spend most of the five calls a minute; reloads spend the rest.
    await signUpThroughUi(page, testUser('Rita Ratelimited'));
    const limited = page.getByRole('alert').filter({ hasText: 'Too many requests' }).first();
    for (let attempt = 0; attempt < 6 && (await limited.count()) === 0; attempt++) {
      await page.reload({ waitUntil: 'networkidle' });
    }
    const text = (await limited.textContent()) ?? '';
    const match = /Try again in (\d+) seconds?\./.exec(text);
    expect(match, text).not.toBeNull();
    const seconds = Number(match?.[1]);
    expect(seconds).toBeGreaterThan(0);
    expect(seconds).toBeLessThanOrEqual(60);
    await limited.getByRole('button', { name: 'Try again' }).waitFor();
    await screenshot(page, '14-rate-limited');
  });
});
