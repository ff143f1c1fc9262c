import { describe, expect, it } from 'vitest';
import { CachedBlobReads } from '../../../src/storage/cached-blob-reads.js';
import { MemoryBlobStore } from '../../../src/storage/memory-blob-store.js';
import { putBlob, readBlob } from '../../../src/storage/blob-io.js';

/** A memory store counting the reads that reach it. */
class CountingStore extends MemoryBlobStore {
  opens = 0;
  override open(...args: Parameters<MemoryBlobStore['open']>): ReturnType<MemoryBlobStore['open']> {
    this.opens += 1;
    return super.open(...args);
  }
}

const OVERHEAD = 128;

describe('CachedBlobReads', () => {
  it('answers repeated reads of a digest from memory, counting hits and misses', async () => {
    const inner = new CountingStore();
    const cached = new CachedBlobReads(inner, { maxEntries: 10, maxBytes: 10_000, maxEntryBytes: 1000 });
    const { digest } = await putBlob(cached, Buffer.from('{"schemaVersion":2}'));
    for (let i = 0; i < 5; i += 1) expect((await readBlob(cached, digest)).toString()).toBe('{"schemaVersion":2}');
    expect(inner.opens).toBe(1);
    expect({ hits: cached.hits, misses: cached.misses }).toEqual({ hits: 4, misses: 1 });
  });

  it('keeps at most maxEntries blobs and maxBytes bytes, forgetting the least recently used', async () => {
    const inner = new CountingStore();
    const cached = new CachedBlobReads(inner, { maxEntries: 3, maxBytes: 3 * (100 + OVERHEAD), maxEntryBytes: 1000 });
    const digests: string[] = [];
    for (let i = 0; i < 20; i += 1) digests.push((await putBlob(inner, Buffer.alloc(100, i))).digest);
    for (const digest of digests) await cached.read(digest);
    expect(cached.stats).toEqual({ entries: 3, bytes: 3 * (100 + OVERHEAD), evictions: 17 });
    // The last three are kept, the first is gone.
    inner.opens = 0;
    for (const digest of digests.slice(-3)) await cached.read(digest);
    expect(inner.opens).toBe(0);
    await cached.read(digests[0] as string);
    expect(inner.opens).toBe(1);

    const bytesBound = new CachedBlobReads(inner, { maxEntries: 100, maxBytes: 2 * (100 + OVERHEAD), maxEntryBytes: 1000 });
    for (const digest of digests) await bytesBound.read(digest);
    expect(bytesBound.stats.entries).toBe(2);
    expect(bytesBound.stats.bytes).toBeLessThanOrEqual(2 * (100 + OVERHEAD));
  });

  it('reads blobs over maxEntryBytes through without keeping them', async () => {
    const inner = new CountingStore();
    const cached = new CachedBlobReads(inner, { maxEntries: 10, maxBytes: 100_000, maxEntryBytes: 1000 });
    const { digest } = await putBlob(inner, Buffer.alloc(1001, 1));
    await cached.read(digest);
    await cached.read(digest);
    expect(inner.opens).toBe(2);
    expect(cached.stats.entries).toBe(0);
  });

  it('forgets a blob deleted through it, and keeps the inner store optional capabilities', async () => {
    const inner = new CountingStore();
    const cached = new CachedBlobReads(inner);
    const { digest } = await putBlob(cached, Buffer.from('gone soon'));
    await cached.read(digest);
    expect(await cached.delete?.(digest)).toBe(true);
    await expect(cached.read(digest)).rejects.toThrow();
    expect(typeof cached.list).toBe('function');
    const bare = new CachedBlobReads({ stat: inner.stat.bind(inner), open: inner.open.bind(inner), writer: inner.writer.bind(inner), redirectUrl: inner.redirectUrl.bind(inner) });
    expect(bare.list).toBeUndefined();
    expect(bare.delete).toBeUndefined();
    expect(bare.openSized).toBeUndefined();
  });
});
