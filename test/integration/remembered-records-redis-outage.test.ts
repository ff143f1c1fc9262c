import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { pino } from 'pino';
import { afterAll, describe, expect, it } from 'vitest';
import { createStorage, type Storage } from '../../src/compose-storage.js';
import { parseConfig } from '../../src/config/load.js';
import { PushedRepositories } from '../../src/repository/pushed-repositories.js';
import { putBlob } from '../../src/storage/blob-io.js';
import { MemoryBlobStore } from '../../src/storage/memory-blob-store.js';
import { digestOf, makeImage } from '../conformance/client.js';
import { useRedisServer } from '../support/redis-server.js';

/**
 * Two replicas' storage as the composition root wires it on a real redis-server: metadata read
 * through the outage memory (CachingMetadataStore), records remembered under RedisCacheCoherence.
 * An answer the outage memory gave must not become a remembered record that outlives the outage.
 */

const MANIFEST = 'application/vnd.oci.image.manifest.v1+json';
const redis = useRedisServer();
const storages: Storage[] = [];
afterAll(async () => {
  await Promise.all(storages.map((storage) => storage.close()));
});

async function eventually(condition: () => Promise<boolean> | boolean, what: string): Promise<void> {
  const deadline = Date.now() + 10_000;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`never: ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 2));
  }
}

async function replica(blobs: MemoryBlobStore): Promise<{ storage: Storage; repositories: PushedRepositories; redisAnswers: () => Promise<boolean>; refusesAtOnce: () => Promise<boolean> }> {
  const config = parseConfig({
    dataDir: await mkdtemp(join(tmpdir(), 'stowage-outage-')),
    source: { kind: 'nix', shellPackages: ['minishell'] },
    metadata: { backend: 'redis', redis: { url: redis().url, keyPrefix: 'outage:' } },
  });
  const storage = await createStorage(config, config.dataDir, { blobs }, pino({ level: 'silent' }));
  storages.push(storage);
  const redisCheck = storage.readiness.find((check) => check.name === 'redis');
  // A command sent while the connection drops is sent again once it is back, so an answer
  // that takes longer than a few milliseconds counts as none (that command is not awaited).
  const redisAnswers = () => {
    const ping = (redisCheck?.check(AbortSignal.timeout(1_000)) ?? Promise.reject(new Error('no redis check'))).then(() => true, () => false);
    return Promise.race([ping, new Promise<boolean>((resolve) => setTimeout(() => resolve(false), 50))]).then((answered) => answered && ping);
  };
  const refusesAtOnce = () => {
    const ping = (redisCheck?.check(AbortSignal.timeout(1_000)) ?? Promise.resolve()).then(() => false, () => true);
    return Promise.race([ping, new Promise<boolean>((resolve) => setTimeout(() => resolve(false), 5))]);
  };
  return { storage, repositories: new PushedRepositories(storage.metadata, blobs, Date.now, storage.coherence), redisAnswers, refusesAtOnce };
}

describe('a record read from the outage memory', () => {
  it('is not served from what the replica remembers once Redis answers again', async () => {
    const blobs = new MemoryBlobStore();
    const [a, b] = [await replica(blobs), await replica(blobs)];
    await eventually(() => a.storage.coherence.generation() !== null && b.storage.coherence.generation() !== null, 'both leased');
    const image = makeImage('outage');
    for (const blob of [image.config, ...image.layers]) {
      await putBlob(blobs, blob);
      await a.repositories.linkBlob('team/app', digestOf(blob));
    }
    await a.repositories.putManifest('team/app', 'v1', image.manifest, MANIFEST);
    const digest = digestOf(image.manifest);
    expect((await b.repositories.getManifest('team/app', digest))?.digest).toBe(digest);
    // b forgets its record before the delete returns; its outage memory still holds the
    // membership it read before (b has not read the digest since).
    await a.repositories.deleteManifest('team/app', digest);

    // The command connections drop (the subscriptions stay): b answers from its outage memory,
    // which still holds the membership it read before the delete; that is the outage behaviour.
    const admin = new Redis(redis().url);
    try {
      await admin.call('CLIENT', 'KILL', 'TYPE', 'normal');
      await eventually(() => b.refusesAtOnce(), 'b cannot reach Redis');
      expect((await b.repositories.getManifest('team/app', digest))?.digest).toBe(digest);
    } finally {
      admin.disconnect();
    }

    await eventually(async () => (await b.redisAnswers()) && b.storage.coherence.generation() !== null, 'b reaches Redis and is leased again');
    expect(await b.repositories.getManifest('team/app', digest)).toBeNull();
  });
});
