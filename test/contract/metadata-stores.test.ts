import { mkdtemp, readdir, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { MetadataStore } from '../../src/storage/types.js';
import { FsMetadataStore } from '../../src/storage/fs-metadata-store.js';
import { MemoryMetadataStore } from '../../src/storage/memory-metadata-store.js';
import { CachingMetadataStore } from '../../src/storage/caching-metadata-store.js';
import { checkMembers, readMany } from '../../src/storage/metadata-batch.js';
import { useRedisMetadataStores } from '../support/redis-metadata-stores.js';

const redisStore = useRedisMetadataStores('contract');
/** The set the Redis stores under contract are told is a listing (kept in order). */
const LISTED = 'listed';

function describeMetadataStoreContract(name: string, factory: () => Promise<MetadataStore>): void {
  describe(`MetadataStore contract: ${name}`, () => {
    it('stores, replaces and deletes values', async () => {
      const store = await factory();
      expect(await store.get('k')).toBeNull();
      await store.set('k', 'one');
      await store.set('k', 'two');
      expect(await store.get('k')).toBe('two');
      await store.delete('k');
      await store.delete('k');
      expect(await store.get('k')).toBeNull();
    });

    it('removes set members', async () => {
      const store = await factory();
      await store.addToSet('r', 'a');
      await store.addToSet('r', 'b');
      await store.removeFromSet('r', 'a');
      await store.removeFromSet('r', 'missing');
      await store.removeFromSet('never-created', 'x');
      expect(await store.members('r')).toEqual(['b']);
    });

    it('keeps sets sorted and free of duplicates', async () => {
      const store = await factory();
      expect(await store.members('s')).toEqual([]);
      await Promise.all(['b', 'a', 'c', 'a', 'b'].map((member) => store.addToSet('s', member)));
      expect(await store.members('s')).toEqual(['a', 'b', 'c']);
    });

    it('answers set membership without reading the set, after adds, removes and deletes', async () => {
      const store = await factory();
      expect(await store.isMember('m', 'a')).toBe(false);
      await store.addToSet('m', 'a');
      await store.addToSet('m', 'b');
      expect(await store.isMember('m', 'a')).toBe(true);
      expect(await store.isMember('m', 'c')).toBe(false);
      expect(await store.isMember('other', 'a')).toBe(false);
      await store.removeFromSet('m', 'a');
      expect(await store.isMember('m', 'a')).toBe(false);
      expect(await store.isMember('m', 'b')).toBe(true);
      await store.delete('m');
      expect(await store.isMember('m', 'b')).toBe(false);
    });

    it('reads values and memberships in batches, in order, as single reads would', async () => {
      const store = await factory();
      await store.set('batch:a', 'one');
      await store.set('batch:c', 'three');
      await store.addToSet('batch:s', 'x');
      expect(await readMany(store, ['batch:a', 'batch:b', 'batch:c', 'batch:a'])).toEqual(['one', null, 'three', 'one']);
      expect(await readMany(store, [])).toEqual([]);
      const entries = [['batch:s', 'x'], ['batch:s', 'y'], ['batch:none', 'x']] as const;
      expect(await checkMembers(store, entries)).toEqual([true, false, false]);
      expect(await Promise.all(entries.map(([key, member]) => store.isMember(key, member)))).toEqual([true, false, false]);
      // The batches are the store's own where it has them (Redis: one pipeline).
      if (store.getMany) expect(await store.getMany(['batch:c', 'batch:missing'])).toEqual(['three', null]);
      if (store.areMembers) expect(await store.areMembers([['batch:s', 'x']])).toEqual([true]);
      await store.delete('batch:a');
      await store.removeFromSet('batch:s', 'x');
      expect(await readMany(store, ['batch:a'])).toEqual([null]);
      expect(await checkMembers(store, [['batch:s', 'x']])).toEqual([false]);
    });

    it('pages through a set in order, listings and other sets alike', async () => {
      const store = await factory();
      // Names as the catalog holds them: a prefix of another name, and characters below ':'.
      const names = ['b', 'a/b', 'a', 'a-b', 'a.c', 'c:1', 'a:x', 'b0'];
      for (const key of [LISTED, 'plain']) {
        await Promise.all(names.map((name) => store.addToSet(key, name)));
        const sorted = [...names].sort();
        expect(await store.membersAfter(key, undefined, 100)).toEqual(sorted);
        expect(await store.membersAfter(key, undefined, 3)).toEqual(sorted.slice(0, 3));
        expect(await store.membersAfter(key, 'a', 2)).toEqual(['a-b', 'a.c']);
        expect(await store.membersAfter(key, 'a.b', 100)).toEqual(sorted.filter((name) => name > 'a.b'));
        expect(await store.membersAfter(key, 'c:1', 5)).toEqual([]);
        expect(await store.membersAfter(key, undefined, 0)).toEqual([]);
        // Paging to the end sees every member once.
        const seen: string[] = [];
        for (let page = await store.membersAfter(key, undefined, 3); page.length > 0; page = await store.membersAfter(key, seen[seen.length - 1], 3)) seen.push(...page);
        expect(seen).toEqual(sorted);
        await store.removeFromSet(key, 'a-b');
        expect(await store.membersAfter(key, 'a', 1)).toEqual(['a.c']);
        await store.delete(key);
        expect(await store.membersAfter(key, undefined, 10)).toEqual([]);
        await store.addToSet(key, 'again');
        expect(await store.membersAfter(key, undefined, 10)).toEqual(['again']);
      }
    });

    it('keeps keys apart, including ones with odd characters', async () => {
      const store = await factory();
      await store.set('image:a/b', '1');
      await store.set('image:a/b ', '2');
      expect(await store.get('image:a/b')).toBe('1');
      expect(await store.get('image:a/b ')).toBe('2');
    });
  });
}

describeMetadataStoreContract('memory', async () => new MemoryMetadataStore());
describeMetadataStoreContract('fs', async () => new FsMetadataStore(await mkdtemp(join(tmpdir(), 'stowage-meta-'))));
describeMetadataStoreContract('redis', () => redisStore({ orderedSets: [LISTED] }));
describeMetadataStoreContract('redis with the outage cache', async () => new CachingMetadataStore(await redisStore({ orderedSets: [LISTED] })));

describe('RedisMetadataStore listings written by an older version', () => {
  it('brings the order up to date with the set before its first page, per process', async () => {
    const keyPrefix = `older-${Date.now()}:`;
    // A version (or replica) that keeps no order: the set alone.
    const older = await redisStore({ keyPrefix });
    for (const name of ['m', 'k', 'z', 'a']) await older.addToSet(LISTED, name);
    const current = await redisStore({ keyPrefix, orderedSets: [LISTED] });
    await current.addToSet(LISTED, 'n');
    expect(await current.membersAfter(LISTED, undefined, 10)).toEqual(['a', 'k', 'm', 'n', 'z']);
    // The older one removes a member the order has: a process started afterwards drops it.
    await older.removeFromSet(LISTED, 'k');
    await older.removeFromSet(LISTED, 'n');
    const restarted = await redisStore({ keyPrefix, orderedSets: [LISTED] });
    expect(await restarted.membersAfter(LISTED, 'a', 10)).toEqual(['m', 'z']);
    expect(await restarted.members(LISTED)).toEqual(['a', 'm', 'z']);
  });

  it('takes in what an older replica writes meanwhile, at the next first page', async () => {
    const keyPrefix = `rolling-${Date.now()}:`;
    const current = await redisStore({ keyPrefix, orderedSets: [LISTED] });
    await current.addToSet(LISTED, 'b');
    expect(await current.membersAfter(LISTED, undefined, 10)).toEqual(['b']);
    // Still running the older version during a rolling update: the set alone.
    const older = await redisStore({ keyPrefix });
    await older.addToSet(LISTED, 'a');
    await older.addToSet(LISTED, 'c');
    expect(await current.membersAfter(LISTED, undefined, 10)).toEqual(['a', 'b', 'c']);
    await older.removeFromSet(LISTED, 'b');
    expect(await current.membersAfter(LISTED, undefined, 10)).toEqual(['a', 'c']);
    // A later page alone does not check (one round trip less); the first page did.
    await older.removeFromSet(LISTED, 'c');
    expect(await current.membersAfter(LISTED, 'a', 10)).toEqual(['c']);
    expect(await current.membersAfter(LISTED, undefined, 10)).toEqual(['a']);
  });
});

describe('FsMetadataStore persistence', () => {
  it('keeps values and sets across instances (a restart)', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'stowage-meta-'));
    const first = new FsMetadataStore(dir);
    await first.set('image:x', '{"a":1}');
    await first.addToSet('tags:x', 'latest');
    const second = new FsMetadataStore(dir);
    expect(await second.get('image:x')).toBe('{"a":1}');
    expect(await second.members('tags:x')).toEqual(['latest']);
    expect(await second.isMember('tags:x', 'latest')).toBe(true);
  });

  it('removes temporary files of dead writers at startup and keeps the records', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'stowage-meta-'));
    const first = new FsMetadataStore(dir);
    await first.set('image:x', '1');
    const [prefix] = await readdir(join(dir, 'values'));
    const records = join(dir, 'values', prefix as string);
    const [record] = await readdir(records);
    // A pid that cannot be running (above the kernel's pid_max), and one of this process.
    await writeFile(join(records, `${record as string}.4194305.1.tmp`), '{"torn');
    await writeFile(join(records, `${record as string}.${process.pid}.7.tmp`), '{"torn');
    const restarted = new FsMetadataStore(dir);
    expect(await restarted.removeStaleTemps()).toBe(2);
    expect(await readdir(records)).toEqual([record]);
    expect(await restarted.get('image:x')).toBe('1');
  });
});
