import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { buildApp, type App } from '../../../src/app.js';
import { parseConfig } from '../../../src/config/load.js';
import type { ConfigInput } from '../../../src/config/schema.js';
import { MemoryBlobStore } from '../../../src/storage/memory-blob-store.js';
import { MemoryMetadataStore } from '../../../src/storage/memory-metadata-store.js';
import { PushedRepositories } from '../../../src/repository/pushed-repositories.js';
import { FakePackageSource } from '../../support/fake-source.js';
import { TEST_PASSWORD, TEST_USER, writeHtpasswd } from '../../support/htpasswd.js';
import { digestOf, makeImage } from '../../conformance/client.js';

const MANIFEST = 'application/vnd.oci.image.manifest.v1+json';
const auth = { authorization: `Basic ${Buffer.from(`${TEST_USER}:${TEST_PASSWORD}`).toString('base64')}` };

let htpasswd: string;
let metadata: MemoryMetadataStore;
let blobs: MemoryBlobStore;
beforeAll(async () => {
  htpasswd = await writeHtpasswd();
});
beforeEach(() => {
  metadata = new MemoryMetadataStore();
  blobs = new MemoryBlobStore();
});

async function makeApp(config: ConfigInput = {}): Promise<App> {
  return buildApp(
    parseConfig({ dataDir: await mkdtemp(join(tmpdir(), 'stowage-unit-')), source: { kind: 'nix', shellPackages: ['minishell'], systems: ['x86_64-linux'] }, auth: { htpasswdFile: htpasswd }, ...config }),
    { source: await FakePackageSource.create(), blobs, metadata, logger: pino({ level: 'silent' }) },
  );
}

async function pushBlob(app: App, name: string, data: Buffer): Promise<number> {
  const response = await app.server.inject({ method: 'POST', url: `/v2/${name}/blobs/uploads/?digest=${digestOf(data)}`, headers: { ...auth, 'content-type': 'application/octet-stream' }, payload: data });
  return response.statusCode;
}

/** Push a whole image (config, layers, manifest by tag); the manifest PUT's response. */
async function pushImage(app: App, name: string, image: ReturnType<typeof makeImage>) {
  for (const blob of [image.config, ...image.layers]) expect(await pushBlob(app, name, blob)).toBe(201);
  return app.server.inject({ method: 'PUT', url: `/v2/${name}/manifests/v1`, headers: { ...auth, 'content-type': MANIFEST }, payload: image.manifest });
}

describe('pushes and built names', () => {
  it('refuses pushes to every spelling of a package list, and to names with shell or options, with 403 DENIED saying where to push', async () => {
    const app = await makeApp();
    for (const name of ['shell/tool', 'tool/shell', 'tool', 'tool/tool', 'extra/tool', 'zstd/myapp', 'myteam/arm64', 'myteam/shell']) {
      const response = await app.server.inject({ method: 'POST', url: `/v2/${name}/blobs/uploads/`, headers: auth });
      expect(response.statusCode, name).toBe(403);
      const error = (response.json() as { errors: Array<{ code: string; message: string }> }).errors[0];
      expect(error?.code).toBe('DENIED');
      expect(error?.message).toContain('push to a name that is not a list of packages');
      const manifest = await app.server.inject({ method: 'PUT', url: `/v2/${name}/manifests/v1`, headers: { ...auth, 'content-type': MANIFEST }, payload: makeImage('x').manifest });
      expect(manifest.statusCode, name).toBe(403);
    }
  });

  it('keeps serving the built image under a name someone pushed to before the rule', async () => {
    const app = await makeApp();
    const built = await app.server.inject({ method: 'GET', url: '/v2/tool/shell/manifests/latest' });
    expect(built.statusCode).toBe(200);
    // What the hijack left: a pushed blob recorded under `shell/tool`.
    const stray = Buffer.from('stray blob');
    const writer = await blobs.writer();
    writer.stream.end(stray);
    await writer.commit();
    await new PushedRepositories(metadata, blobs).linkBlob('shell/tool', digestOf(stray));
    for (const name of ['shell/tool', 'tool/shell']) {
      const response = await app.server.inject({ method: 'GET', url: `/v2/${name}/manifests/latest` });
      expect(response.statusCode, name).toBe(200);
      expect(response.headers['docker-content-digest']).toBe(built.headers['docker-content-digest']);
      const byDigest = await app.server.inject({ method: 'HEAD', url: `/v2/${name}/manifests/${built.headers['docker-content-digest'] as string}` });
      expect(byDigest.statusCode, name).toBe(200);
      const tags = await app.server.inject({ method: 'GET', url: `/v2/${name}/tags/list` });
      expect(tags.json()).toMatchObject({ tags: ['latest'] });
    }
  });

  it('lets users push ordinary names such as myteam/myapp, and serves them back', async () => {
    const app = await makeApp();
    const image = makeImage('myapp');
    expect((await pushImage(app, 'myteam/myapp', image)).statusCode).toBe(201);
    const got = await app.server.inject({ method: 'GET', url: '/v2/myteam/myapp/manifests/v1' });
    expect(got.statusCode).toBe(200);
    expect(got.rawPayload.equals(image.manifest)).toBe(true);
  });

  it('allows any name under a configured namespace, and builds no name containing it', async () => {
    const app = await makeApp({ push: { namespaces: ['team'] } });
    expect((await pushImage(app, 'team/tool', makeImage('team-tool'))).statusCode).toBe(201);
    expect((await app.server.inject({ method: 'GET', url: '/v2/team/tool/manifests/v1' })).statusCode).toBe(200);
    const otherSpelling = await app.server.inject({ method: 'GET', url: '/v2/tool/team/manifests/latest' });
    expect(otherSpelling.statusCode).toBe(404);
    const refused = await app.server.inject({ method: 'POST', url: '/v2/tool/team/blobs/uploads/', headers: auth });
    expect(refused.statusCode).toBe(403);
    expect((refused.json() as { errors: Array<{ message: string }> }).errors[0]?.message).toContain('push under team/');
  });
});

describe('blobs a manifest may reference', () => {
  it('links only blobs already in the repository, answering the same for a blob pushed elsewhere and an unknown one', async () => {
    const app = await makeApp();
    const image = makeImage('shared');
    expect((await pushImage(app, 'team/a', image)).statusCode).toBe(201);
    const foreign = await app.server.inject({ method: 'PUT', url: '/v2/team/d/manifests/v1', headers: { ...auth, 'content-type': MANIFEST }, payload: image.manifest });
    const unknown = await app.server.inject({ method: 'PUT', url: '/v2/team/e/manifests/v1', headers: { ...auth, 'content-type': MANIFEST }, payload: makeImage('never pushed').manifest });
    expect(foreign.statusCode).toBe(unknown.statusCode);
    expect(foreign.json().errors[0].code).toBe('MANIFEST_BLOB_UNKNOWN');
    expect(unknown.json().errors[0].code).toBe('MANIFEST_BLOB_UNKNOWN');
    expect(Object.keys(foreign.json().errors[0]).sort()).toEqual(Object.keys(unknown.json().errors[0]).sort());
    for (const blob of [image.config, ...image.layers]) {
      // A pusher's check (an anonymous blob HEAD meets the Bearer challenge).
      expect((await app.server.inject({ method: 'HEAD', url: `/v2/team/d/blobs/${digestOf(blob)}`, headers: auth })).statusCode).toBe(404);
      expect((await app.server.inject({ method: 'HEAD', url: `/v2/team/a/blobs/${digestOf(blob)}`, headers: auth })).statusCode).toBe(200);
    }
    // Mounting is the way to share: then the same manifest is accepted.
    for (const blob of [image.config, ...image.layers]) {
      const mounted = await app.server.inject({ method: 'POST', url: `/v2/team/d/blobs/uploads/?mount=${digestOf(blob)}&from=team/a`, headers: auth });
      expect(mounted.statusCode).toBe(201);
    }
    const again = await app.server.inject({ method: 'PUT', url: '/v2/team/d/manifests/v1', headers: { ...auth, 'content-type': MANIFEST }, payload: image.manifest });
    expect(again.statusCode).toBe(201);
  });
});
