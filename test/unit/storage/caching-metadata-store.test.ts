import { describe, expect, it } from 'vitest';
import type { MetadataStore } from '../../../src/storage/types.js';
import { CachingMetadataStore } from '../../../src/storage/caching-metadata-store.js';
import { MemoryMetadataStore } from '../../../src/storage/memory-metadata-store.js';
import { StorageUnavailableError } from '../../../src/storage/errors.js';
import { LruMap } from '../../../src/cache/lru-map.js';

/** A memory store that can be switched off like an unreachable Redis. */
function flakyRemote(): { store: MetadataStore; down: (value: boolean) => void; reads: () => number } {
  const inner = new MemoryMetadataStore();
  let isDown = false;
  let reads = 0;
  const guard = <T>(fn: () => Promise<T>): Promise<T> => {
    if (isDown) return Promise.reject(new StorageUnavailableError('redis is down'));
    return fn();
  };
  const store: MetadataStore = {
    get: (key) => guard(() => ((reads += 1), inner.get(key))),
    set: (key, value) => guard(() => inner.set(key, value)),
    delete: (key) => guard(() => inner.delete(key)),
    addToSet: (key, member) => guard(() => inner.addToSet(key, member)),
    removeFromSet: (key, member) => guard(() => inner.removeFromSet(key, member)),
    members: (key) => guard(() => ((reads += 1), inner.members(key))),
    membersAfter: (key, after, limit) => guard(() => ((reads += 1), inner.membersAfter(key, after, limit))),
    isMember: (key, member) => guard(() => ((reads += 1), inner.isMember(key, member))),
  };
  return { store, down: (value) => (isDown = value), reads: () => reads };
}

describe('CachingMetadataStore', () => {
  it('reads through to the remote while it answers, so other writers are seen at once', async () => {
    const remote = flakyRemote();
    const cache = new CachingMetadataStore(remote.store);
    await cache.set('image:a', 'one');
    await remote.store.set('image:a', 'two'); // another replica
    expect(await cache.get('image:a')).toBe('two');
    expect(remote.reads()).toBe(1);
  });

  it('serves remembered values, absences and set members while the remote is down', async () => {
    const remote = flakyRemote();
    const cache = new CachingMetadataStore(remote.store);
    await cache.set('image:a', '{"x":1}');
    expect(await cache.get('repo:none')).toBeNull();
    await cache.addToSet('tags:a', 'latest');
    expect(await cache.members('manifests:a')).toEqual([]);
    remote.down(true);
    expect(await cache.get('image:a')).toBe('{"x":1}');
    expect(await cache.get('repo:none')).toBeNull();
    expect(await cache.members('tags:a')).toEqual(['latest']);
    expect(await cache.members('manifests:a')).toEqual([]);
  });

  it('serves set membership it was told while up (another replica wrote the set) while down', async () => {
    const remote = flakyRemote();
    const cache = new CachingMetadataStore(remote.store);
    await remote.store.addToSet('image-blobs:a', 'sha256:1'); // another replica
    await remote.store.addToSet('image-blobs:a', 'sha256:2');
    expect(await cache.isMember('image-blobs:a', 'sha256:1')).toBe(true);
    expect(await cache.isMember('image-blobs:a', 'sha256:3')).toBe(false);
    remote.down(true);
    expect(await cache.isMember('image-blobs:a', 'sha256:1')).toBe(true);
    expect(await cache.isMember('image-blobs:a', 'sha256:3')).toBe(false);
    await expect(cache.isMember('image-blobs:never-seen', 'sha256:1')).rejects.toBeInstanceOf(StorageUnavailableError);
  });

  it('accepts re-adding a known set member while down, but refuses anything new', async () => {
    const remote = flakyRemote();
    const cache = new CachingMetadataStore(remote.store);
    await cache.addToSet('tags:a', 'latest');
    remote.down(true);
    await expect(cache.addToSet('tags:a', 'latest')).resolves.toBeUndefined();
    await expect(cache.addToSet('tags:a', 'v2')).rejects.toBeInstanceOf(StorageUnavailableError);
    await expect(cache.set('image:b', 'x')).rejects.toBeInstanceOf(StorageUnavailableError);
    await expect(cache.get('image:never-seen')).rejects.toBeInstanceOf(StorageUnavailableError);
    await expect(cache.members('tags:never-seen')).rejects.toBeInstanceOf(StorageUnavailableError);
  });

  it('passes other errors through instead of answering from memory', async () => {
    const failing: MetadataStore = {
      ...new MemoryMetadataStore(),
      get: () => Promise.reject(new Error('bug')),
      set: () => Promise.resolve(),
      delete: () => Promise.resolve(),
      addToSet: () => Promise.resolve(),
      removeFromSet: () => Promise.resolve(),
      members: () => Promise.resolve([]),
      membersAfter: () => Promise.resolve([]),
      isMember: () => Promise.resolve(false),
    };
    const cache = new CachingMetadataStore(failing);
    await cache.set('k', 'v');
    await expect(cache.get('k')).rejects.toThrow('bug');
  });

  it('forgets deleted keys and removed members', async () => {
    const remote = flakyRemote();
    const cache = new CachingMetadataStore(remote.store);
    await cache.set('k', 'v');
    await cache.addToSet('s', 'a');
    await cache.addToSet('s', 'b');
    await cache.delete('k');
    await cache.removeFromSet('s', 'a');
    remote.down(true);
    expect(await cache.get('k')).toBeNull();
    await expect(cache.addToSet('s', 'a')).rejects.toBeInstanceOf(StorageUnavailableError);
  });
});

describe('LruMap', () => {
  it('forgets the least recently used entry beyond its capacity', () => {
    const map = new LruMap<string, number>(2);
    map.set('a', 1);
    map.set('b', 2);
    expect(map.get('a')).toBe(1);
    map.set('c', 3);
    expect(map.has('b')).toBe(false);
    expect(map.get('a')).toBe(1);
    expect(map.get('c')).toBe(3);
    expect(map.size).toBe(2);
  });
});

describe('LruMap by weight', () => {
  it('keeps the total weight within capacity and skips entries heavier than it', () => {
    const map = new LruMap<string, Buffer>(10, (value) => value.length);
    map.set('a', Buffer.alloc(4));
    map.set('b', Buffer.alloc(4));
    map.set('c', Buffer.alloc(4));
    expect(map.has('a')).toBe(false);
    expect(map.size).toBe(2);
    map.set('huge', Buffer.alloc(11));
    expect(map.has('huge')).toBe(false);
    map.set('b', Buffer.alloc(1));
    map.set('d', Buffer.alloc(5));
    expect([map.has('b'), map.has('c'), map.has('d')]).toEqual([true, true, true]);
  });
});
