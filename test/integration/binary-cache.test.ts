import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { writeStorePathLayer, type LayerCompression } from '../../src/builder/layer/index.js';
import { BinaryCacheStoreReader } from '../../src/sources/binary-cache/binary-cache-store-reader.js';
import { LocalStoreReader } from '../../src/sources/local-store-reader.js';
import type { StoreReader } from '../../src/sources/types.js';
import { MemoryBlobStore } from '../../src/storage/memory-blob-store.js';
import { binaryCacheFor } from '../support/binary-cache-fixtures.js';
import { startCacheServer, type CacheServer } from '../support/binary-cache-server.js';
import { closureOf, makeExampleCache, type ExampleCache } from '../support/binary-cache.js';

/**
 * Real caches made by `nix copy` from the example set, read without Nix from disk and over
 * HTTP: every layer must be byte-identical to the one the Nix source builds from /nix/store,
 * whatever the NAR compression, including `awkward` whose hard link NARs cannot carry.
 */
describe('layers from a Nix binary cache', () => {
  const caches = new Map<string, ExampleCache>();
  const servers = new Map<string, CacheServer>();
  let closure: string[];
  const local = new LocalStoreReader();
  const localDigests = new Map<string, string>();

  beforeAll(async () => {
    for (const compression of ['zstd', 'xz', 'bzip2', 'none'] as const) {
      caches.set(compression, await makeExampleCache({ compression, listings: compression === 'zstd' }));
    }
    for (const compression of ['zstd', 'xz']) servers.set(compression, await startCacheServer((caches.get(compression) as ExampleCache).dir));
    const catalog = (caches.get('zstd') as ExampleCache).catalog;
    closure = await closureOf([...new Set(Object.values(catalog.packages).flatMap((pkg) => Object.values(pkg.outputs)))]);
  }, 600_000);

  afterAll(async () => {
    for (const server of servers.values()) await server.close();
    for (const cache of caches.values()) await cache.cleanup();
  });

  const readerFor = (compression: string, via: 'file' | 'http', useListings = true): StoreReader => {
    const cache = caches.get(compression) as ExampleCache;
    const url = via === 'file' ? cache.url : (servers.get(compression) as CacheServer).url;
    return new BinaryCacheStoreReader(binaryCacheFor(url, { keys: [cache.publicKey] }), { allowExternalSymlinks: false, useListings });
  };

  async function digest(reader: StoreReader, storePaths: readonly string[], compression: LayerCompression = 'gzip'): Promise<string> {
    return (await writeStorePathLayer({ reader, storePaths, compression, store: new MemoryBlobStore() })).digest;
  }

  async function localDigest(storePaths: readonly string[], compression: LayerCompression = 'gzip'): Promise<string> {
    const key = `${compression}:${storePaths.join(' ')}`;
    if (!localDigests.has(key)) localDigests.set(key, await digest(local, storePaths, compression));
    return localDigests.get(key) as string;
  }

  it('holds the closure the tests expect, awkward and its hard link included', () => {
    expect(closure.some((path) => path.endsWith('-awkward-1.0.0'))).toBe(true);
    expect(closure.some((path) => path.endsWith('-bigdata-1.0.0'))).toBe(true);
    expect(closure.length).toBeGreaterThanOrEqual(13);
  });

  it('gives the local store digest for every store path, one layer each (zstd NARs from disk)', async () => {
    const reader = readerFor('zstd', 'file');
    for (const storePath of closure) {
      expect(await digest(reader, [storePath]), storePath).toBe(await localDigest([storePath]));
    }
  }, 120_000);

  it.each([
    ['zstd', 'file'],
    ['zstd', 'http'],
    ['xz', 'file'],
    ['xz', 'http'],
    ['bzip2', 'file'],
    ['none', 'file'],
  ] as const)('gives the local store digest for the whole closure in one layer (%s NARs over %s)', async (compression, via) => {
    expect(await digest(readerFor(compression, via), closure)).toBe(await localDigest(closure));
  }, 120_000);

  it('gives identical zstd layers too', async () => {
    const awkward = closure.filter((path) => /-(awkward|busybox)-/.test(path));
    expect(await digest(readerFor('zstd', 'http'), awkward, 'zstd')).toBe(await localDigest(awkward, 'zstd'));
  }, 60_000);

  it('lists /bin of every store path as the local store does, from .ls files and from NARs', async () => {
    const withListings = readerFor('zstd', 'http', true);
    const walking = readerFor('xz', 'file', false);
    for (const storePath of closure) {
      const expected = await local.list(`${storePath}/bin`);
      expect(await withListings.list(`${storePath}/bin`), storePath).toEqual(expected);
      expect(await walking.list(`${storePath}/bin`), storePath).toEqual(expected);
    }
    const zstdServer = servers.get('zstd') as CacheServer;
    expect(zstdServer.requests.some((path) => path.endsWith('.ls'))).toBe(true);
  }, 120_000);
});
