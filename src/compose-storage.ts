import { readFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import type { AppDeps } from './app.js';
import type { Config } from './config/schema.js';
import type { Logger } from './log/logger.js';
import type { ReadinessCheck } from './registry/health-routes.js';
import { CachingMetadataStore } from './storage/caching-metadata-store.js';
import { FsBlobStore, fsBlobRelativePath } from './storage/fs-blob-store.js';
import { FsMetadataStore } from './storage/fs-metadata-store.js';
import { MemoryLockManager } from './storage/memory-lock-manager.js';
import { RedisConnection } from './storage/redis-client.js';
import { RedisCacheCoherence } from './storage/redis-cache-coherence.js';
import { LocalCacheCoherence, NoCacheCoherence } from './storage/local-cache-coherence.js';
import { RedisLockManager } from './storage/redis-lock-manager.js';
import { RedisMetadataStore } from './storage/redis-metadata-store.js';
import { LISTED_SETS } from './storage/metadata-keys.js';
import { S3BlobStore } from './storage/s3-blob-store.js';
import { createS3Client } from './storage/s3-client.js';
import { DEFAULT_S3_RETRY } from './storage/s3-retry.js';
import type { BlobStore, CacheCoherence, LockManager, MetadataStore } from './storage/types.js';

/** Part of the composition root: the storage backends the config names. */
export interface Storage {
  readonly blobs: BlobStore;
  readonly metadata: MetadataStore;
  readonly locks: LockManager;
  /** Expiry of build locks: distributed locks are renewed while held, so theirs is short. */
  readonly lockTtlMs: number;
  /** How processes sharing the metadata keep what they remember of it right. */
  readonly coherence: CacheCoherence;
  readonly readiness: ReadinessCheck[];
  /** Close connections (Redis, S3 sockets) at shutdown. */
  close(): Promise<void>;
}

/**
 * Blobs on disk or in S3; metadata in files or Redis, with locks in-process or in Redis. Parts
 * given in `deps` win. Credentials: S3 from the AWS default chain, Redis from a password file;
 * neither is logged.
 */
export async function createStorage(config: Config, dataDir: string, deps: AppDeps, log: Logger): Promise<Storage> {
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
  // Metadata given from outside may be changed by others unseen: then nothing is remembered.
  let coherence = deps.coherence ?? (deps.metadata ? new NoCacheCoherence() : undefined);
  if (config.metadata.backend === 'redis' && (!metadata || !locks)) {
    const redis = config.metadata.redis;
    const password = redis.passwordFile ? (await readFile(redis.passwordFile, 'utf8')).trim() : undefined;
    const connection = new RedisConnection({ url: redis.url, commandTimeoutMs: redis.commandTimeoutMs, logger: log, ...(password ? { password } : {}) });
    if (await connection.connect()) log.info({ redis: connection.where, keyPrefix: redis.keyPrefix }, 'metadata and build locks are in redis');
    else log.warn({ redis: connection.where }, 'redis is not reachable yet; retrying in the background');
    closers.push(() => connection.close());
    readiness.push({ name: 'redis', check: () => connection.ping() });
    let shared: RedisCacheCoherence | undefined;
    if (!coherence) {
      const created = new RedisCacheCoherence({ publisher: connection.client, subscriber: connection.subscriberConnection(), channel: `${redis.keyPrefix}coherence`, logger: log });
      closers.unshift(() => created.close());
      coherence = shared = created;
    }
    // An outage answer may be older than a change announced meanwhile: never remembered as current.
    metadata ??= new CachingMetadataStore(new RedisMetadataStore(connection, redis.keyPrefix, { orderedSets: LISTED_SETS }), { onAnsweredFromMemory: () => shared?.answeredFromMemory() });
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
    // The fs metadata store has one serving process: changes are all made here.
    coherence: coherence ?? new LocalCacheCoherence(),
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

/**
 * With `server.accelRedirectPrefix`, the front proxy's internal URI of each fs blob: the prefix
 * maps `<dataDir>/storage/blobs/` (see deploy/nginx). Spread into the registry's settings.
 */
export function accelRedirect(prefix: string): { accelRedirect?: (digest: string) => string | null } {
  if (prefix === '') return {};
  return {
    accelRedirect: (digest) => {
      const relative = fsBlobRelativePath(digest);
      return relative === null ? null : `${prefix}${relative}`;
    },
  };
}
