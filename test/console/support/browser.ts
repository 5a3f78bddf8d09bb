// Headless Chromium (the system's, driven by playwright-core) on the console: sign in, wait for live
// data, and keep a 1280x800 screenshot of each page as test output. A test run leaves the checkout
// alone: only `npm run docs:screenshots` (FLOTILLA_DOCS_SCREENSHOTS=1) refreshes docs/screenshots/.
import { copyFileSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { chromium, type Browser, type Page } from 'playwright-core';
import { REPO } from '../../support/server-process.ts';

export const CHROMIUM = '/usr/bin/chromium';
const SHOTS = join(REPO, 'test-output/screenshots');
const DOCS = process.env.FLOTILLA_DOCS_SCREENSHOTS === '1' ? join(REPO, 'docs/screenshots') : null;

export function launchBrowser(): Promise<Browser> {
  return chromium.launch({
    executablePath: CHROMIUM,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-dev-shm-usage'],
  });
}

export interface ConsolePage {
  page: Page;
  /** Uncaught errors and console errors seen so far (a clean console is part of the contract). */
  errors: string[];
}

/** A fresh tab (its own sessionStorage) on the console, signed in with `token` when given. */
export async function openConsole(
  browser: Browser,
  url: string,
  token?: string,
  o: { width?: number; height?: number } = {},
): Promise<ConsolePage> {
  const context = await browser.newContext({
    viewport: { width: o.width ?? 1280, height: o.height ?? 800 },
    colorScheme: 'light',
    reducedMotion: 'reduce',
  });
  const page = await context.newPage();
  page.setDefaultTimeout(20_000);
  const errors: string[] = [];
  page.on('pageerror', (e) => errors.push(`pageerror: ${e.message}`));
  page.on('console', (m) => {
    // A refused request is logged by the browser as a failed resource; those are expected in some tests.
    if (m.type() === 'error' && !/Failed to load resource/.test(m.text())) errors.push(`console: ${m.text()}`);
  });
  await page.goto(url);
  if (token) await signIn(page, token);
  return { page, errors };
}

export async function signIn(page: Page, token: string): Promise<void> {
  await page.getByLabel('Token').fill(token);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.getByRole('navigation', { name: 'Main' }).waitFor();
}

/** Goes to a console route (`#/models/x`) and waits for the page's heading. */
export async function go(page: Page, hash: string, heading?: string | RegExp): Promise<void> {
  await page.evaluate((h) => {
    location.hash = h;
  }, hash);
  if (heading) await page.getByRole('heading', { level: 1, name: heading }).waitFor();
}

/** Saves test-output/screenshots/<name>.png (the viewport, 1280x800), and into docs/screenshots/ when asked. */
export async function screenshot(page: Page, name: string): Promise<void> {
  mkdirSync(SHOTS, { recursive: true });
  const file = join(SHOTS, `${name}.png`);
  // Let charts measure their width and the last poll land before the picture is taken.
  await page.waitForTimeout(300);
  await page.screenshot({ path: file, animations: 'disabled', caret: 'hide' });
  if (DOCS) copyFileSync(file, join(DOCS, `${name}.png`));
}
