import { readFile } from 'node:fs/promises';
import { availableParallelism } from 'node:os';
import { resolve } from 'node:path';
import type { FastifyBaseLogger, FastifyInstance, RouteOptions } from 'fastify';
import type { Config } from './config/schema.js';
import type { Logger } from './log/logger.js';
import { createLogger } from './log/logger.js';
import type { BlobStore, LockManager, MetadataStore } from './storage/types.js';
import type { PackageSource } from './sources/types.js';
import type { Layerer } from './layering/types.js';
import { FsBlobStore } from './storage/fs-blob-store.js';
import { CachedBlobReads } from './storage/cached-blob-reads.js';
import { FsMetadataStore } from './storage/fs-metadata-store.js';
import { leadingPid, removeOrphans } from './storage/stale-files.js';
import { MemoryLockManager } from './storage/memory-lock-manager.js';
import { S3BlobStore } from './storage/s3-blob-store.js';
import { createS3Client } from './storage/s3-client.js';
import { DEFAULT_S3_RETRY } from './storage/s3-retry.js';
import { RedisConnection } from './storage/redis-client.js';
import { RedisMetadataStore } from './storage/redis-metadata-store.js';
import { RedisLockManager } from './storage/redis-lock-manager.js';
import { CachingMetadataStore } from './storage/caching-metadata-store.js';
import type { ReadinessCheck } from './registry/health-routes.js';
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
import { Htpasswd } from './auth/htpasswd.js';
import { createHttpServer } from './registry/http-server.js';
import { registerRequestIdEcho } from './registry/request-id.js';
import { Drain } from './registry/drain.js';
import { PullRecorder } from './builder/image-expiry.js';
import { CredentialVerifier, type CredentialCheck } from './auth/credential-verifier.js';
import { BcryptWorkers } from './auth/bcrypt-workers.js';
import { TokenSigner } from './auth/token-signer.js';
import { AccessPolicy } from './auth/access-policy.js';

/** Replaceable parts, for tests; everything missing is built from the config. */
export interface AppDeps extends SourceDeps {
  readonly logger?: Logger;
  readonly source?: PackageSource;
  readonly blobs?: BlobStore;
  readonly metadata?: MetadataStore;
  readonly locks?: LockManager;
  readonly layerer?: Layerer;
  /** Epoch ms for the co-occurrence table's period (tests move it). */
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
  const queue = new BuildQueue(config.builds.concurrency, config.builds.maxQueued);
  const metrics = createMetrics(new MetricsRegistry(), () => queue.stats);
  const layering = await createLayeringData(config, { metadata, locks, lockTtlMs: storage.lockTtlMs, logger: logger.child({ module: 'layering' }), ...(deps.now ? { now: deps.now } : {}) });
  // Layers of one image side by side, and their gzip blocks on as many threads (one per core).
  const layerParallelism = config.builds.layerParallelism || availableParallelism();
  const imageNames = imageNameOptionsOf(config);
  const builtImages = new BuiltImages(metadata, imageNames);
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
  const uploads = new UploadSessions(resolve(dataDir, 'uploads'), metadata, blobs);
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
  const repositories = new PushedRepositories(metadata, servedBlobs);
  // In the background; the catalog waits for it (and retries it) if it has not finished.
  repositories.listing.ensure().then(
    (added) => added > 0 && logger.info({ added }, 'listed repositories pushed before the catalog existed'),
    (error: unknown) => logger.warn({ err: error }, 'listing repositories pushed before the catalog existed failed; the catalog retries'),
  );
  const { permissions } = registerRegistry(server, {
    builder,
    blobs: servedBlobs,
    images: builtImages,
    repositories,
    pushPolicy: new PushNamespaces(source, { namespaces: config.push.namespaces, imageNames }),
    uploads,
    deletesEnabled: config.push.deletes,
    auth: {
      verifier: config.auth.htpasswdFile
        ? new CredentialVerifier(await Htpasswd.load(resolve(config.auth.htpasswdFile)), { compare: new BcryptWorkers().compare, onCheck: deps.onCredentialCheck })
        : null,
      anonymousPull: config.auth.anonymousPull,
      policy: new AccessPolicy({ anonymousPull: config.auth.anonymousPull, usersConfigured: config.auth.htpasswdFile !== '', rules: config.auth.access, groups: config.auth.groups }),
      realm: config.auth.realm,
      ...(config.auth.token.enabled ? { tokens: tokenAuth(config.auth.token) } : {}),
    },
    requestWaitMs: config.builds.requestWaitMs || WAIT_FOR_BUILD_MS,
    bodyIdleTimeoutMs: config.server.bodyIdleTimeoutMs,
    pulls: new PullRecorder(metadata),
    imageNames,
    ...(source.revisions ? { revisions: (signal?: AbortSignal) => source.revisions?.(signal) ?? Promise.resolve([]) } : {}),
  }, { checks: readiness });
  if (config.web.enabled) {
    const publicDir = findPublicDir();
    // Its routes are reads: where anonymous pulls are off, the browser asks for credentials.
    if (publicDir === null) logger.warn('web ui disabled: its public/ directory is not installed');
    else registerWeb(server, { builder, blobs, images: builtImages, source, imageNames, publicHost: config.web.publicHost, publicDir, repositories, permissions });
  }
  server.addHook('onClose', () => storage.close());
  return { server, builder, logger, blobs, metadata, source, metrics, drain };
}

interface Storage {
  readonly blobs: BlobStore;
  readonly metadata: MetadataStore;
  readonly locks: LockManager;
  /** Expiry of build locks: distributed locks are renewed while held, so theirs is short. */
  readonly lockTtlMs: number;
  readonly readiness: ReadinessCheck[];
  /** Close connections (Redis, S3 sockets) at shutdown. */
  close(): Promise<void>;
}

/**
 * Blobs on disk or in S3; metadata in files or Redis, with locks in-process or in Redis. Parts
 * given in `deps` win. Credentials: S3 from the AWS default chain, Redis from a password file;
 * neither is logged.
 */
async function createStorage(config: Config, dataDir: string, deps: AppDeps, log: Logger): Promise<Storage> {
  const readiness: ReadinessCheck[] = [];
  const closers: Array<() => Promise<void>> = [];
  let blobs = deps.blobs;
  if (!blobs && config.storage.backend === 's3') {
    const s3 = config.storage.s3;
    const connection = { region: s3.region, endpoint: s3.endpoint, forcePathStyle: s3.forcePathStyle, retry: { ...DEFAULT_S3_RETRY, maxAttempts: s3.maxAttempts } };
    const client = createS3Client(connection);
    const presignClient = s3.publicEndpoint ? createS3Client({ ...connection, endpoint: s3.publicEndpoint }) : client;
    const store = new S3BlobStore({ client, presignClient, bucket: s3.bucket, prefix: s3.prefix, redirectTtlSeconds: s3.redirect ? s3.presignTtlSeconds : null });
    closers.push(async () => {
      client.destroy();
      if (presignClient !== client) presignClient.destroy();
    });
    readiness.push({ name: 'storage', check: (signal) => store.ping(signal) });
    log.info({ bucket: s3.bucket, endpoint: s3.endpoint || '(aws)', prefix: s3.prefix, redirect: s3.redirect }, 'blobs are stored in s3');
    // In the background: startup must not wait on S3 (readiness reports it).
    store.removeStaleStaging(60 * 60 * 1000).then(
      (removed) => removed > 0 && log.info({ removed }, 'removed stale s3 staging uploads'),
      (error: unknown) => log.warn({ reason: (error as Error).message }, 'could not sweep s3 staging uploads'),
    );
    blobs = store;
  } else if (!blobs) {
    const fsBlobs = new FsBlobStore(resolve(dataDir, 'storage'));
    await fsBlobs.init();
    const removed = (await fsBlobs.removeOrphanedStaging()) + (await fsBlobs.removeStaleStaging(60 * 60 * 1000));
    if (removed > 0) log.info({ removed }, 'removed stale staging files');
    blobs = fsBlobs;
  }

  let metadata = deps.metadata;
  let locks = deps.locks;
  let lockTtlMs = config.builds.timeoutMs + 60_000;
  if (config.metadata.backend === 'redis' && (!metadata || !locks)) {
    const redis = config.metadata.redis;
    const password = redis.passwordFile ? (await readFile(redis.passwordFile, 'utf8')).trim() : undefined;
    const connection = new RedisConnection({ url: redis.url, commandTimeoutMs: redis.commandTimeoutMs, logger: log, ...(password ? { password } : {}) });
    if (await connection.connect()) log.info({ redis: connection.where, keyPrefix: redis.keyPrefix }, 'metadata and build locks are in redis');
    else log.warn({ redis: connection.where }, 'redis is not reachable yet; retrying in the background');
    closers.push(() => connection.close());
    readiness.push({ name: 'redis', check: () => connection.ping() });
    metadata ??= new CachingMetadataStore(new RedisMetadataStore(connection, redis.keyPrefix));
    locks ??= new RedisLockManager(connection, { keyPrefix: redis.keyPrefix, logger: log });
    lockTtlMs = redis.lockTtlMs;
    if (config.storage.backend === 'fs' && !deps.blobs) {
      log.warn('metadata is shared in redis but blobs are on local disk: run one replica, or store blobs in s3');
    }
  }
  return {
    blobs,
    metadata: metadata ?? (await fsMetadata(resolve(dataDir, 'metadata'), log)),
    locks: locks ?? new MemoryLockManager(),
    lockTtlMs,
    readiness,
    async close() {
      await Promise.allSettled(closers.map((close) => close()));
    },
  };
}

/** The embedded metadata store, rid of temporary files a killed process left. */
async function fsMetadata(dir: string, log: Logger): Promise<FsMetadataStore> {
  const store = new FsMetadataStore(dir);
  const removed = await store.removeStaleTemps();
  if (removed > 0) log.info({ removed }, 'removed stale metadata temporary files');
  return store;
}

/** The token flow's signer and settings (auth.token). */
function tokenAuth(token: { service: string; realm: string; keyFile: string; ttlSeconds: number; refreshTtlSeconds: number; challengeAnonymousReads: boolean }) {
  const signer = new TokenSigner({ keyFile: token.keyFile === '' ? '' : resolve(token.keyFile), service: token.service, issuer: token.service, ttlSeconds: token.ttlSeconds });
  return { signer, service: token.service, realm: token.realm, refreshTtlSeconds: token.refreshTtlSeconds, challengeAnonymousReads: token.challengeAnonymousReads };
}
