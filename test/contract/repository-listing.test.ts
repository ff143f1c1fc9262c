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
import { BuiltImages } from '../../src/builder/built-images.js';
import { expireImageRecords } from '../../src/builder/image-expiry.js';
import { BuiltImageKeys, LISTED_SETS } from '../../src/storage/metadata-keys.js';
import type { ImageNameOptions } from '../../src/image-name/image-name.js';
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
describeListing('redis', () => redisStore({ orderedSets: LISTED_SETS }));
describeListing('redis with the outage cache', async () => new CachingMetadataStore(await redisStore({ orderedSets: LISTED_SETS })));

const IMAGE_NAMES: ImageNameOptions = { maxPackages: 20, shellPackages: ['bash'], systems: ['x86_64-linux'], compression: 'gzip' };

/** What an older version left of a built image: its `built-images` entry and tag, no `built-names` member. */
async function buildOldWay(store: MetadataStore, name: string, tag: string): Promise<void> {
  await store.addToSet(BuiltImageKeys.builtImages, `${name}:${tag}`);
  await store.addToSet(BuiltImageKeys.tags(name), tag);
}

function describeBuiltNames(kind: string, factory: () => Promise<MetadataStore>): void {
  describe(`listing the names of built images: ${kind}`, () => {
    it('pages through names in name order, those built by an older version included, and drops expired ones', async () => {
      const store = await factory();
      // Entries of 'a' sort after those of 'a-b' and 'a.c' ('-' and '.' are below ':'): the names must not.
      for (const [name, tag] of [['a-b', 'v1'], ['a-b', 'v2'], ['a', 'latest'], ['a.c', '1'], ['b/c', '1']] as const) await buildOldWay(store, name, tag);
      const images = new BuiltImages(store, IMAGE_NAMES);
      const [first, second] = await Promise.all([images.listing.ensure(), images.listing.ensure()]);
      expect([first, second]).toEqual([4, 4]);
      expect(await images.names(undefined, 10)).toEqual(['a', 'a-b', 'a.c', 'b/c']);
      expect(await images.names('a', 2)).toEqual(['a-b', 'a.c']);
      expect(await images.images('a-b:v1', 2)).toEqual(['a-b:v2', 'a.c:1']);
      // The marker stops a second run, in this process and any other.
      await buildOldWay(store, 'late', '1');
      expect(await new BuiltImages(store, IMAGE_NAMES).listing.ensure()).toBe(0);
      // Expiry forgets the name with its tags.
      const now = Date.now();
      for (const name of ['a', 'a-b', 'a.c', 'b/c', 'late']) await store.set(BuiltImageKeys.pulled(name), String(name === 'a-b' ? now - 40 * 86_400_000 : now));
      expect((await expireImageRecords(store, { ttlMs: 30 * 86_400_000, now: () => now })).expired).toEqual(['a-b']);
      expect(await images.names(undefined, 10)).toEqual(['a', 'a.c', 'b/c']);
    });

    it('does not list again a name that expires while the names are added', async () => {
      const store = await factory();
      for (const name of ['kept', 'racing']) await buildOldWay(store, name, '1');
      // Expiry runs between the backfill's check and its write: tags deleted, then the name dropped.
      const racing: MetadataStore = Object.create(store, {
        addToSet: {
          value: async (key: string, member: string) => {
            if (key === BuiltImageKeys.builtNames && member === 'racing') {
              await store.delete(BuiltImageKeys.tags('racing'));
              await store.removeFromSet(BuiltImageKeys.builtNames, 'racing');
            }
            await store.addToSet(key, member);
          },
        },
      });
      expect(await new BuiltImages(racing, IMAGE_NAMES).listing.ensure()).toBe(1);
      expect(await new BuiltImages(store, IMAGE_NAMES).names(undefined, 10)).toEqual(['kept']);
    });
  });
}

describeBuiltNames('memory', async () => new MemoryMetadataStore());
describeBuiltNames('fs', async () => new FsMetadataStore(await mkdtemp(join(tmpdir(), 'stowage-listing-'))));
describeBuiltNames('redis', () => redisStore({ orderedSets: LISTED_SETS }));
describeBuiltNames('redis with the outage cache', async () => new CachingMetadataStore(await redisStore({ orderedSets: LISTED_SETS })));
