import { type E2EServer, startE2EServer } from '@crowdee/api/testing';
import { createTestDatabase, type TestDatabase } from '@crowdee/db/testing';
import type { Browser } from 'playwright-core';
import { launchBrowser } from './browser.ts';
import { webDist } from './paths.ts';

type ServerOptions = Parameters<typeof startE2EServer>[0];

/** What a browser story runs against: its own database, the API serving the built settings app on it, Chromium. */
export interface BrowserStory {
  db: TestDatabase;
  server: E2EServer;
  browser: Browser;
}

/**
 * Starts a story's world: a throw-away database, the API on it serving the built app (`webDist`, fast password
 * hashing; `options` add to or override that), and a Chromium. What did start is closed again if a later part fails.
 */
export async function startBrowserStory(
  options: Omit<ServerOptions, 'databaseUrl'> = {},
): Promise<BrowserStory> {
  const started: Partial<BrowserStory> = {};
  try {
    started.db = await createTestDatabase();
    started.server = await startE2EServer({
      fastPasswordHashing: true,
      ...options,
      databaseUrl: started.db.url,
      config: { webDist, ...options.config },
    });
    started.browser = await launchBrowser();
    return started as BrowserStory;
  } catch (error) {
    await stopBrowserStory(started);
    throw error;
  }
}

/** Closes what `startBrowserStory` opened: the browser, then the server, then the database. */
export async function stopBrowserStory(story: Partial<BrowserStory>): Promise<void> {
  await story.browser?.close();
  await story.server?.close();
  await story.db?.drop();
}
