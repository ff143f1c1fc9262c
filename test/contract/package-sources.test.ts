import { afterAll } from 'vitest';
import { BinaryCacheStoreReader } from '../../src/sources/binary-cache/binary-cache-store-reader.js';
import { CatalogFiles } from '../../src/sources/catalog/catalog-files.js';
import { CatalogPackageSource } from '../../src/sources/catalog/catalog-package-source.js';
import { RevisionRoutingSource } from '../../src/sources/catalog/revision-routing-source.js';
import { LocalStoreReader } from '../../src/sources/local-store-reader.js';
import { LATEST_REVISION, NixPackageSource } from '../../src/sources/nix/nix-package-source.js';
import { PackageSetFingerprint } from '../../src/sources/nix/package-set-fingerprint.js';
import { PathPackageSet } from '../../src/sources/nix/package-set-revisions.js';
import { binaryCacheFor } from '../support/binary-cache-fixtures.js';
import { EXAMPLE_REVISION, makeExampleCache, nixEnv, SYSTEM, type ExampleCache } from '../support/binary-cache.js';
import { EXAMPLE_PACKAGE_SET } from '../support/registry-server.js';
import { startDebianTestSource, type DebianTestSource } from '../support/debian-test-archive.js';
import { describePackageSourceContract } from './package-source-contract.js';

/**
 * Every PackageSource on the example package set (examples/pkgs): Nix evaluating it, the
 * catalog over a binary cache that `nix copy` made of it, and the source routing by tag
 * between the two (once per route); and the Debian source over a signed loopback archive of
 * real `.deb`s (test/support/debian-test-archive.ts), as the composition root makes it.
 */
const PACKAGES = ['hello', 'libjson'];

async function nixSource(): Promise<NixPackageSource> {
  const fingerprint = new PackageSetFingerprint({
    packageSet: EXAMPLE_PACKAGE_SET,
    ttlMs: 10_000,
    resolveLookup: async (name) => {
      throw new Error(`the example set is a path, not <${name}>`);
    },
  });
  return new NixPackageSource({
    packageSets: new PathPackageSet(EXAMPLE_PACKAGE_SET, fingerprint),
    nixBinDir: '',
    env: await nixEnv(),
    timeoutMs: 600_000,
    reader: new LocalStoreReader(),
  });
}

let cache: Promise<ExampleCache> | undefined;
afterAll(async () => {
  await (await cache)?.cleanup();
});

async function catalogSource(): Promise<CatalogPackageSource> {
  const made = await (cache ??= makeExampleCache({ compression: 'zstd' }));
  const binaryCache = binaryCacheFor(made.url, { keys: [made.publicKey] });
  const catalogs = new CatalogFiles({ paths: [made.catalogFile], ttlMs: 60_000 });
  const reader = new BinaryCacheStoreReader(binaryCache, { allowExternalSymlinks: false, useListings: true });
  return new CatalogPackageSource({ catalog: () => catalogs.current(), cache: binaryCache, reader });
}

describePackageSourceContract('nix', async () => ({
  source: await nixSource(),
  request: { packages: PACKAGES, revision: LATEST_REVISION, system: SYSTEM },
  unknownRevision: '1999-01',
}));

describePackageSourceContract('catalog (binary cache by nix copy)', async () => ({
  source: await catalogSource(),
  request: { packages: PACKAGES, revision: EXAMPLE_REVISION, system: SYSTEM },
  unknownRevision: '1999-01',
}));

describePackageSourceContract('revision routing (a catalog tag)', async () => ({
  source: new RevisionRoutingSource(await catalogSource(), await nixSource()),
  request: { packages: PACKAGES, revision: EXAMPLE_REVISION, system: SYSTEM },
  unknownRevision: '1999-01',
}));

describePackageSourceContract('revision routing (the fallback’s tag)', async () => ({
  source: new RevisionRoutingSource(await catalogSource(), await nixSource()),
  request: { packages: PACKAGES, revision: LATEST_REVISION, system: SYSTEM },
  unknownRevision: '1999-01',
}));

let debian: Promise<DebianTestSource> | undefined;
afterAll(async () => {
  await (await debian)?.close();
});

describePackageSourceContract('debian (a signed loopback archive)', async () => ({
  source: (await (debian ??= startDebianTestSource())).source,
  request: { packages: ['greeter', 'other-tool'], revision: 'stable', system: SYSTEM },
  unknownRevision: '1999-01',
}));
