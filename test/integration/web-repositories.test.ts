import { randomUUID } from 'node:crypto';
import { copyFile, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { REPO_ROOT, startRegistry, type RunningRegistry } from '../support/registry-server.js';
import { openBrowser, type BrowserSession } from '../support/browser.js';
import { TEST_PASSWORD, TEST_USER, writeHtpasswd } from '../support/htpasswd.js';
import { OCI_INDEX, OCI_MANIFEST, pushIndex, pushSmallImage } from '../support/push-image.js';
import { formatDuration, RECORD_EVENTS, type RecordedEvent } from '../support/page-events.js';

/**
 * More of the web UI in headless Chromium (web.test.ts has the landing page, search and
 * explorer): a pushed repository's tags and sizes, Delete only for a user the registry lets
 * delete, Nix's log lines on the page during a real build, and the copy buttons with and
 * without navigator.clipboard. Screenshots are kept in test-artifacts/.
 */

/** The few DOM members the page functions below use: the project compiles without the DOM lib. */
interface PageElement {
  readonly textContent: string | null;
}
declare const document: {
  querySelector(selector: string): PageElement | null;
  getElementById(id: string): PageElement | null;
};
declare const window: { readonly __sse: RecordedEvent[]; getSelection(): { toString(): string } | null };
declare const navigator: { readonly clipboard: { readText(): Promise<string> } };

describe('pushed repositories, the live build log and copy buttons in a browser', () => {
  let registry: RunningRegistry;
  let session: BrowserSession;
  let packageSet: string;
  const authorization = `Basic ${Buffer.from(`${TEST_USER}:${TEST_PASSWORD}`).toString('base64')}`;
  let amd: { digest: string; size: number };
  let arm: { digest: string; size: number };
  let indexDigest: string;

  beforeAll(async () => {
    // A fresh copy of the chatty package set, so Nix really builds it in this run.
    packageSet = await mkdtemp(join(tmpdir(), 'stowage-chatty-'));
    await copyFile(join(REPO_ROOT, 'test/fixtures/chatty-pkgs/default.nix'), join(packageSet, 'default.nix'));
    await writeFile(join(packageSet, 'nonce.nix'), `"${randomUUID()}"\n`);
    registry = await startRegistry({ source: { packageSet, shellPackages: ['chatty'] }, auth: { htpasswdFile: await writeHtpasswd() }, push: { namespaces: ['team'] } });
    session = await openBrowser(registry.url);
    await session.page.addInitScript(RECORD_EVENTS);
    amd = await pushSmallImage(registry.url, 'team/app', 'v1-amd64', { authorization, configBytes: 200, layerBytes: 70_000, architecture: 'amd64' });
    arm = await pushSmallImage(registry.url, 'team/app', 'v1-arm64', { authorization, configBytes: 300, layerBytes: 90_000, architecture: 'arm64' });
    indexDigest = await pushIndex(registry.url, 'team/app', 'v1', [{ digest: amd.digest, architecture: 'amd64' }, { digest: arm.digest, architecture: 'arm64' }], authorization);
  });

  afterAll(async () => {
    await session?.close();
    await registry?.close();
    await rm(packageSet, { recursive: true, force: true });
  });

  it('shows a pushed repository with its tags, digests, media types, platforms and sizes, and no Build button', async () => {
    const { page } = session;
    await page.goto(`${registry.url}/images/team/app`);
    const table = page.locator('#tags-table');
    await table.waitFor();
    expect(await page.locator('#image-state').innerText()).toBe('Pushed repository · 3 tags');
    expect(await page.getByRole('button', { name: 'Build image' }).isVisible()).toBe(false);
    expect(await page.locator('#tags-table tbody tr').evaluateAll((rows) => rows.map((row) => (row as unknown as { dataset: { tag: string } }).dataset.tag))).toEqual(['v1', 'v1-amd64', 'v1-arm64']);
    const index = page.locator('tr[data-tag="v1"]');
    expect(await index.innerText()).toContain(indexDigest);
    expect(await index.innerText()).toContain(OCI_INDEX);
    const platforms = index.locator('[data-platform]');
    expect(await platforms.evaluateAll((items) => items.map((item) => [item.getAttribute('data-platform'), item.getAttribute('data-size')]))).toEqual([
      ['linux/amd64', String(amd.size)],
      ['linux/arm64', String(arm.size)],
    ]);
    expect(await platforms.first().innerText()).toMatch(/^linux\/amd64 \d+(\.\d)? KiB$/);
    expect(await index.locator('td[data-size]').getAttribute('data-size')).toBe(String(amd.size + arm.size));
    const single = page.locator('tr[data-tag="v1-amd64"]');
    expect(await single.innerText()).toContain(amd.digest);
    expect(await single.innerText()).toContain(OCI_MANIFEST);
    expect(await single.locator('td[data-size]').getAttribute('data-size')).toBe(String(amd.size));
    expect(await single.locator('time').count()).toBe(1);
    expect(await page.locator('[data-command="docker"] code').innerText()).toBe(`docker pull ${registry.host}/team/app:v1`);
    // Anonymous: no Delete, an offer to sign in.
    expect(await page.getByRole('button', { name: /^Delete tag/ }).count()).toBe(0);
    expect(await page.getByRole('form', { name: 'Sign in to delete' }).isVisible()).toBe(true);
    await session.screenshot('web-pushed-repository');
    // The landing page lists it as pushed.
    await page.goto(`${registry.url}/`);
    await page.getByRole('link', { name: 'Pushed repository team/app' }).waitFor();
  });

  it('shows Delete only to a user the registry lets delete, and deletes through the registry', async () => {
    const { page } = session;
    await page.goto(`${registry.url}/images/team/app`);
    await page.locator('#sign-in-form').waitFor();
    await page.getByLabel('User').fill(TEST_USER);
    await page.getByLabel('Password').fill('not the password');
    await page.getByRole('button', { name: 'Sign in to delete' }).click();
    await page.getByRole('alert').filter({ hasText: 'Not signed in: invalid username or password' }).waitFor();
    expect(await page.getByRole('button', { name: /^Delete tag/ }).count()).toBe(0);

    await page.getByLabel('Password').fill(TEST_PASSWORD);
    await page.getByRole('button', { name: 'Sign in to delete' }).click();
    await page.getByText(`Signed in as ${TEST_USER}.`).waitFor();
    expect(await page.getByRole('button', { name: /^Delete tag/ }).count()).toBe(3);
    const remove = page.getByRole('button', { name: 'Delete tag v1-arm64' });
    await remove.click();
    expect(await remove.innerText()).toBe('Really delete v1-arm64?');
    await remove.click();
    await page.getByText('Deleted tag v1-arm64.').waitFor();
    expect(await page.locator('#tags-table tbody tr').count()).toBe(2);
    expect((await fetch(`${registry.url}/v2/team/app/manifests/v1-arm64`, { headers: { accept: OCI_MANIFEST } })).status).toBe(404);
    expect((await fetch(`${registry.url}/v2/team/app/manifests/v1-amd64`, { headers: { accept: OCI_MANIFEST } })).status).toBe(200);
  });

  it('shows Nix log lines while the build runs, then the layers, with the elapsed time', async () => {
    const { page } = session;
    await page.goto(`${registry.url}/images/chatty`);
    await page.waitForFunction(() => document.getElementById('image-state')?.textContent?.startsWith('Not built yet') ?? false);
    await page.getByRole('button', { name: 'Build image' }).click();
    // The builder's own output reaches the page before Nix is done: the phase is still resolving.
    await page.locator('#build-log .log-line', { hasText: 'compiling part 1 of 4' }).waitFor({ timeout: 60_000 });
    const during = await page.evaluate(() => ({
      phase: document.getElementById('build-phase')?.textContent ?? '',
      done: (window.__sse ?? []).some((event) => event.type === 'done'),
      layers: (window.__sse ?? []).some((event) => event.type === 'status' && event.data.phase === 'layers'),
    }));
    expect(during.done).toBe(false);
    expect(during.layers).toBe(false);
    expect(during.phase).toMatch(/^Resolving the closure: /);
    await session.screenshot('web-explorer-live-log');
    await page.waitForFunction(() => document.getElementById('build-phase')?.textContent === 'Done: the image is built.', undefined, { timeout: 150_000 });

    const lines = await page.locator('#build-log .log-line').evaluateAll((items) => items.map((item) => `${(item as unknown as { dataset: { kind: string } }).dataset.kind}: ${item.querySelector('.log-text')?.textContent ?? ''}`));
    expect(lines).toContain('build: building chatty-dep-1.0');
    expect(lines).toContain('build: building chatty-1.0');
    expect(lines.indexOf('build: building chatty-1.0')).toBeLessThan(lines.indexOf('log: compiling part 4 of 4'));
    expect(lines.some((line) => /^layer: layer 1 of \d+ written/.test(line))).toBe(true);
    expect(await page.locator('#build-counts').innerText()).toMatch(/^2 derivations built · \d+ layers done$/);
    // The elapsed time stops at the build's own duration, as the server measured it.
    const events = await page.evaluate(() => window.__sse);
    const finished = events.filter((event) => event.type === 'status' && event.data.phase === 'done').map((event) => event.data.durationMs ?? -1);
    expect(finished).toHaveLength(1);
    expect(await page.locator('#build-elapsed-time').innerText()).toBe(formatDuration(finished[0] as number));
  }, 180_000);

  it('copies a pull command to the clipboard', async () => {
    const { page, context } = session;
    await context.grantPermissions(['clipboard-read', 'clipboard-write'], { origin: registry.url });
    await page.goto(`${registry.url}/`);
    await page.waitForFunction((host) => document.querySelector('[data-registry]')?.textContent === host, registry.host);
    await page.getByRole('button', { name: 'Copy the docker command' }).click();
    await page.locator('[data-command="docker"] .copy-status', { hasText: 'Copied' }).waitFor();
    expect(await page.evaluate(() => navigator.clipboard.readText())).toBe(`docker pull ${registry.host}/shell/git`);
  });

  it('without navigator.clipboard (plain HTTP on a LAN address) copies through the fallback and leaves the command selected', async () => {
    const { context } = session;
    const lan = await context.newPage();
    // What a page served over http://<LAN address> sees: no secure context, no clipboard API.
    await lan.addInitScript(() => {
      Object.defineProperty(Object.getPrototypeOf(navigator), 'clipboard', { get: () => undefined });
      try {
        Object.defineProperty(window, 'isSecureContext', { get: () => false });
      } catch {
        // Without the clipboard API the page takes the fallback anyway.
      }
    });
    await lan.goto(`${registry.url}/images/team/app`);
    await lan.locator('#tags-table').waitFor();
    const expected = `kubectl run app --restart=Never --image=${registry.host}/team/app:v1`;
    await lan.waitForFunction((text) => document.querySelector('[data-command="kubectl"] code')?.textContent === text, expected);
    await lan.getByRole('button', { name: 'Copy the kubectl command' }).click();
    const status = lan.locator('[data-command="kubectl"] .copy-status');
    await status.filter({ hasText: /Copied|Selected/ }).waitFor();
    expect(await lan.evaluate(() => window.getSelection()?.toString() ?? '')).toBe(expected);
    // When the browser let execCommand copy, the clipboard holds the command too.
    if ((await status.innerText()) === 'Copied') expect(await session.page.evaluate(() => navigator.clipboard.readText())).toBe(expected);
    await lan.close();
  });

  it('loaded nothing from outside the registry and logged no errors', () => {
    expect(session.foreignRequests).toEqual([]);
    expect(session.pageErrors).toEqual([]);
  });
});
