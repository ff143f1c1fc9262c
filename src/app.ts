import { availableParallelism } from 'node:os';
import { resolve } from 'node:path';
import type { FastifyBaseLogger, FastifyInstance, RouteOptions } from 'fastify';
import type { Config } from './config/schema.js';
import type { Logger } from './log/logger.js';
import { createLogger } from './log/logger.js';
import type { BlobStore, CacheCoherence, LockManager, MetadataStore } from './storage/types.js';
import type { PackageSource } from './sources/types.js';
import type { Layerer } from './layering/types.js';
import { CachedBlobReads } from './storage/cached-blob-reads.js';
import { leadingPid, removeOrphans } from './storage/stale-files.js';
import { assertDebianPackageName } from './sources/debian/debian-name-grammar.js';
import { SHELL_PACKAGES as DEBIAN_SHELL_PACKAGES } from './sources/debian/resolve/shell-packages.js';
import { createSource, NIX_PREFIX, type SourceDeps } from './compose-sources.js';
import { createLayerer, createLayeringData } from './compose-layering.js';
import { ImageBuilder } from './builder/image-builder.js';
import { DeflateWorkers } from './builder/layer/index.js';
import { BuiltImages } from './builder/built-images.js';
import { BuildQueue } from './builder/build-queue.js';
import { BuildTracker } from './builder/build-tracker.js';
import { registerRegistry } from './registry/registry-plugin.js';
import type { ImageNameOptions } from './image-name/image-name.js';
import { Registry as MetricsRegistry } from 'prom-client';
import { buildObserver, createMetrics, observeBuilds, type StowageMetrics } from './metrics/metrics.js';
import { registerMetrics } from './metrics/http-metrics.js';
import { registerWeb } from './web/web-plugin.js';
import { findPublicDir } from './web/public-dir.js';
import { PushedRepositories } from './repository/pushed-repositories.js';
import { UploadSessions } from './repository/upload-sessions.js';
import { PushNamespaces } from './repository/push-namespaces.js';
import { createHttpServer } from './registry/http-server.js';
import { registerRequestIdEcho } from './registry/request-id.js';
import { Drain } from './registry/drain.js';
import { PullRecorder } from './builder/image-expiry.js';
import type { CredentialCheck } from './auth/credential-verifier.js';
import { createAuth } from './compose-auth.js';
import { accelRedirect, createStorage } from './compose-storage.js';

/** Replaceable parts, for tests; everything missing is built from the config. */
export interface AppDeps extends SourceDeps {
  readonly logger?: Logger;
  readonly source?: PackageSource;
  readonly blobs?: BlobStore;
  readonly metadata?: MetadataStore;
  readonly locks?: LockManager;
  /** With `metadata`: how this process hears of others' changes (default: it remembers nothing). */
  readonly coherence?: CacheCoherence;
  readonly layerer?: Layerer;
  /** Epoch ms for the co-occurrence table's period, the htpasswd file's re-checks and the TTL of verified pulls (tests move it). */
  readonly now?: () => number;
  /** Observes every password check that runs bcrypt (tests count them). */
  readonly onCredentialCheck?: (check: CredentialCheck) => void;
  /** The `/metrics` text, when it is not this process's registry alone (cluster workers). */
  readonly metricsText?: () => Promise<string>;
  /** Whether to clean up upload staging files a previous run left (default true; one cluster worker only). */
  readonly recoverUploads?: boolean;
  /** Observes every route as it is registered (tests enumerate them). */
  readonly onRoute?: (route: RouteOptions) => void;
}

export interface App {
  readonly server: FastifyInstance;
  readonly builder: ImageBuilder;
  readonly logger: Logger;
  readonly blobs: BlobStore;
  readonly metadata: MetadataStore;
  readonly source: PackageSource;
  /** This app's own Prometheus registry (not prom-client's global one). */
  readonly metrics: StowageMetrics;
  /** Begun on SIGTERM: readiness fails while requests are still served. */
  readonly drain: Drain;
}

/** Longest a timer can wait: `builds.requestWaitMs: 0` waits for the build, which bounds itself. */
const WAIT_FOR_BUILD_MS = 2 ** 31 - 1;

/** How image names are read under this configuration (the server and the CLI alike). */
export function imageNameOptionsOf(config: Config): ImageNameOptions {
  const common = { maxPackages: config.image.maxPackages, systems: config.source.systems, compression: config.image.compression };
  const debianShell = config.source.debian.shellPackages;
  const debian = { shellPackages: debianShell.length > 0 ? debianShell : DEBIAN_SHELL_PACKAGES, assertPackageName: assertDebianPackageName };
  if (config.source.kind === 'debian') return { ...common, ...debian };
  // The routed default: `nix/...` names go to the Nix package set, all others to Debian.
  if (config.source.kind === 'routed') return { ...common, ...debian, prefixed: { prefix: NIX_PREFIX, shellPackages: config.source.shellPackages } };
  return { ...common, shellPackages: config.source.shellPackages };
}

/**
 * The composition root: the only place that picks concrete implementations. Everything below it
 * receives interfaces.
 */
export async function buildApp(config: Config, deps: AppDeps = {}): Promise<App> {
  const logger = deps.logger ?? createLogger(config.logLevel);
  const dataDir = resolve(config.dataDir);

  // Build temp files of processes that are gone (see createBinaryCacheSource's tmpDir).
  await removeOrphans(resolve(dataDir, 'tmp'), leadingPid);
  const storage = await createStorage(config, dataDir, deps, logger.child({ module: 'storage' }));
  const { blobs, metadata, locks } = storage;
  const source = deps.source ?? (await createSource(config, dataDir, deps, logger));
  const queue = new BuildQueue(config.builds.concurrency, config.builds.maxQueued, config.builds.maxPerClient);
  const metrics = createMetrics(new MetricsRegistry(), () => queue.stats);
  const layering = await createLayeringData(config, { metadata, locks, lockTtlMs: storage.lockTtlMs, logger: logger.child({ module: 'layering' }), ...(deps.now ? { now: deps.now } : {}) });
  // Layers of one image side by side, and their gzip blocks on as many threads (one per core).
  const layerParallelism = config.builds.layerParallelism || availableParallelism();
  const imageNames = imageNameOptionsOf(config);
  const builtImages = new BuiltImages(metadata, imageNames, deps.now ? { verified: { now: deps.now } } : {});
  const builder = new ImageBuilder(
    {
      images: builtImages,
      source,
      layerer: deps.layerer ?? createLayerer(config),
      ...layering.deps,
      blobs,
      metadata,
      locks,
      lockTtlMs: storage.lockTtlMs,
      queue,
      tracker: new BuildTracker(),
      logger: logger.child({ module: 'builder' }),
      observer: buildObserver(metrics),
      gzipCompressors: new DeflateWorkers(layerParallelism),
    },
    {
      maxLayers: config.image.maxLayers,
      layerParallelism,
      levels: { gzip: config.image.gzipLevel, zstd: config.image.zstdLevel },
      timeoutMs: config.builds.timeoutMs,
      ...layering.options,
    },
  );

  // Typed as fastify's logger so the instance gets fastify's default generics.
  const registryLogger: FastifyBaseLogger = logger.child({ module: 'registry' });
  const server = await createHttpServer(config.server, registryLogger);
  registerRequestIdEcho(server);
  const readiness = [...storage.readiness];
  const drain = new Drain(readiness);
  drain.register(server);
  if (deps.onRoute) server.addHook('onRoute', deps.onRoute);
  const uploads = new UploadSessions(resolve(dataDir, 'uploads'), metadata, blobs, Date.now, config.push.maxUploads, config.push.maxUploadsPerUser);
  await uploads.init();
  // In the background (the metadata store may not answer yet), safe beside new requests.
  uploads.expire(config.push.uploadTtlMs).then(() => (deps.recoverUploads === false ? { removed: 0, truncated: 0 } : uploads.recover())).then(
    ({ removed, truncated }) => (removed > 0 || truncated > 0) && logger.info({ removed, truncated }, 'cleaned up uploads a previous process left'),
    (error: unknown) => logger.warn({ err: error }, 'cleaning up old uploads failed'),
  );
  // Abandoned uploads expire; checked every few minutes, never keeping the process alive.
  const expiry = setInterval(() => {
    uploads.expire(config.push.uploadTtlMs).catch((error: unknown) => logger.warn({ err: error }, 'expiring uploads failed'));
  }, Math.min(config.push.uploadTtlMs, 5 * 60_000));
  expiry.unref();
  server.addHook('onClose', async () => clearInterval(expiry));
  const stopObservingBuilds = observeBuilds(metrics, builder.tracker);
  server.addHook('onClose', async () => stopObservingBuilds());
  // Before the routes, so its onResponse hook sees every request.
  if (config.metrics.enabled) registerMetrics(server, metrics, deps.metricsText);
  // Manifests and configs are served from memory once read (bounded; bytes never change by digest).
  const servedBlobs = new CachedBlobReads(blobs);
  const repositories = new PushedRepositories(metadata, servedBlobs, Date.now, storage.coherence);
  // In the background; the catalog waits for it (and retries it) if it has not finished.
  const backfills = [
    repositories.listing.ensure().then(
      (added) => added > 0 && logger.info({ added }, 'listed repositories pushed before the catalog existed'),
      (error: unknown) => logger.warn({ err: error }, 'listing repositories pushed before the catalog existed failed; the catalog retries'),
    ),
    builtImages.listing.ensure().then(
      (added) => added > 0 && logger.info({ added }, 'listed the names of images built before built-names existed'),
      (error: unknown) => logger.warn({ err: error }, 'listing the names of images built before built-names existed failed; the catalog retries'),
    ),
  ];
  // Their writes must not outlive the stores they write to.
  server.addHook('onClose', async () => void (await Promise.all(backfills)));
  const { permissions, servedFromPushes } = registerRegistry(server, {
    builder,
    blobs: servedBlobs,
    images: builtImages,
    repositories,
    pushPolicy: new PushNamespaces(source, { namespaces: config.push.namespaces, imageNames }),
    uploads,
    deletesEnabled: config.push.deletes,
    auth: await createAuth(config.auth, { logger, metrics: metrics.registry, ...(deps.onCredentialCheck ? { onCheck: deps.onCredentialCheck } : {}), ...(deps.now ? { now: deps.now } : {}) }),
    requestWaitMs: config.builds.requestWaitMs || WAIT_FOR_BUILD_MS,
    bodyIdleTimeoutMs: config.server.bodyIdleTimeoutMs,
    ...accelRedirect(config.server.accelRedirectPrefix),
    pulls: new PullRecorder(metadata),
    imageNames,
    ...(source.revisions ? { revisions: (signal?: AbortSignal) => source.revisions?.(signal) ?? Promise.resolve([]) } : {}),
  }, { checks: readiness });
  if (config.web.enabled) {
    const publicDir = findPublicDir();
    // Its routes are reads: where anonymous pulls are off, the browser asks for credentials.
    if (publicDir === null) logger.warn('web ui disabled: its public/ directory is not installed');
    else registerWeb(server, { builder, blobs, images: builtImages, source, imageNames, publicHost: config.web.publicHost, publicDir, repositories, permissions, servedFromPushes });
  }
  server.addHook('onClose', () => storage.close());
  return { server, builder, logger, blobs, metadata, source, metrics, drain };
}
