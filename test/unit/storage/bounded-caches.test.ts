import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { FsMetadataStore } from '../../../src/storage/fs-metadata-store.js';
import { MemoryMetadataStore } from '../../../src/storage/memory-metadata-store.js';
import { CachingMetadataStore } from '../../../src/storage/caching-metadata-store.js';
import { MemoryBlobStore } from '../../../src/storage/memory-blob-store.js';
import { BuiltImages } from '../../../src/builder/built-images.js';
import { PushedRepositories } from '../../../src/repository/pushed-repositories.js';
import { PushNamespaces } from '../../../src/repository/push-namespaces.js';
import { repositoryHasBlob } from '../../../src/registry/pull-handlers.js';
import type { RegistryDeps } from '../../../src/registry/registry-deps.js';
import type { ImageNameOptions } from '../../../src/image-name/image-name.js';

/**
 * Every in-process cache stays within its bounds whatever names clients send: 200,000 distinct
 * names, each a miss (the costly kind before: misses were remembered without limit), checked
 * by the caches' own counters.
 */
const NAMES = 200_000;
const MISSING = `sha256:${'0'.repeat(64)}`;
const imageNames: ImageNameOptions = { maxPackages: 20, shellPackages: ['bash'], systems: ['x86_64-linux'], compression: 'gzip' };

async function forEachName(fn: (name: string) => Promise<unknown>): Promise<void> {
  for (let start = 0; start < NAMES; start += 2_000) {
    await Promise.all(Array.from({ length: 2_000 }, (_unused, i) => fn(`team${start + i}/app${start + i}`)));
  }
}

// Seconds of work on a loaded machine; what is asserted is counts, never time.
describe('bounded caches after 200,000 distinct names', { timeout: 240_000 }, () => {
  it('a blob GET of a new name each time keeps the fs metadata caches within entries and bytes', async () => {
    const metadata = new FsMetadataStore(await mkdtemp(join(tmpdir(), 'stowage-bounded-')), { maxEntries: 50_000, maxValueBytes: 4 * 1024 * 1024, maxSetBytes: 4 * 1024 * 1024 });
    const blobs = new MemoryBlobStore();
    const deps = {
      images: new BuiltImages(metadata, imageNames),
      repositories: new PushedRepositories(metadata, blobs),
      pushPolicy: new PushNamespaces({}, { namespaces: [], imageNames }),
      blobs,
    } as Partial<RegistryDeps> as RegistryDeps;
    let found = 0;
    await forEachName(async (name) => {
      if (await repositoryHasBlob(deps, name, MISSING)) found += 1;
    });
    expect(found).toBe(0);
    const stats = metadata.cacheStats();
    for (const cache of [stats.values, stats.sets]) {
      expect(cache.entries).toBeLessThanOrEqual(50_000);
      expect(cache.bytes).toBeLessThanOrEqual(4 * 1024 * 1024);
      expect(cache.evictions).toBeGreaterThanOrEqual(NAMES - 50_000);
    }
    // Still a cache: what was just asked is answered from memory.
    expect(stats.values.entries).toBeGreaterThan(0);
  });

  it('the Redis outage cache keeps within its bounds', async () => {
    const cache = new CachingMetadataStore(new MemoryMetadataStore(), { maxValues: 10_000, maxSets: 10_000, maxBytes: 2 * 1024 * 1024 });
    await forEachName(async (name) => {
      await cache.get(`repo:${name}`);
      await cache.members(`tags:${name}`);
      await cache.addToSet(`tags:${name}`, 'latest');
    });
    const counters = cache.cacheStats();
    expect(counters.values.entries).toBeLessThanOrEqual(10_000);
    expect(counters.sets.entries).toBeLessThanOrEqual(10_000);
    expect(counters.values.bytes).toBeLessThanOrEqual(2 * 1024 * 1024);
    expect(counters.sets.bytes).toBeLessThanOrEqual(2 * 1024 * 1024);
    expect(counters.values.evictions).toBeGreaterThanOrEqual(NAMES - 10_000);
  });

  it('push decisions are remembered for a bounded number of names, and the source asked once per name', async () => {
    let listings = 0;
    const policy = new PushNamespaces(
      { listPackages: async () => ((listings += 1), [{ name: 'hello' }]) },
      { namespaces: [], imageNames, maxEntries: 5_000 },
    );
    let allowed = 0;
    await forEachName(async (name) => {
      if ((await policy.decide(name)).allowed) allowed += 1;
    });
    expect(allowed).toBe(NAMES);
    expect(policy.cachedAnswers).toBeLessThanOrEqual(5_000);
    expect(listings).toBe(NAMES);
    await policy.decide(`team${NAMES - 1}/app${NAMES - 1}`);
    expect(listings).toBe(NAMES);
  });
});
