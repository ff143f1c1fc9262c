import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { beforeEach, describe, expect, it } from 'vitest';
import { buildApp, type App } from '../../../src/app.js';
import { parseConfig } from '../../../src/config/load.js';
import type { ConfigInput } from '../../../src/config/schema.js';
import { sha256Digest } from '../../../src/oci/digest.js';
import { PushedRepositories } from '../../../src/repository/pushed-repositories.js';
import { MemoryBlobStore } from '../../../src/storage/memory-blob-store.js';
import { MemoryMetadataStore } from '../../../src/storage/memory-metadata-store.js';
import { describePushedRepository, MAX_PAGE_MANIFEST_BYTES } from '../../../src/web/repository-view.js';
import { FakePackageSource } from '../../support/fake-source.js';
import { OCI_INDEX, OCI_MANIFEST, smallImage } from '../../support/push-image.js';
import { TEST_PASSWORD, TEST_USER, writeHtpasswd } from '../../support/htpasswd.js';

const basic = (user: string, password: string) => ({ authorization: `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}` });
const pusher = () => basic(TEST_USER, TEST_PASSWORD);

async function makeApp(config: ConfigInput = {}): Promise<App> {
  return buildApp(
    parseConfig({
      dataDir: await mkdtemp(join(tmpdir(), 'stowage-pushed-')),
      logLevel: 'silent',
      source: { kind: 'nix', shellPackages: ['minishell'] },
      auth: { htpasswdFile: await writeHtpasswd() },
      push: { namespaces: ['team'] },
      ...config,
    }),
    { source: await FakePackageSource.create(), blobs: new MemoryBlobStore(), metadata: new MemoryMetadataStore(), logger: pino({ level: 'silent' }) },
  );
}

/** Push a one-layer image (config + layer of the given sizes) under `tag`; returns its manifest digest. */
async function pushImage(app: App, name: string, tag: string, sizes: { config: number; layer: number }, platform = 'amd64'): Promise<{ digest: string; size: number }> {
  const { blobs, manifest } = smallImage({ configBytes: sizes.config, layerBytes: sizes.layer, architecture: platform });
  for (const blob of blobs) {
    const response = await app.server.inject({ method: 'POST', url: `/v2/${name}/blobs/uploads/?digest=${sha256Digest(blob)}`, headers: { ...pusher(), 'content-type': 'application/octet-stream' }, payload: blob });
    expect(response.statusCode).toBe(201);
  }
  const put = await app.server.inject({ method: 'PUT', url: `/v2/${name}/manifests/${tag}`, headers: { ...pusher(), 'content-type': OCI_MANIFEST }, payload: manifest });
  expect(put.statusCode).toBe(201);
  return { digest: sha256Digest(manifest), size: blobs[0].length + blobs[1].length };
}

interface TagView {
  tag: string;
  digest: string;
  mediaType: string;
  kind: string;
  size: number;
  layers: number | null;
  platforms: Array<{ platform: string; digest: string; size: number | null }>;
  pushedAt: string | null;
}
interface RepositoryView {
  kind: string;
  name: string;
  tags: TagView[];
  totalTags: number;
  deletes: { allowed: boolean; reason?: string; signIn?: boolean };
}

describe('a pushed repository in the web API', () => {
  let app: App;
  beforeEach(async () => {
    app = await makeApp();
  });

  it('is shown as pushed, with each tag’s digest, media type, platforms, size and push time, and is never built', async () => {
    const amd = await pushImage(app, 'team/app', 'v1-amd64', { config: 100, layer: 3000 }, 'amd64');
    const arm = await pushImage(app, 'team/app', 'v1-arm64', { config: 120, layer: 5000 }, 'arm64');
    const index = Buffer.from(
      JSON.stringify({
        schemaVersion: 2,
        mediaType: OCI_INDEX,
        manifests: [
          { mediaType: OCI_MANIFEST, digest: amd.digest, size: 1, platform: { os: 'linux', architecture: 'amd64' } },
          { mediaType: OCI_MANIFEST, digest: arm.digest, size: 1, platform: { os: 'linux', architecture: 'arm64', variant: 'v8' } },
        ],
      }),
    );
    const put = await app.server.inject({ method: 'PUT', url: '/v2/team/app/manifests/v1', headers: { ...pusher(), 'content-type': OCI_INDEX }, payload: index });
    expect(put.statusCode).toBe(201);

    const response = await app.server.inject({ method: 'GET', url: '/api/v1/images/team/app' });
    expect(response.statusCode).toBe(200);
    const view = response.json() as RepositoryView;
    expect(view.kind).toBe('pushed');
    expect(view.tags.map((tag) => tag.tag)).toEqual(['v1', 'v1-amd64', 'v1-arm64']);
    const [multi, single] = view.tags as [TagView, TagView];
    expect(multi).toMatchObject({ kind: 'index', mediaType: OCI_INDEX, digest: sha256Digest(index), size: amd.size + arm.size });
    expect(multi.platforms).toEqual([
      { platform: 'linux/amd64', digest: amd.digest, size: amd.size },
      { platform: 'linux/arm64/v8', digest: arm.digest, size: arm.size },
    ]);
    expect(single).toMatchObject({ kind: 'image', mediaType: OCI_MANIFEST, digest: amd.digest, size: amd.size, layers: 1, platforms: [] });
    expect(Number.isNaN(Date.parse(single.pushedAt ?? ''))).toBe(false);
    expect(view.deletes).toEqual({ allowed: false, reason: 'sign in to delete', signIn: true });

    // The same view under /api/v1/repositories, a listing of the name, and no build from the UI.
    expect((await app.server.inject({ method: 'GET', url: '/api/v1/repositories/team/app' })).json()).toMatchObject({ kind: 'pushed', totalTags: 3 });
    expect((await app.server.inject({ method: 'GET', url: '/api/v1/repositories' })).json()).toEqual({ repositories: ['team/app'], next: null });
    const build = await app.server.inject({ method: 'POST', url: '/api/v1/builds/team/app' });
    expect(build.statusCode).toBe(403);
    expect(build.json().errors[0].code).toBe('DENIED');
    expect((await app.server.inject({ method: 'GET', url: '/api/v1/repositories/team/nothing' })).statusCode).toBe(404);
  });

  it('offers Delete exactly when the registry’s DELETE route lets the same credentials through', async () => {
    const token = async (scope: string, headers: Record<string, string> = {}): Promise<string> =>
      (await app.server.inject({ method: 'GET', url: `/token?service=stowage&scope=${encodeURIComponent(scope)}`, headers })).json().token as string;
    const callers: Array<[string, Record<string, string>, boolean]> = [
      ['anonymous', {}, false],
      ['wrong password', basic(TEST_USER, 'wrong'), false],
      ['unknown user', basic('mallory', TEST_PASSWORD), false],
      ['malformed', { authorization: 'Basic !!!' }, false],
      ['the user, Basic', pusher(), true],
      ['a user token for pull', { authorization: `Bearer ${await token('repository:team/app:pull', pusher())}` }, false],
      ['a user token for delete', { authorization: `Bearer ${await token('repository:team/app:delete', pusher())}` }, true],
      ['a delete token for another repository', { authorization: `Bearer ${await token('repository:team/other:delete', pusher())}` }, false],
      ['an anonymous token asking delete', { authorization: `Bearer ${await token('repository:team/app:pull,delete')}` }, false],
      ['a forged token', { authorization: 'Bearer eyJhbGciOiJFUzI1NiJ9.e30.AAAA' }, false],
    ];
    for (const [who, headers, expected] of callers) {
      await pushImage(app, 'team/app', 'doomed', { config: 10, layer: 10 });
      const answer = await app.server.inject({ method: 'GET', url: '/api/v1/repositories/team/app', headers });
      // A token that does not verify is refused on every route, the page's reads included.
      const offered = answer.statusCode === 200 ? (answer.json() as RepositoryView).deletes.allowed : `answered ${answer.statusCode}`;
      const deleted = await app.server.inject({ method: 'DELETE', url: '/v2/team/app/manifests/doomed', headers });
      expect({ who, offered: offered === true, status: deleted.statusCode === 202 ? 'deleted' : 'refused' }).toEqual({ who, offered: expected, status: expected ? 'deleted' : 'refused' });
    }
  });

  it('offers no Delete and no sign-in where deletes are off, as the route refuses them', async () => {
    const off = await makeApp({ push: { namespaces: ['team'], deletes: false } });
    await pushImage(off, 'team/app', 'v1', { config: 10, layer: 10 });
    const view = (await off.server.inject({ method: 'GET', url: '/api/v1/repositories/team/app', headers: pusher() })).json() as RepositoryView;
    expect(view.deletes).toMatchObject({ allowed: false, signIn: false });
    expect((await off.server.inject({ method: 'DELETE', url: '/v2/team/app/manifests/v1', headers: pusher() })).statusCode).not.toBe(202);
  });
});

describe('push times', () => {
  it('are recorded with each manifest by the injected clock and shown per tag', async () => {
    let now = Date.parse('2026-03-04T05:06:07Z');
    const metadata = new MemoryMetadataStore();
    const blobs = new MemoryBlobStore();
    const repositories = new PushedRepositories(metadata, blobs, () => now);
    const config = Buffer.from('{}');
    await blobs.writer().then(async (writer) => {
      writer.stream.end(config);
      await writer.commit(sha256Digest(config));
    });
    await repositories.linkBlob('team/app', sha256Digest(config));
    const manifest = (n: number) => Buffer.from(JSON.stringify({ schemaVersion: 2, mediaType: OCI_MANIFEST, config: { mediaType: 'application/vnd.oci.image.config.v1+json', digest: sha256Digest(config), size: 2 }, layers: [], annotations: { n: String(n) } }));
    await repositories.putManifest('team/app', 'first', manifest(1), OCI_MANIFEST);
    now += 60_000;
    await repositories.putManifest('team/app', 'second', manifest(2), OCI_MANIFEST);
    const view = await describePushedRepository(repositories, 'team/app');
    expect(view.tags.map((tag) => [tag.tag, tag.pushedAt, tag.size])).toEqual([
      ['first', '2026-03-04T05:06:07.000Z', 2],
      ['second', '2026-03-04T05:07:07.000Z', 2],
    ]);
    // The push time is not part of the descriptors the referrers API returns.
    expect(JSON.stringify(await repositories.referrers('team/app', sha256Digest(config)))).not.toContain('pushedAt');
  });
});

describe('a page of big manifests', () => {
  it('reads at most MAX_PAGE_MANIFEST_BYTES of manifests and says where the next page starts', async () => {
    const store = new MemoryBlobStore();
    const repositories = new PushedRepositories(new MemoryMetadataStore(), store);
    const { blobs } = smallImage({ configBytes: 10, layerBytes: 10 });
    for (const blob of blobs) {
      await store.writer().then(async (writer) => {
        writer.stream.end(blob);
        await writer.commit(sha256Digest(blob));
      });
      await repositories.linkBlob('team/big', sha256Digest(blob));
    }
    const layer = { mediaType: 'application/vnd.oci.image.layer.v1.tar+gzip', digest: sha256Digest(blobs[1]), size: blobs[1].length };
    const config = { mediaType: 'application/vnd.oci.image.config.v1+json', digest: sha256Digest(blobs[0]), size: blobs[0].length };
    const layers = Array.from({ length: Math.floor((4 * 1024 * 1024 - 1000) / (JSON.stringify(layer).length + 1)) }, () => layer);
    const tags = ['t0', 't1', 't2', 't3', 't4', 't5'];
    for (const tag of tags) await repositories.putManifest('team/big', tag, Buffer.from(JSON.stringify({ schemaVersion: 2, mediaType: OCI_MANIFEST, config, layers, annotations: { tag } })), OCI_MANIFEST);

    let reads = 0;
    const counting = { tags: (name: string) => repositories.tags(name), getManifest: (name: string, reference: string) => ((reads += 1), repositories.getManifest(name, reference)) };
    const first = await describePushedRepository(counting, 'team/big');
    expect(reads * 4 * 1024 * 1024).toBeLessThanOrEqual(MAX_PAGE_MANIFEST_BYTES + 4 * 1024 * 1024);
    expect(first.tags.map((tag) => tag.tag)).toEqual(tags.slice(0, reads));
    expect(first.nextTag).toBe(tags[reads - 1]);
    const second = await describePushedRepository(counting, 'team/big', first.nextTag ?? undefined);
    expect([...first.tags, ...second.tags].map((tag) => tag.tag)).toEqual(tags);
    expect(second.nextTag).toBeNull();
    expect(second.totalTags).toBe(6);
    // Each manifest was parsed once: a view of the first page again costs the budget nothing
    // (it is not parsed again), so the whole repository fits one page now.
    const again = await describePushedRepository(counting, 'team/big');
    expect(again.tags.map((tag) => tag.tag)).toEqual(tags);
    expect(again.tags.map((tag) => tag.layers)).toEqual(first.tags.concat(second.tags).map((tag) => tag.layers));
    expect(again.nextTag).toBeNull();
  });
});
