import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BinaryCacheStoreReader } from '../../../../src/sources/binary-cache/binary-cache-store-reader.js';
import { Catalog } from '../../../../src/sources/catalog/catalog.js';
import { CatalogPackageSource } from '../../../../src/sources/catalog/catalog-package-source.js';
import { RevisionRoutingSource } from '../../../../src/sources/catalog/revision-routing-source.js';
import { PackageNotFoundError, RevisionNotFoundError } from '../../../../src/sources/errors.js';
import type { ImageRequest } from '../../../../src/sources/types.js';
import { binaryCacheFor, dir, fakeStorePath, file, FixtureCache, narOf } from '../../../support/binary-cache-fixtures.js';
import { FakePackageSource } from '../../../support/fake-source.js';

const SH = fakeStorePath('sh', 'busybox-1.0');
const LIB = fakeStorePath('lib', 'libgreet-1.0');
const HELLO = fakeStorePath('hello', 'hello-2.12');
const GONE = fakeStorePath('gone', 'gone-1.0');
const system = 'x86_64-linux';
const request = (packages: string[], revision = 'r1'): ImageRequest => ({ packages, revision, system });

describe('CatalogPackageSource', () => {
  let cache: FixtureCache;
  let source: CatalogPackageSource;

  beforeAll(async () => {
    cache = await FixtureCache.create();
    await cache.add({ storePath: SH, nar: narOf(dir({ bin: dir({ sh: file('sh', true) }) })), references: [SH] });
    await cache.add({ storePath: LIB, nar: narOf(file('lib')), references: [SH] });
    await cache.add({ storePath: HELLO, nar: narOf(dir({ bin: dir({ hello: file('hi', true) }) })), references: [LIB, SH] });
    const catalog = new Catalog([
      {
        file: 'c.json',
        document: {
          version: 1,
          aliases: { stable: 'r1' },
          revisions: {
            r1: { systems: { [system]: { busybox: { outputs: { out: SH } }, hello: { outputs: { out: HELLO } }, gone: { outputs: { out: GONE } } } } },
            r0: { systems: { [system]: { busybox: { outputs: { out: SH } } } } },
          },
        },
      },
    ]);
    const binaryCache = binaryCacheFor(cache.url, { keys: [cache.key.publicKey] });
    source = new CatalogPackageSource({ catalog: async () => catalog, cache: binaryCache, reader: new BinaryCacheStoreReader(binaryCache, { allowExternalSymlinks: false, useListings: true }) });
  });
  afterAll(() => cache.cleanup());

  it('resolves names to the closure from narinfo references, with the reader to use', async () => {
    const graph = await source.resolve(request(['busybox', 'hello']), { signal: AbortSignal.timeout(5000) });
    expect(graph.roots).toEqual([SH, HELLO]);
    expect(graph.packageRoots).toEqual({ busybox: [SH], hello: [HELLO] });
    expect(graph.paths.map((info) => info.path)).toEqual([SH, LIB, HELLO].sort());
    expect(graph.paths.find((info) => info.path === HELLO)).toMatchObject({ references: [LIB, SH].sort(), narSize: expect.any(Number) });
    expect(graph.reader).toBe(source.reader);
  });

  it('names every unknown package, and every known tag for an unknown revision', async () => {
    const error = await source.resolve(request(['nope', 'hello', 'alsonope']), { signal: AbortSignal.timeout(5000) }).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(PackageNotFoundError);
    expect((error as PackageNotFoundError).packages).toEqual(['nope', 'alsonope']);
    const revision = await source.resolve(request(['hello'], 'r9'), { signal: AbortSignal.timeout(5000) }).catch((caught: unknown) => caught);
    expect(revision).toBeInstanceOf(RevisionNotFoundError);
    expect((revision as RevisionNotFoundError).known).toEqual(['r0', 'r1', 'stable']);
    await expect(source.cacheKey(request(['hello'], 'r9'))).rejects.toThrow(RevisionNotFoundError);
    await expect(source.resolve({ ...request(['hello']), system: 'aarch64-linux' }, { signal: AbortSignal.timeout(5000) })).rejects.toThrow(RevisionNotFoundError);
  });

  it('fails clearly when the catalog names a path the cache lacks', async () => {
    await expect(source.resolve(request(['gone']), { signal: AbortSignal.timeout(5000) })).rejects.toThrow(/has no .*gone-1.0/);
  });

  it('has stable cache keys per revision, shared by aliases', async () => {
    const key = await source.cacheKey(request(['hello']));
    expect(key).toMatch(/^catalog:r1:/);
    expect(await source.cacheKey(request(['busybox'], 'stable'))).toBe(key);
    expect(await source.cacheKey(request(['busybox'], 'r0'))).not.toBe(key);
    expect(await source.revisions()).toEqual(['stable', 'r1', 'r0']);
  });

  it('lists packages and closure sizes', async () => {
    expect((await source.listPackages({ revision: 'r1', system })).map((pkg) => pkg.name)).toEqual(['busybox', 'gone', 'hello']);
    const sizes = await source.closureSizes({ revision: 'r1', system }, ['hello', 'gone', 'nope'], { signal: AbortSignal.timeout(5000) });
    expect(sizes.hello).toBeGreaterThan(0);
    expect(sizes.gone).toBeNull();
    expect(sizes.nope).toBeNull();
  });

  it('routes catalog tags to the catalog and the rest to the fallback', async () => {
    const fallback = await FakePackageSource.create();
    const routing = new RevisionRoutingSource(source, fallback);
    expect(routing.name).toBe('catalog+fake');
    const fromCatalog = await routing.resolve(request(['hello']), { signal: AbortSignal.timeout(5000) });
    expect(fromCatalog.reader).toBe(source.reader);
    expect(await routing.cacheKey(request(['hello']))).toMatch(/^catalog:/);
    const fromFallback = await routing.resolve(request(['tool'], 'latest'), { signal: AbortSignal.timeout(5000) });
    expect(fromFallback.reader).toBe(fallback.reader);
    expect(await routing.cacheKey(request(['tool'], 'latest'))).toMatch(/^fake:latest/);
    expect(await routing.revisions()).toEqual(['stable', 'r1', 'r0']);
  });
});
