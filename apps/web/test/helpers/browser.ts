import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { type Browser, type BrowserContext, chromium, type Locator, type Page } from 'playwright-core';
import { artifactsDir } from './paths.ts';

/** Debian's Chromium (CI installs it); never a downloaded browser. */
export const CHROMIUM_PATH = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
export const chromiumAvailable = existsSync(CHROMIUM_PATH);

export function warnIfNoChromium(suite: string): void {
  if (chromiumAvailable) return;
  console.warn(
    `[web] SKIPPED "${suite}": no Chromium at ${CHROMIUM_PATH}. Install it with \`apt-get install -y chromium\` or set CHROMIUM_PATH.`,
  );
}

/** Flags for Chromium as root in a closed network: without the networking ones it keeps dialing out. */
const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

export function launchBrowser(): Promise<Browser> {
  // Playwright gives every launch a fresh temporary profile (user-data-dir) and deletes it on close.
  return chromium.launch({ executablePath: CHROMIUM_PATH, args: CHROMIUM_ARGS, headless: true });
}

export interface UserPage {
  context: BrowserContext;
  page: Page;
}

/** A separate browser profile (cookies and all) per user, at a desktop size, with the clipboard allowed. */
export async function openUserPage(browser: Browser, baseURL: string): Promise<UserPage> {
  const context = await browser.newContext({
    baseURL,
    viewport: { width: 1360, height: 900 },
    locale: 'en-US',
  });
  await context.grantPermissions(['clipboard-read', 'clipboard-write'], { origin: baseURL });
  context.setDefaultTimeout(15_000);
  const page = await context.newPage();
  return { context, page };
}

export async function screenshot(target: Page | Locator, name: string): Promise<void> {
  mkdirSync(artifactsDir, { recursive: true });
  const path = join(artifactsDir, `${name}.png`);
  if ('goto' in target) {
    // A full-page capture of a scrolled page paints the sticky top bar mid-page: capture from the top.
    await target.evaluate(() => window.scrollTo(0, 0));
    await target.screenshot({ path, fullPage: true, animations: 'disabled' });
  } else await target.screenshot({ path, animations: 'disabled' });
}

/** The element that has focus, described as a person would: its role-ish tag and its accessible text. */
export function focusedText(page: Page): Promise<string> {
  return page.evaluate(() => {
    const el = document.activeElement;
    if (!el) return '';
    const label = el.getAttribute('aria-label') ?? (el as HTMLElement).textContent ?? '';
    return label.trim();
  });
}

/** Presses Tab until the focused element's text is `text` (or gives up after `max` presses). */
export async function tabTo(page: Page, text: string, max = 40): Promise<void> {
  for (let i = 0; i < max; i++) {
    await page.keyboard.press('Tab');
    if ((await focusedText(page)) === text) return;
  }
  throw new Error(`Tab never reached "${text}"`);
}
