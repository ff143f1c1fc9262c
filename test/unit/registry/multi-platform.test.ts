import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { beforeEach, describe, expect, it } from 'vitest';
import { buildApp, type App } from '../../../src/app.js';
import { parseConfig } from '../../../src/config/load.js';
import type { ConfigInput } from '../../../src/config/schema.js';
import { MemoryBlobStore } from '../../../src/storage/memory-blob-store.js';
import { MemoryMetadataStore } from '../../../src/storage/memory-metadata-store.js';
import { FakePackageSource } from '../../support/fake-source.js';

const OCI_INDEX = 'application/vnd.oci.image.index.v1+json';
const DOCKER_LIST = 'application/vnd.docker.distribution.manifest.list.v2+json';
const OCI_MANIFEST = 'application/vnd.oci.image.manifest.v1+json';
const DOCKER_MANIFEST = 'application/vnd.docker.distribution.manifest.v2+json';

let source: FakePackageSource;

async function makeApp(config: ConfigInput = {}): Promise<App> {
  return buildApp(
    parseConfig({
      dataDir: await mkdtemp(join(tmpdir(), 'stowage-unit-')),
      ...config,
      source: { kind: 'nix', shellPackages: ['minishell'], systems: ['x86_64-linux', 'aarch64-linux'], ...config.source },
    }),
    { source, blobs: new MemoryBlobStore(), metadata: new MemoryMetadataStore(), logger: pino({ level: 'silent' }) },
  );
}

interface Index {
  mediaType: string;
  manifests: Array<{ digest: string; mediaType: string; platform: { architecture: string; os: string; variant?: string } }>;
}

beforeEach(async () => {
  source = await FakePackageSource.create();
});

describe('multi-platform images', () => {
  it('serves an OCI index over every configured system, each entry a real manifest', async () => {
    const { server } = await makeApp();
    const response = await server.inject({ method: 'GET', url: '/v2/shell/tool/manifests/latest' });
    expect(response.headers['content-type']).toBe(OCI_INDEX);
    const index = response.json() as Index;
    expect(index.manifests.map((entry) => entry.platform)).toEqual([
      { architecture: 'amd64', os: 'linux' },
      { architecture: 'arm64', os: 'linux', variant: 'v8' },
    ]);
    for (const entry of index.manifests) {
      const manifest = await server.inject({ method: 'GET', url: `/v2/shell/tool/manifests/${entry.digest}` });
      expect(manifest.statusCode).toBe(200);
      expect(manifest.headers['content-type']).toBe(OCI_MANIFEST);
      const config = (manifest.json() as { config: { digest: string } }).config;
      const blob = await server.inject({ method: 'GET', url: `/v2/shell/tool/blobs/${config.digest}` });
      expect((blob.json() as { architecture: string }).architecture).toBe(entry.platform.architecture);
    }
    const byDigest = await server.inject({ method: 'GET', url: `/v2/shell/tool/manifests/${String(response.headers['docker-content-digest'])}` });
    expect(byDigest.headers['content-type']).toBe(OCI_INDEX);
  });

  it('serves a Docker manifest list to Docker clients, and a plain manifest to clients taking no index', async () => {
    const { server } = await makeApp();
    const list = await server.inject({ method: 'GET', url: '/v2/tool/manifests/latest', headers: { accept: `${DOCKER_MANIFEST}, ${DOCKER_LIST}` } });
    expect(list.headers['content-type']).toBe(DOCKER_LIST);
    expect((list.json() as Index).manifests.every((entry) => entry.mediaType === DOCKER_MANIFEST)).toBe(true);
    const plain = await server.inject({ method: 'GET', url: '/v2/tool/manifests/latest', headers: { accept: OCI_MANIFEST } });
    expect(plain.headers['content-type']).toBe(OCI_MANIFEST);
  });

  it('serves one platform for an arm64/ name', async () => {
    const { server } = await makeApp();
    const response = await server.inject({ method: 'GET', url: '/v2/arm64/tool/manifests/latest' });
    expect(response.headers['content-type']).toBe(OCI_MANIFEST);
    const config = (response.json() as { config: { digest: string } }).config;
    const blob = await server.inject({ method: 'GET', url: `/v2/arm64/tool/blobs/${config.digest}` });
    expect(blob.json()).toMatchObject({ architecture: 'arm64', variant: 'v8', os: 'linux' });
  });

  it('leaves out systems that lack a package', async () => {
    source.missingOn = { 'aarch64-linux': ['extra'] };
    const { server } = await makeApp();
    const index = (await server.inject({ method: 'GET', url: '/v2/extra/manifests/latest' })).json() as Index;
    expect(index.manifests.map((entry) => entry.platform.architecture)).toEqual(['amd64']);
  });

  it('answers a repeated pull without writing blobs or metadata', async () => {
    const blobs = new MemoryBlobStore();
    const metadata = new MemoryMetadataStore();
    const { server } = await buildApp(
      parseConfig({ dataDir: await mkdtemp(join(tmpdir(), 'stowage-unit-')), source: { kind: 'nix', shellPackages: ['minishell'], systems: ['x86_64-linux', 'aarch64-linux'] } }),
      { source, blobs, metadata, logger: pino({ level: 'silent' }) },
    );
    const first = await server.inject({ method: 'GET', url: '/v2/shell/tool/manifests/latest' });
    let writes = 0;
    const writer = blobs.writer.bind(blobs);
    blobs.writer = async () => ((writes += 1), writer());
    const addToSet = metadata.addToSet.bind(metadata);
    metadata.addToSet = async (key, member) => ((writes += 1), addToSet(key, member));
    const again = await server.inject({ method: 'GET', url: '/v2/shell/tool/manifests/latest' });
    expect(again.headers['docker-content-digest']).toBe(first.headers['docker-content-digest']);
    expect(writes).toBe(0);
  });

  it('serves zstd layers for a zstd/ name', async () => {
    const { server } = await makeApp({ source: { systems: ['x86_64-linux'] } });
    const manifest = (await server.inject({ method: 'GET', url: '/v2/zstd/tool/manifests/latest' })).json() as { layers: Array<{ mediaType: string }> };
    expect(manifest.layers.every((layer) => layer.mediaType === 'application/vnd.oci.image.layer.v1.tar+zstd')).toBe(true);
  });
});

describe('slow first builds', () => {
  it('answers 503 with Retry-After and progress while the build goes on, then serves it', async () => {
    const { server } = await makeApp({ source: { systems: ['x86_64-linux'] }, builds: { requestWaitMs: 100 } });
    const first = await server.inject({ method: 'GET', url: '/v2/slow/manifests/latest' });
    expect(first.statusCode).toBe(503);
    expect(first.headers['retry-after']).toBe('10');
    const error = first.json().errors[0] as { code: string; message: string; detail: { progress: string } };
    expect(error.code).toBe('UNAVAILABLE');
    expect(error.message).toContain('still being built');
    expect(error.detail.progress).toContain('resolving');

    const status = await server.inject({ method: 'GET', url: '/api/v1/builds/slow?tag=latest' });
    expect(status.json()).toMatchObject({ image: 'slow', tag: 'latest', builds: [{ system: 'x86_64-linux', phase: 'resolving' }] });

    source.release();
    let done = await server.inject({ method: 'GET', url: '/v2/slow/manifests/latest' });
    for (let i = 0; i < 50 && done.statusCode === 503; i += 1) done = await server.inject({ method: 'GET', url: '/v2/slow/manifests/latest' });
    expect(done.statusCode).toBe(200);
    expect(source.resolveCalls).toBe(1);
    const finished = await server.inject({ method: 'GET', url: '/api/v1/builds/slow' });
    expect(finished.json()).toMatchObject({ builds: [{ phase: 'done' }] });
  });

  it('answers 404 for the status of a build never started', async () => {
    const { server } = await makeApp();
    const response = await server.inject({ method: 'GET', url: '/api/v1/builds/tool' });
    expect(response.statusCode).toBe(404);
    expect(response.json().errors[0].code).toBe('NAME_UNKNOWN');
  });
});
