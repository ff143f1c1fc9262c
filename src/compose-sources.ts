import { mkdir } from 'node:fs/promises';
import { resolve } from 'node:path';
import type { Config } from './config/schema.js';
import type { Logger } from './log/logger.js';
import type { PackageSource } from './sources/types.js';
import { BinaryCache } from './sources/binary-cache/binary-cache.js';
import { BinaryCacheStoreReader } from './sources/binary-cache/binary-cache-store-reader.js';
import { createCacheTransport } from './sources/binary-cache/create-transport.js';
import { RequestPolicy } from './sources/binary-cache/request-policy.js';
import { parsePublicKey, type TrustedKey } from './sources/binary-cache/signatures.js';
import type { CacheTransport } from './sources/binary-cache/transport.js';
import { CatalogFiles } from './sources/catalog/catalog-files.js';
import { InvalidCatalogError } from './sources/catalog/catalog.js';
import { CatalogPackageSource } from './sources/catalog/catalog-package-source.js';
import { RevisionRoutingSource } from './sources/catalog/revision-routing-source.js';
import { ConfigError } from './config/env.js';
import { createDebianSource, type DebianFetcherHooks } from './compose-debian.js';
import { PrefixRoutingSource } from './sources/prefix-routing-source.js';
import { createNixSource } from './compose-nix.js';

/**
 * The package sources of the composition root (src/app.ts), apart so the CLI and benchmarks
 * can build the same ones: Nix, the catalog with a binary cache, Debian's archive, and the
 * routing combinations of them.
 */

/** The parts of AppDeps the sources use. */
export interface SourceDeps {
  /** The process environment, passed to Nix (PATH, NIX_PATH, ...). */
  readonly env?: Readonly<Record<string, string | undefined>>;
  /** Observes every Nix command run (tests count them). */
  readonly onNixCommand?: (command: string) => void;
  /** Clock of caches that expire, such as a git package set's branches; tests inject one. */
  readonly now?: () => number;
  /** Hooks into the Debian `.deb` fetcher (tests count downloads). */
  readonly debianFetcher?: DebianFetcherHooks;
}

/** The leading image-name component that picks the Nix package set in the routed default. */
export const NIX_PREFIX = 'nix';

/** The package source `source.kind` names: Nix, the catalog with a binary cache, or both (by tag). */
export async function createSource(config: Config, dataDir: string, deps: SourceDeps, logger: Logger): Promise<PackageSource> {
  if (config.source.kind === 'nix') return createNixSource(config, dataDir, deps);
  if (config.source.kind === 'debian' || config.source.kind === 'routed') {
    const debian = await createDebianSource(config, dataDir, logger.child({ module: 'debian' }), deps.debianFetcher);
    if (config.source.kind === 'debian') return debian;
    return new PrefixRoutingSource(debian, NIX_PREFIX, await createNixSource(config, dataDir, deps));
  }
  const catalogSource = await createCatalogSource(config, dataDir, logger.child({ module: 'binary-cache' }));
  if (config.source.kind === 'catalog') return catalogSource;
  return new RevisionRoutingSource(catalogSource, await createNixSource(config, dataDir, deps));
}

/**
 * The catalog source: catalogs loaded (and checked) now, the cache contacted lazily. Nothing
 * here runs Nix or needs it installed.
 * @throws ConfigError on an invalid catalog, key or cache URL.
 */
async function createCatalogSource(config: Config, dataDir: string, log: Logger): Promise<CatalogPackageSource> {
  const settings = config.source.binaryCache;
  let transport: CacheTransport;
  let trustedKeys: TrustedKey[];
  try {
    transport = createCacheTransport(settings.url);
    trustedKeys = settings.trustedPublicKeys.map(parsePublicKey);
  } catch (error) {
    throw new ConfigError(`source.binaryCache: ${(error as Error).message}`);
  }
  const policy = new RequestPolicy({
    concurrency: settings.concurrency,
    retries: settings.retries,
    timeoutMs: settings.timeoutMs,
    backoffMs: 250,
    cache: transport.displayUrl,
    onRetry: (info) => log.warn(info, 'binary cache request failed; retrying'),
  });
  const cache = new BinaryCache({
    transport,
    policy,
    trustedKeys,
    allowUnsigned: settings.allowUnsigned,
    maxNarSize: settings.maxNarSize,
    narInfoCacheEntries: settings.narInfoCacheEntries,
    onUnsigned: (storePath, reason) => log.warn({ storePath, reason }, 'accepting a narinfo without a trusted signature'),
  });
  // One directory per process, so startup (buildApp) removes those of processes that died mid-build.
  const tmpDir = resolve(dataDir, 'tmp', `${process.pid}-build`);
  await mkdir(tmpDir, { recursive: true });
  const reader = new BinaryCacheStoreReader(cache, { allowExternalSymlinks: settings.allowExternalSymlinks, useListings: settings.useListings, tmpDir });
  const catalogs = new CatalogFiles({
    paths: config.source.catalogs.map((path) => resolve(path)),
    ttlMs: 10_000,
    onReloadError: (error) => log.error({ reason: error.message }, 'catalog reload failed; keeping the previous catalog'),
  });
  try {
    const catalog = await catalogs.current();
    log.info({ cache: cache.url, catalogs: config.source.catalogs, revisions: catalog.tags() }, 'serving catalog revisions from a binary cache');
  } catch (error) {
    if (error instanceof InvalidCatalogError) throw new ConfigError(error.message);
    throw error;
  }
  // Startup does not wait for the cache; a misconfigured one is reported early all the same.
  cache.cacheInfo(AbortSignal.timeout(settings.timeoutMs * (settings.retries + 1))).catch((error: unknown) => {
    log.warn({ cache: cache.url, reason: (error as Error).message }, 'binary cache is not usable yet');
  });
  return new CatalogPackageSource({ catalog: () => catalogs.current(), cache, reader });
}
