import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startRegistry, type RunningRegistry } from '../support/registry-server.js';
import { FakePackageSource } from '../support/fake-source.js';
import { TEST_PASSWORD, TEST_USER, writeHtpasswd } from '../support/htpasswd.js';
import { envelopeCode, rawRequest } from '../support/raw-http.js';
import { Client, digestOf, makeImage } from '../conformance/client.js';

/**
 * Issue 14 point 6: `/v2/_catalog` lists pushed repositories and built images, paged with `n`
 * and `last`, through the real server.
 */
describe('/v2/_catalog', () => {
  let registry: RunningRegistry;
  let client: Client;
  const pushed = ['team/alpha', 'team/beta', 'zeta/app'];

  async function push(name: string): Promise<void> {
    const image = makeImage(name);
    for (const blob of [image.config, ...image.layers]) {
      const response = await client.request('POST', `/v2/${name}/blobs/uploads/?digest=${digestOf(blob)}`, { headers: { 'content-type': 'application/octet-stream' }, body: blob });
      expect(response.status, `blob of ${name}`).toBe(201);
    }
    const put = await client.request('PUT', `/v2/${name}/manifests/v1`, { headers: { 'content-type': 'application/vnd.oci.image.manifest.v1+json' }, body: image.manifest });
    expect(put.status, `manifest of ${name}`).toBe(201);
  }

  async function catalog(query = ''): Promise<{ repositories: string[]; link: string | null }> {
    const response = await fetch(`${registry.url}/v2/_catalog${query}`);
    expect(response.status, query).toBe(200);
    const body = (await response.json()) as { repositories: string[] };
    return { repositories: body.repositories, link: response.headers.get('link') };
  }

  beforeAll(async () => {
    registry = await startRegistry({ auth: { htpasswdFile: await writeHtpasswd() } }, { source: await FakePackageSource.create() });
    client = new Client({ url: registry.url, username: TEST_USER, password: TEST_PASSWORD, namespace: 'team/alpha' });
    for (const name of pushed) await push(name);
    // A built image: pulling a package list builds it.
    expect((await fetch(`${registry.url}/v2/tool/manifests/latest`)).status).toBe(200);
  });
  afterAll(async () => {
    await registry?.close();
  });

  it('lists pushed repositories and built images, sorted, once each', async () => {
    const { repositories, link } = await catalog();
    expect(repositories).toEqual([...repositories].sort());
    for (const name of pushed) expect(repositories).toContain(name);
    expect(repositories.some((name) => name.includes('tool'))).toBe(true);
    expect(new Set(repositories).size).toBe(repositories.length);
    expect(link).toBeNull();
  });

  it('pages with n and last, with a Link to the next page until the end', async () => {
    const { repositories: all } = await catalog();
    const seen: string[] = [];
    let query = '?n=2';
    let pages = 0;
    for (;;) {
      const page = await catalog(query);
      pages += 1;
      expect(page.repositories.length).toBeLessThanOrEqual(2);
      seen.push(...page.repositories);
      if (page.link === null) break;
      const match = /^<(\/v2\/_catalog\?[^>]+)>; rel="next"$/.exec(page.link);
      expect(match, page.link).not.toBeNull();
      query = (match?.[1] ?? '').slice('/v2/_catalog'.length);
      expect(new URLSearchParams(query).get('n')).toBe('2');
      expect(pages).toBeLessThan(10);
    }
    expect(seen).toEqual(all);
    expect(pages).toBe(Math.ceil(all.length / 2));
    expect((await catalog(`?last=${encodeURIComponent('team/alpha')}`)).repositories[0]).toBe(all[all.indexOf('team/alpha') + 1]);
    expect((await catalog('?n=0')).repositories).toEqual([]);
  });

  it('refuses a bad n and repeated parameters with 400 in the envelope', async () => {
    for (const query of ['?n=-1', '?n=abc', '?n=1&n=2', '?last=a&last=b']) {
      const response = await rawRequest(registry.host, 'GET', `/v2/_catalog${query}`);
      expect(response.status, query).toBe(400);
      expect(envelopeCode(response), query).toBe('UNSUPPORTED');
    }
  });

  it('is a read: refused without credentials when anonymous pulls are off', async () => {
    const closed = await startRegistry({ auth: { htpasswdFile: await writeHtpasswd(), anonymousPull: false } }, { source: await FakePackageSource.create() });
    try {
      expect((await rawRequest(closed.host, 'GET', '/v2/_catalog')).status).toBe(401);
      const auth = `Basic ${Buffer.from(`${TEST_USER}:${TEST_PASSWORD}`).toString('base64')}`;
      const allowed = await rawRequest(closed.host, 'GET', '/v2/_catalog', { headers: { authorization: auth } });
      expect(allowed.status).toBe(200);
      expect(JSON.parse(allowed.body.toString()) as unknown).toEqual({ repositories: [] });
    } finally {
      await closed.close();
    }
  });
});
