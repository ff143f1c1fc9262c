import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { BlobStore, MetadataStore, StoredBlob } from '../../src/storage/types.js';
import { FsBlobStore } from '../../src/storage/fs-blob-store.js';
import { MemoryBlobStore } from '../../src/storage/memory-blob-store.js';
import { FsMetadataStore } from '../../src/storage/fs-metadata-store.js';
import { MemoryMetadataStore } from '../../src/storage/memory-metadata-store.js';
import { putBlob } from '../../src/storage/blob-io.js';
import { sha256Digest } from '../../src/oci/digest.js';
import { useS3Server } from '../support/s3-server.js';

const s3 = useS3Server();

/**
 * The optional listing members garbage collection needs (`BlobStore.list`/`delete`,
 * `MetadataStore.keys`), for every implementation that has them.
 */
async function listAll(store: BlobStore): Promise<StoredBlob[]> {
  const blobs: StoredBlob[] = [];
  for await (const blob of (store.list as NonNullable<BlobStore['list']>).call(store)) blobs.push(blob);
  return blobs.sort((a, b) => (a.digest < b.digest ? -1 : 1));
}

/**
 * `resolutionMs`: how coarse the store's commit times are (S3's LastModified has whole
 * seconds, so the store reports the end of the second: never older than the commit).
 */
function describeBlobListing(name: string, factory: () => Promise<BlobStore>, resolutionMs = 0): void {
  const tick = () => new Promise((resolve) => setTimeout(resolve, 15 + resolutionMs));
  describe(`BlobStore listing and deletion: ${name}`, () => {
    it('lists committed blobs only, with sizes and commit times', async () => {
      const store = await factory();
      const before = Date.now() - 5 - resolutionMs;
      const a = await putBlob(store, Buffer.from('alpha'));
      const b = await putBlob(store, Buffer.from('bravo!'));
      const staged = await store.writer();
      staged.stream.write(Buffer.from('never committed'));
      const listed = await listAll(store);
      expect(listed.map(({ digest, size }) => ({ digest, size }))).toEqual([a, b].sort((x, y) => (x.digest < y.digest ? -1 : 1)));
      for (const blob of listed) {
        expect(blob.committedAt).toBeGreaterThanOrEqual(before);
        expect(blob.committedAt).toBeLessThanOrEqual(Date.now() + 5 + resolutionMs);
      }
      await staged.abort();
    });

    it('deletes a blob, and deleting a missing one is not an error', async () => {
      const store = await factory();
      const a = await putBlob(store, Buffer.from('to delete'));
      expect(await store.delete?.(a.digest)).toBe(true);
      expect(await store.stat(a.digest)).toBeNull();
      expect(await listAll(store)).toEqual([]);
      expect(await store.delete?.(a.digest)).toBe(false);
      expect(await store.delete?.(sha256Digest('never stored'))).toBe(false);
    });

    it('keeps a blob committed at or after committedBefore, and a commit of existing content renews the time', async () => {
      const store = await factory();
      const a = await putBlob(store, Buffer.from('renewed'));
      const first = (await listAll(store))[0] as StoredBlob;
      expect(await store.delete?.(a.digest, { committedBefore: first.committedAt })).toBe(false);
      expect(await store.stat(a.digest)).toEqual(a);
      await tick();
      const cutoff = Date.now();
      await tick();
      await putBlob(store, Buffer.from('renewed'));
      const second = (await listAll(store))[0] as StoredBlob;
      expect(second.committedAt).toBeGreaterThan(first.committedAt);
      expect(await store.delete?.(a.digest, { committedBefore: cutoff })).toBe(false);
      expect(await store.stat(a.digest)).toEqual(a);
      expect(await store.delete?.(a.digest, { committedBefore: Date.now() + 1000 + resolutionMs })).toBe(true);
    });
  });
}

function describeKeyListing(name: string, factory: () => Promise<MetadataStore>): void {
  describe(`MetadataStore keys: ${name}`, () => {
    it('lists keys with a value or a non-empty set', async () => {
      const store = await factory();
      await store.set('image:a', '{}');
      await store.addToSet('tags:b', 'latest');
      await store.set('gone', 'x');
      await store.delete('gone');
      await store.addToSet('emptied', 'm');
      await store.removeFromSet('emptied', 'm');
      const keys: string[] = [];
      for await (const key of (store.keys as NonNullable<MetadataStore['keys']>).call(store)) keys.push(key);
      expect(keys.sort()).toEqual(['image:a', 'tags:b']);
    });
  });
}

describeBlobListing('memory', async () => new MemoryBlobStore());
describeBlobListing('fs', async () => {
  const store = new FsBlobStore(await mkdtemp(join(tmpdir(), 'stowage-gc-blobs-')));
  await store.init();
  return store;
});
describeBlobListing('s3', async () => s3().blobStore(), 1000);
describeKeyListing('memory', async () => new MemoryMetadataStore());
describeKeyListing('fs', async () => new FsMetadataStore(await mkdtemp(join(tmpdir(), 'stowage-gc-meta-'))));

describe('FsMetadataStore keys', () => {
  it('reads the disk, so it sees what another process wrote', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'stowage-gc-meta-'));
    await new FsMetadataStore(dir).set('written:elsewhere', 'v');
    const keys: string[] = [];
    for await (const key of new FsMetadataStore(dir).keys()) keys.push(key);
    expect(keys).toEqual(['written:elsewhere']);
  });
});
