import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { describe, expect, it } from 'vitest';
import { buildApp, type App } from '../../../src/app.js';
import { parseConfig } from '../../../src/config/load.js';
import type { ConfigInput } from '../../../src/config/schema.js';
import type { ClosureGraph, ImageRequest, PackageSetRevision, PackageSource, PackageSummary, ResolveOptions } from '../../../src/sources/types.js';
import type { BlobInfo } from '../../../src/storage/types.js';
import { MemoryBlobStore } from '../../../src/storage/memory-blob-store.js';
import { MemoryMetadataStore } from '../../../src/storage/memory-metadata-store.js';
import { FakePackageSource } from '../../support/fake-source.js';
import { CountingMetadataStore } from '../../support/counting-metadata-store.js';
import { TEST_PASSWORD, TEST_USER, writeHtpasswd } from '../../support/htpasswd.js';

/**
 * Pulls by tag within the TTL of a pull that checked everything (VerifiedPulls, 1 s by
 * default): what they ask of the stores (nothing), and what must still hold: the tag moves with
 * the package set, lost metadata is healed, access control applies. Time is an injected clock.
 */
const TTL_MS = 1_000;
const OCI = { accept: 'application/vnd.oci.image.manifest.v1+json' };

/** Counts the blob store's stats: each one is a wait for the thread pool on disk. */
class StatCountingBlobs extends MemoryBlobStore {
  stats = 0;
  override stat(digest: string): Promise<BlobInfo | null> {
    this.stats += 1;
    return super.stat(digest);
  }
}

/** A package set that moves: at generation 2 the same name resolves to one more package. */
class MovingSource implements PackageSource {
  readonly name = 'fake';
  generation = 1;
  cacheKeyCalls = 0;
  constructor(private readonly inner: FakePackageSource) {}
  get reader(): FakePackageSource['reader'] {
    return this.inner.reader;
  }
  async cacheKey(): Promise<string> {
    this.cacheKeyCalls += 1;
    return `moving:${this.generation}`;
  }
  listPackages(revision: PackageSetRevision, options: ResolveOptions): Promise<PackageSummary[]> {
    return this.inner.listPackages(revision);
  }
  resolve(request: ImageRequest, options: ResolveOptions): Promise<ClosureGraph> {
    return this.inner.resolve(this.generation === 1 ? request : { ...request, packages: [...request.packages, 'extra'] }, options);
  }
}

interface Harness {
  app: App;
  metadata: CountingMetadataStore;
  inner: MemoryMetadataStore;
  blobs: StatCountingBlobs;
  advance(ms: number): void;
}

async function harness(options: { source?: PackageSource; config?: Partial<ConfigInput> } = {}): Promise<Harness> {
  let clock = 5_000_000;
  const inner = new MemoryMetadataStore();
  const metadata = new CountingMetadataStore(inner);
  const blobs = new StatCountingBlobs();
  const config = parseConfig({ dataDir: await mkdtemp(join(tmpdir(), 'stowage-unit-')), source: { kind: 'nix', shellPackages: ['minishell'], systems: ['x86_64-linux'] }, ...options.config });
  const app = await buildApp(config, { source: options.source ?? (await FakePackageSource.create()), blobs, metadata, logger: pino({ level: 'silent' }), now: () => clock });
  return { app, metadata, inner, blobs, advance: (ms) => void (clock += ms) };
}

const get = (app: App, url: string, headers: Record<string, string> = OCI) => app.server.inject({ method: 'GET', url, headers });

describe('pulls by tag within the TTL of a verified pull', () => {
  it('ask no store: no metadata call, no stat; the first pull after the TTL checks again', async () => {
    const { app, metadata, blobs, advance } = await harness();
    const first = await get(app, '/v2/shell/tool/manifests/latest');
    expect(first.statusCode).toBe(200);
    metadata.reset();
    blobs.stats = 0;
    advance(TTL_MS - 1);
    for (let i = 0; i < 3; i++) {
      const warm = await get(app, '/v2/shell/tool/manifests/latest');
      expect(warm.statusCode).toBe(200);
      expect(warm.body).toBe(first.body);
      expect(warm.headers['docker-content-digest']).toBe(first.headers['docker-content-digest']);
    }
    expect(metadata.calls).toEqual([]);
    expect(blobs.stats).toBe(0);

    advance(1);
    const checked = await get(app, '/v2/shell/tool/manifests/latest');
    expect(checked.body).toBe(first.body);
    expect(metadata.calls.map((call) => call.split(' ')[0])).toEqual(['get', 'areMembers']);
    expect(metadata.roundTrips).toBe(2);
    // The manifests and the config, side by side (one wait for the thread pool, not three).
    expect(blobs.stats).toBe(3);
    metadata.reset();
    expect((await get(app, '/v2/shell/tool/manifests/latest')).statusCode).toBe(200);
    expect(metadata.calls).toEqual([]); // verified again by the checking pull
  });

  it('follow the tag when the package set moves, TTL or not', async () => {
    const source = new MovingSource(await FakePackageSource.create());
    const { app } = await harness({ source });
    const before = await get(app, '/v2/tool/manifests/latest');
    expect(before.statusCode).toBe(200);
    // Nothing was verified yet: only the checking way asked the source (names served from
    // pushes, never verified, cost the source nothing either).
    expect(source.cacheKeyCalls).toBe(1);
    expect((await get(app, '/v2/tool/manifests/latest')).headers['docker-content-digest']).toBe(before.headers['docker-content-digest']);
    expect(source.cacheKeyCalls).toBe(2); // the verified pull: is the package set where it was
    source.generation = 2;
    const after = await get(app, '/v2/tool/manifests/latest');
    expect(after.statusCode).toBe(200);
    expect(after.headers['docker-content-digest']).not.toBe(before.headers['docker-content-digest']);
    expect((JSON.parse(after.body) as { layers: unknown[] }).layers.length).toBeGreaterThan((JSON.parse(before.body) as { layers: unknown[] }).layers.length);
    // The new one is what is remembered now.
    expect((await get(app, '/v2/tool/manifests/latest')).headers['docker-content-digest']).toBe(after.headers['docker-content-digest']);
  });

  it('metadata lost within the TTL: the blobs of the manifest just served still answer, and the next pull by tag writes everything back', async () => {
    const { app, metadata, inner } = await harness();
    const first = await get(app, '/v2/shell/tool/manifests/latest');
    const manifest = JSON.parse(first.body) as { config: { digest: string }; layers: Array<{ digest: string }> };
    const keys: string[] = [];
    for await (const key of inner.keys()) keys.push(key);
    for (const key of keys) await inner.delete(key); // FLUSHALL

    expect((await get(app, '/v2/shell/tool/manifests/latest')).statusCode).toBe(200);
    for (const digest of [manifest.config.digest, ...manifest.layers.map((layer) => layer.digest)]) {
      expect((await get(app, `/v2/shell/tool/blobs/${digest}`, {})).statusCode, digest).toBe(200);
    }
    // Vouched for only under the name that verified them, and only what it verified.
    expect((await get(app, `/v2/tool/blobs/${manifest.config.digest}`, {})).statusCode).toBe(404);
    expect((await get(app, `/v2/shell/tool/blobs/sha256:${'0'.repeat(64)}`, {})).statusCode).toBe(404);

    // A read found a member lost: the next pull by tag checks at once, TTL or not, and heals.
    metadata.reset();
    expect((await get(app, '/v2/shell/tool/manifests/latest')).body).toBe(first.body);
    expect(metadata.calls.some((call) => call.startsWith('set image:'))).toBe(true);
    expect(await inner.isMember('image-blobs:shell/tool', manifest.config.digest)).toBe(true);
    expect(await inner.isMember('tags:shell/tool', 'latest')).toBe(true);
  });

  it('still meet access control: no credentials, no manifest', async () => {
    const { app } = await harness({ config: { auth: { htpasswdFile: await writeHtpasswd(), anonymousPull: false } } });
    const basic = { ...OCI, authorization: `Basic ${Buffer.from(`${TEST_USER}:${TEST_PASSWORD}`).toString('base64')}` };
    expect((await get(app, '/v2/shell/tool/manifests/latest', basic)).statusCode).toBe(200);
    expect((await get(app, '/v2/shell/tool/manifests/latest', basic)).statusCode).toBe(200);
    expect((await get(app, '/v2/shell/tool/manifests/latest')).statusCode).toBe(401);
  });
});
