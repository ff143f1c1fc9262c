import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';
import { REPO_ROOT } from './registry-server.js';

/** Debian's chromium; `.ci/run` installs it (apt `chromium`). */
export const CHROMIUM = process.env.STOWAGE_CHROMIUM ?? '/usr/bin/chromium';
export const ARTIFACTS_DIR = join(REPO_ROOT, 'test-artifacts');

/** Flags that keep headless Chromium from reaching the internet or doing background work. */
const FLAGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-background-networking',
  '--disable-quic',
  '--no-first-run',
  '--disable-component-update',
  '--disable-sync',
];

export interface BrowserSession {
  readonly browser: Browser;
  readonly context: BrowserContext;
  readonly page: Page;
  /** Every URL the page requested that was not on `allowedOrigin`. */
  readonly foreignRequests: string[];
  /** Console errors and uncaught page errors. */
  readonly pageErrors: string[];
  /** Save a full-page PNG under test-artifacts/ (gitignored). */
  screenshot(name: string): Promise<string>;
  close(): Promise<void>;
}

/** Launch headless Chromium with one page; requests leaving `allowedOrigin` are recorded and aborted. */
export async function openBrowser(allowedOrigin: string): Promise<BrowserSession> {
  const browser = await chromium.launch({ executablePath: CHROMIUM, args: FLAGS, headless: true });
  const context = await browser.newContext({ viewport: { width: 1280, height: 900 }, reducedMotion: 'reduce' });
  const foreignRequests: string[] = [];
  const pageErrors: string[] = [];
  await context.route('**/*', (route) => {
    const url = route.request().url();
    if (url.startsWith(allowedOrigin) || url.startsWith('data:')) return route.continue();
    foreignRequests.push(url);
    return route.abort();
  });
  const page = await context.newPage();
  page.on('console', (message) => {
    if (message.type() === 'error') pageErrors.push(message.text());
  });
  page.on('pageerror', (error) => pageErrors.push(error.message));
  await mkdir(ARTIFACTS_DIR, { recursive: true });
  return {
    browser,
    context,
    page,
    foreignRequests,
    pageErrors,
    async screenshot(name) {
      const path = join(ARTIFACTS_DIR, `${name}.png`);
      await page.screenshot({ path, fullPage: true });
      return path;
    },
    async close() {
      await context.close().catch(() => undefined);
      await browser.close();
    },
  };
}
