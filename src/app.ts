import { resolve } from 'node:path';
import Fastify, { type FastifyBaseLogger, type FastifyInstance } from 'fastify';
import type { Config } from './config/schema.js';
import type { Logger } from './log/logger.js';
import { createLogger } from './log/logger.js';
import type { BlobStore, LockManager, MetadataStore } from './storage/types.js';
import type { PackageSource } from './sources/types.js';
import type { Layerer } from './layering/types.js';
import { FsBlobStore } from './storage/fs-blob-store.js';
import { FsMetadataStore } from './storage/fs-metadata-store.js';
import { MemoryLockManager } from './storage/memory-lock-manager.js';
import { NixPackageSource } from './sources/nix/nix-package-source.js';
import { PackageSetFingerprint } from './sources/nix/package-set-fingerprint.js';
import { prepareNixEnvironment } from './sources/nix/nix-environment.js';
import { runProcess } from './sources/nix/run-process.js';
import { LocalStoreReader } from './sources/local-store-reader.js';
import { StowageLayerer, closurePopularity } from './layering/index.js';
import { ImageBuilder } from './builder/image-builder.js';
import { BuildQueue } from './builder/build-queue.js';
import { BuildTracker } from './builder/build-tracker.js';
import { registerRegistry } from './registry/registry-plugin.js';

/** Replaceable parts, for tests; everything missing is built from the config. */
export interface AppDeps {
  readonly logger?: Logger;
  readonly source?: PackageSource;
  readonly blobs?: BlobStore;
  readonly metadata?: MetadataStore;
  readonly locks?: LockManager;
  readonly layerer?: Layerer;
  /** The process environment, passed to Nix (PATH, NIX_PATH, ...). */
  readonly env?: Readonly<Record<string, string | undefined>>;
  /** Observes every Nix command run (tests count them). */
  readonly onNixCommand?: (command: string) => void;
}

export interface App {
  readonly server: FastifyInstance;
  readonly builder: ImageBuilder;
  readonly logger: Logger;
}

/**
 * The composition root: the only place that picks concrete implementations. Everything below it
 * receives interfaces.
 */
export async function buildApp(config: Config, deps: AppDeps = {}): Promise<App> {
  const logger = deps.logger ?? createLogger(config.logLevel);
  const dataDir = resolve(config.dataDir);

  let blobs = deps.blobs;
  if (!blobs) {
    const fsBlobs = new FsBlobStore(resolve(dataDir, 'storage'));
    await fsBlobs.init();
    const removed = await fsBlobs.removeStaleStaging(60 * 60 * 1000);
    if (removed > 0) logger.info({ removed }, 'removed stale staging files');
    blobs = fsBlobs;
  }
  const metadata = deps.metadata ?? new FsMetadataStore(resolve(dataDir, 'metadata'));
  const locks = deps.locks ?? new MemoryLockManager();
  const source = deps.source ?? (await createNixSource(config, dataDir, deps));

  const builder = new ImageBuilder(
    {
      source,
      layerer: deps.layerer ?? new StowageLayerer(),
      popularity: closurePopularity,
      blobs,
      metadata,
      locks,
      lockTtlMs: config.builds.timeoutMs + 60_000,
      queue: new BuildQueue(config.builds.concurrency, config.builds.maxQueued),
      tracker: new BuildTracker(),
      logger: logger.child({ module: 'builder' }),
    },
    {
      maxLayers: config.image.maxLayers,
      levels: { gzip: config.image.gzipLevel, zstd: config.image.zstdLevel },
      timeoutMs: config.builds.timeoutMs,
    },
  );

  // Typed as fastify's logger so the instance gets fastify's default generics.
  const registryLogger: FastifyBaseLogger = logger.child({ module: 'registry' });
  const server = Fastify({
    loggerInstance: registryLogger,
    exposeHeadRoutes: false,
    // Package names are the whole path; allow long ones through to our own validation.
    routerOptions: { maxParamLength: 16 * 1024 },
  });
  registerRegistry(server, {
    builder,
    blobs,
    metadata,
    requestWaitMs: config.builds.requestWaitMs,
    imageNames: {
      maxPackages: config.image.maxPackages,
      shellPackages: config.source.shellPackages,
      systems: config.source.systems,
      compression: config.image.compression,
    },
  });
  return { server, builder, logger };
}

async function createNixSource(config: Config, dataDir: string, deps: AppDeps): Promise<PackageSource> {
  const env = await prepareNixEnvironment(
    {
      dir: resolve(dataDir, 'nix'),
      useSystemConfig: config.source.useSystemConfig,
      substituters: config.source.substituters,
      trustedPublicKeys: config.source.trustedPublicKeys,
    },
    deps.env ?? {},
  );
  const packageSet = /^<.+>$/.test(config.source.packageSet) ? config.source.packageSet : resolve(config.source.packageSet);
  const nixBin = (command: string): string => (config.source.nixBinDir ? resolve(config.source.nixBinDir, command) : command);
  const fingerprint = new PackageSetFingerprint({
    packageSet,
    ttlMs: 10_000,
    resolveLookup: async (name, signal) => {
      deps.onNixCommand?.('nix-instantiate');
      const result = await runProcess(nixBin('nix-instantiate'), ['--find-file', name], {
        env,
        timeoutMs: 30_000,
        signal: signal ?? new AbortController().signal,
      });
      if (result.exitCode !== 0) throw new Error(`cannot find <${name}> on NIX_PATH: ${result.stderrTail.trim()}`);
      return result.stdout.trim();
    },
  });
  return new NixPackageSource({
    packageSet,
    nixBinDir: config.source.nixBinDir,
    env,
    timeoutMs: config.source.timeoutMs,
    reader: new LocalStoreReader(),
    fingerprint,
    ...(deps.onNixCommand ? { onNixCommand: deps.onNixCommand } : {}),
  });
}
