import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Page } from 'playwright-core';
import { REPO_ROOT, startRegistry, type RunningRegistry } from '../support/registry-server.js';
import { openBrowser, type BrowserSession } from '../support/browser.js';
import { RECORD_EVENTS, type RecordedEvent } from '../support/page-events.js';

/**
 * The web UI in headless Chromium against a real registry building the example package set with
 * real Nix: the landing page, a keyboard-driven package search, the explorer building
 * `shell/hello` with live progress over Server-Sent Events, and the layer picture. Screenshots
 * are kept in test-artifacts/.
 */

/**
 * The few DOM members the page functions below use: the project compiles without the DOM lib.
 * (Page functions, not strings: the pages' CSP forbids eval, which string expressions need.)
 */
interface PageElement {
  readonly textContent: string | null;
  hasAttribute(name: string): boolean;
  matches(selector: string): boolean;
}
declare const document: {
  querySelector(selector: string): PageElement | null;
  getElementById(id: string): PageElement | null;
  readonly activeElement: PageElement | null;
};
declare const window: { readonly __sse: RecordedEvent[] };

/** Press Tab until the element matching `selector` has focus; fails after `limit` presses. */
async function tabTo(page: Page, selector: string, limit = 40): Promise<number> {
  for (let presses = 1; presses <= limit; presses += 1) {
    await page.keyboard.press('Tab');
    if (await page.evaluate((sel) => document.activeElement?.matches(sel) ?? false, selector)) return presses;
  }
  throw new Error(`${selector} never got the focus after ${limit} Tab presses`);
}

describe('the web UI in a browser', () => {
  let registry: RunningRegistry;
  let session: BrowserSession;

  beforeAll(async () => {
    registry = await startRegistry();
    session = await openBrowser(registry.url);
    await session.page.addInitScript(RECORD_EVENTS);
  });

  afterAll(async () => {
    await session?.close();
    await registry?.close();
  });

  it('landing page: how to pull with the real host, the package set, and a search driven by the keyboard', async () => {
    const { page } = session;
    await page.goto(`${registry.url}/`);
    await page.getByRole('heading', { level: 1 }).waitFor();
    await page.waitForFunction((host) => document.querySelector('[data-registry]')?.textContent === host, registry.host);
    const pullText = await page.locator('#pull').innerText();
    expect(pullText).toContain(`docker pull ${registry.host}/shell/git`);
    expect(pullText).toContain(`image: ${registry.host}/shell/hello:latest`);
    await page.waitForFunction(() => !document.getElementById('package-set-facts')?.hasAttribute('aria-busy'));
    const facts = await page.locator('#package-set-facts').innerText();
    expect(facts).toContain('nix');
    expect(facts).toContain('latest');
    expect(facts).toMatch(/nix:[0-9a-f]{16}/);

    // Keyboard only: Tab to the labelled search box, type, Enter.
    const search = page.getByRole('searchbox', { name: 'Search packages' });
    expect(await search.count()).toBe(1);
    expect(await page.getByRole('button', { name: 'Search' }).count()).toBe(1);
    await page.locator('body').focus();
    await tabTo(page, '#package-search');
    await page.keyboard.type('hello');
    await page.keyboard.press('Enter');
    await page.waitForFunction(() => document.getElementById('search-status')?.textContent?.includes('match “hello”') ?? false);
    const firstRow = page.locator('#search-results tbody tr').first();
    expect(await firstRow.getAttribute('data-package')).toBe('hello');
    // The closure size cell settles on a size or "not built yet".
    await page.waitForFunction(() => (document.querySelector('[data-size="hello"]')?.textContent ?? '…') !== '…');
    expect(new URL(page.url()).searchParams.get('q')).toBe('hello');
    await session.screenshot('web-landing-search');

    // The explorer link is reachable and followed by keyboard too.
    const link = page.getByRole('link', { name: 'Explore image shell/hello' });
    await link.focus();
    await page.keyboard.press('Enter');
    await page.waitForURL(/\/images\/shell\/hello$/);
  });

  it('explorer: builds shell/hello with live progress and draws its layers', async () => {
    const { page } = session;
    await page.goto(`${registry.url}/images/shell/hello`);
    await page.waitForFunction(() => document.getElementById('image-state')?.textContent?.startsWith('Not built yet') ?? false);
    expect(await page.locator('[data-command="docker"] code').innerText()).toBe(`docker pull ${registry.host}/shell/hello:latest`);
    expect(await page.locator('[data-command="kubectl"] code').innerText()).toBe(`kubectl run hello --restart=Never --image=${registry.host}/shell/hello:latest`);
    const build = page.getByRole('button', { name: 'Build image' });
    await build.focus();
    await page.keyboard.press('Enter');
    await page.locator('#progress-section').waitFor({ state: 'visible' });
    await session.screenshot('web-explorer-building');
    await page.waitForFunction(() => document.getElementById('build-phase')?.textContent === 'Done: the image is built.', undefined, { timeout: 150_000 });

    const events = await page.evaluate(() => window.__sse);
    const phases = events.filter((event) => event.type === 'status').map((event) => event.data.phase);
    expect(phases).toContain('resolving');
    expect(phases).toContain('layers');
    const layerSteps = events.filter((event) => event.data.phase === 'layers').map((event) => event.data.layersDone ?? 0);
    expect(Math.max(...layerSteps)).toBeGreaterThan(Math.min(...layerSteps));
    expect(events.some((event) => (event.data.bytesWritten ?? 0) > 0)).toBe(true);
    expect(events[events.length - 1]?.type).toBe('done');
    expect(await page.locator('#build-progress').getAttribute('value')).toBe('100');
    // The build log shows each layer as it was written or found in the cache.
    expect(await page.locator('#build-log .log-line[data-kind="layer"]').count()).toBe(events.filter((event) => event.type === 'log' && event.data.kind === 'layer').length);
    expect(await page.locator('#build-log .log-line[data-kind="layer"]').count()).toBeGreaterThan(0);

    // The layer picture: one bar per layer of the manifest the registry serves.
    const stack = page.getByRole('list', { name: /^Layers of shell\/hello:latest/ });
    await stack.waitFor();
    const manifest = (await (await fetch(`${registry.url}/v2/shell/hello/manifests/latest`, { headers: { accept: 'application/vnd.oci.image.manifest.v1+json' } })).json()) as { layers: unknown[] };
    expect(await stack.locator(':scope > li').count()).toBe(manifest.layers.length);
    expect(await page.locator('#image-state').innerText()).toMatch(/^Built/);
    expect(await page.getByRole('button', { name: 'Build image' }).isVisible()).toBe(false);

    // Open the layer holding hello with the keyboard: its store paths are listed.
    const helloLayer = stack.locator('summary', { hasText: 'hello-2.12.1' });
    await helloLayer.focus();
    await page.keyboard.press('Enter');
    const detail = stack.locator('details[open] .layer-detail');
    await detail.waitFor();
    expect(await detail.innerText()).toMatch(/\/nix\/store\/[a-z0-9]{32}-hello-2\.12\.1/);
    await page.locator('summary', { hasText: 'OCI manifest' }).click();
    expect(await page.locator('.json-box pre').first().innerText()).toContain('"schemaVersion": 2');
    await session.screenshot('web-explorer-built');
  });

  it('shows which other built images share a layer', async () => {
    const { page } = session;
    const response = await fetch(`${registry.url}/api/v1/builds/shell/cowsay`, { method: 'POST' });
    expect(response.status).toBe(202);
    await page.goto(`${registry.url}/images/shell/cowsay`);
    await page.waitForFunction(() => document.getElementById('image-state')?.textContent?.startsWith('Built') ?? false, undefined, { timeout: 120_000 });
    const shared = page.locator('.layer-bar.shared');
    expect(await shared.count()).toBeGreaterThan(0);
    await shared.first().click();
    expect(await page.locator('details[open] .layer-detail').innerText()).toContain('hello/shell:latest');
  });

  it('landing page lists recent builds and images, and closure sizes once built', async () => {
    const { page } = session;
    await page.goto(`${registry.url}/?q=hello`);
    await page.locator('#builds-table').waitFor();
    expect(await page.locator('#builds-table').innerText()).toContain('hello/shell:latest');
    expect(await page.getByRole('link', { name: 'cowsay/shell:latest' }).count()).toBeGreaterThan(0);
    await page.waitForFunction(() => /[0-9.]+ (KiB|MiB)/.test(document.querySelector('[data-size="hello"]')?.textContent ?? ''));
    await session.screenshot('web-landing-after-builds');
  });

  it('loaded nothing from outside the registry and logged no errors', () => {
    expect(session.foreignRequests).toEqual([]);
    expect(session.pageErrors).toEqual([]);
  });
});

describe('a failed build in the browser', () => {
  let registry: RunningRegistry;
  let session: BrowserSession;

  beforeAll(async () => {
    registry = await startRegistry({ source: { packageSet: join(REPO_ROOT, 'test/fixtures/failing-pkgs'), shellPackages: ['fine'] } });
    session = await openBrowser(registry.url);
  });

  afterAll(async () => {
    await session?.close();
    await registry?.close();
  });

  it('shows the error with the tail of the Nix log in the explorer and on the landing page', async () => {
    const { page } = session;
    await page.goto(`${registry.url}/images/broken`);
    await page.getByRole('button', { name: 'Build image' }).click();
    const alert = page.getByRole('alert');
    await alert.waitFor({ timeout: 120_000 });
    expect(await alert.innerText()).toContain('broken.c:42: error: expected something marvellous');
    await session.screenshot('web-explorer-failed');
    await page.goto(`${registry.url}/`);
    await page.locator('#failures li').first().waitFor();
    const failure = page.locator('#failures li').first();
    expect(await failure.innerText()).toContain('broken:latest');
    await failure.locator('summary').click();
    expect(await failure.locator('pre').innerText()).toContain('broken.c:42');
    expect(session.pageErrors.filter((text) => !text.includes('Failed to load resource'))).toEqual([]);
  });
});
