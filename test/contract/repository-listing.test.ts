import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { MetadataStore } from '../../src/storage/types.js';
import { FsMetadataStore } from '../../src/storage/fs-metadata-store.js';
import { MemoryMetadataStore } from '../../src/storage/memory-metadata-store.js';
import { CachingMetadataStore } from '../../src/storage/caching-metadata-store.js';
import { MemoryBlobStore } from '../../src/storage/memory-blob-store.js';
import { PushedRepositories } from '../../src/repository/pushed-repositories.js';
import { useRedisMetadataStores } from '../support/redis-metadata-stores.js';

const redisStore = useRedisMetadataStores('listing');

/** What a repository pushed by an older version left: its marker, tags and blobs, but no entry in the `repositories` set. */
async function writeOldWay(store: MetadataStore, name: string): Promise<void> {
  await store.set(`repo:${name}`, '1');
  await store.addToSet(`repo-tags:${name}`, 'v1');
  await store.set(`repo-tag:${name}:v1`, `sha256:${'1'.repeat(64)}`);
  await store.addToSet(`repo-blobs:${name}`, `sha256:${'2'.repeat(64)}`);
}

async function collect(keys: AsyncIterable<string>): Promise<string[]> {
  const all = new Set<string>();
  for await (const key of keys) all.add(key);
  return [...all].sort();
}

function describeListing(kind: string, factory: () => Promise<MetadataStore>, reopen?: (store: MetadataStore) => Promise<MetadataStore>): void {
  describe(`listing repositories pushed the old way: ${kind}`, () => {
    it('lists the value keys under a prefix, values only', async () => {
      const store = await factory();
      await writeOldWay(store, 'team/a');
      await store.set('repository-other', 'x');
      await store.addToSet('repo:set-not-value', 'x');
      expect(await collect((store.valueKeys as NonNullable<MetadataStore['valueKeys']>)('repo:'))).toEqual(['repo:team/a']);
    });

    it('adds them to the catalog once, beside repositories pushed the new way', async () => {
      const store = await factory();
      const names = Array.from({ length: 40 }, (_, i) => `old/r${String(i).padStart(3, '0')}`);
      for (const name of names) await writeOldWay(store, name);
      const repositories = new PushedRepositories(store, new MemoryBlobStore());
      await store.addToSet('repositories', 'new/one');
      await store.set('repo:new/one', '1');
      // Concurrent first calls share one scan.
      const [first, second] = await Promise.all([repositories.listing.ensure(), repositories.listing.ensure()]);
      expect(first).toBe(40);
      expect(second).toBe(40);
      expect(await repositories.names(undefined, 1000)).toEqual([...names, 'new/one'].sort());
      expect(await repositories.names('old/r038', 2)).toEqual(['old/r039']);
      expect(await repositories.listing.ensure()).toBe(0);
      // A restart (or another replica) finds the marker and does not scan again.
      const restarted = new PushedRepositories(reopen ? await reopen(store) : store, new MemoryBlobStore());
      await writeOldWay(store, 'old/late');
      expect(await restarted.listing.ensure()).toBe(0);
    });

    it('lists an old repository on the first catalog call, without a startup backfill', async () => {
      const store = await factory();
      await writeOldWay(store, 'team/legacy');
      expect(await new PushedRepositories(store, new MemoryBlobStore()).names(undefined, 10)).toEqual(['team/legacy']);
    });
  });
}

describeListing('memory', async () => new MemoryMetadataStore());
const fsDirs = new WeakMap<MetadataStore, string>();
describeListing(
  'fs',
  async () => {
    const dir = await mkdtemp(join(tmpdir(), 'stowage-listing-'));
    const store = new FsMetadataStore(dir);
    fsDirs.set(store, dir);
    return store;
  },
  async (store) => new FsMetadataStore(fsDirs.get(store) ?? ''),
);
describeListing('redis', redisStore);
describeListing('redis with the outage cache', async () => new CachingMetadataStore(await redisStore()));
