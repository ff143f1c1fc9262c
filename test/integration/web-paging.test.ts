import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startRegistry, type RunningRegistry } from '../support/registry-server.js';
import { openBrowser, type BrowserSession } from '../support/browser.js';
import { FakePackageSource } from '../support/fake-source.js';
import { TEST_PASSWORD, TEST_USER, writeHtpasswd } from '../support/htpasswd.js';
import { OCI_MANIFEST, pushSmallImage, smallImage } from '../support/push-image.js';

/**
 * The UI's lists page through the API in headless Chromium: the landing page shows 200 pushed
 * repositories and a "More repositories" button for the rest, a repository page 100 tags and
 * "More tags"; each click appends the next page until none is left.
 */
interface PageElement {
  readonly dataset: { readonly tag?: string };
  readonly textContent: string | null;
}

const REPOSITORIES = 203;
const TAGS = 105;

describe('paging in the web UI', () => {
  let registry: RunningRegistry;
  let session: BrowserSession;
  const authorization = `Basic ${Buffer.from(`${TEST_USER}:${TEST_PASSWORD}`).toString('base64')}`;
  const names = Array.from({ length: REPOSITORIES }, (_, i) => `team/r${String(i).padStart(3, '0')}`);
  const tags = Array.from({ length: TAGS }, (_, i) => `t${String(i).padStart(3, '0')}`);

  beforeAll(async () => {
    registry = await startRegistry({ auth: { htpasswdFile: await writeHtpasswd() }, push: { namespaces: ['team'] } }, { source: await FakePackageSource.create() });
    for (const name of names) await pushSmallImage(registry.url, name, 'v1', { authorization, configBytes: 10, layerBytes: 10 });
    const { manifest } = smallImage({ configBytes: 10, layerBytes: 10 });
    for (const tag of tags) {
      const put = await fetch(`${registry.url}/v2/team/r000/manifests/${tag}`, { method: 'PUT', headers: { authorization, 'content-type': OCI_MANIFEST }, body: manifest });
      expect(put.status, tag).toBe(201);
    }
    session = await openBrowser(registry.url);
  }, 120_000);

  afterAll(async () => {
    await session?.close();
    await registry?.close();
  });

  it('shows 200 pushed repositories, then the rest with More repositories', async () => {
    const { page } = session;
    await page.goto(`${registry.url}/`);
    const items = page.locator('#pushed-repositories li');
    const more = page.locator('#more-repositories');
    await more.waitFor({ state: 'visible' });
    expect(await items.count()).toBe(200);
    await more.click();
    await more.waitFor({ state: 'hidden' });
    expect(await items.allInnerTexts()).toEqual(names);
  });

  it('shows 100 tags of a repository, then the rest with More tags', async () => {
    const { page } = session;
    await page.goto(`${registry.url}/images/team/r000`);
    const rows = page.locator('#tags-table tbody tr');
    const more = page.locator('#more-tags');
    await more.waitFor({ state: 'visible' });
    expect(await rows.count()).toBe(100);
    expect(await page.locator('#image-state').innerText()).toBe(`Pushed repository · ${TAGS + 1} tags (the first 100 shown)`);
    await more.click();
    await more.waitFor({ state: 'hidden' });
    expect(await rows.evaluateAll((all) => all.map((row) => (row as unknown as PageElement).dataset.tag))).toEqual([...tags, 'v1']);
    expect(await page.locator('#image-state').innerText()).toBe(`Pushed repository · ${TAGS + 1} tags`);
  });
});
