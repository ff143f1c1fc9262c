import { HeadObjectCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import { mkdtemp, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { BlobStore, MetadataStore, StoredBlob } from '../../src/storage/types.js';
import { FsBlobStore } from '../../src/storage/fs-blob-store.js';
import { MemoryBlobStore } from '../../src/storage/memory-blob-store.js';
import { FsMetadataStore } from '../../src/storage/fs-metadata-store.js';
import { MemoryMetadataStore } from '../../src/storage/memory-metadata-store.js';
import { CachingMetadataStore } from '../../src/storage/caching-metadata-store.js';
import { putBlob } from '../../src/storage/blob-io.js';
import { sha256Digest } from '../../src/oci/digest.js';
import { useRedisMetadataStores } from '../support/redis-metadata-stores.js';
import { useS3Server } from '../support/s3-server.js';

/**
 * The optional listing members garbage collection needs (`BlobStore.list`/`delete`,
 * `MetadataStore.keys`), on every implementation. Commit times come from each store's own
 * clock (an injected one, the file system's, S3's): `advance` waits until that clock has
 * moved, so no test compares them with the test's wall clock.
 */
interface ListingFixture {
  readonly store: BlobStore;
  /** Returns once a commit made now gets a later committedAt than every commit before. */
  advance(): Promise<void>;
}

async function listAll(store: BlobStore): Promise<StoredBlob[]> {
  const blobs: StoredBlob[] = [];
  for await (const blob of (store.list as NonNullable<BlobStore['list']>).call(store)) blobs.push(blob);
  return blobs.sort((a, b) => (a.digest < b.digest ? -1 : 1));
}

/** Polls a clock that is not ours until it shows a later time than when called. */
async function untilLater(read: () => Promise<number>): Promise<void> {
  const start = await read();
  while ((await read()) <= start) await new Promise((resolve) => setTimeout(resolve, 2));
}

function describeBlobListing(name: string, factory: () => Promise<ListingFixture>): void {
  describe(`BlobStore listing and deletion: ${name}`, () => {
    it('lists committed blobs only, with sizes and commit times in commit order', async () => {
      const { store, advance } = await factory();
      const a = await putBlob(store, Buffer.from('alpha'));
      await advance();
      const b = await putBlob(store, Buffer.from('bravo!'));
      const staged = await store.writer();
      staged.stream.write(Buffer.from('never committed'));
      const listed = await listAll(store);
      expect(listed.map(({ digest, size }) => ({ digest, size }))).toEqual([a, b].sort((x, y) => (x.digest < y.digest ? -1 : 1)));
      const time = (digest: string): number => listed.find((blob) => blob.digest === digest)?.committedAt ?? Number.NaN;
      expect(time(a.digest)).toBeGreaterThan(0);
      expect(time(b.digest)).toBeGreaterThan(time(a.digest));
      await staged.abort();
    });

    it('deletes a blob, and deleting a missing one is not an error', async () => {
      const { store } = await factory();
      const a = await putBlob(store, Buffer.from('to delete'));
      expect(await store.delete?.(a.digest)).toBe(true);
      expect(await store.stat(a.digest)).toBeNull();
      expect(await listAll(store)).toEqual([]);
      expect(await store.delete?.(a.digest)).toBe(false);
      expect(await store.delete?.(sha256Digest('never stored'))).toBe(false);
    });

    it('keeps a blob committed at or after committedBefore, and a commit of existing content renews the time', async () => {
      const { store, advance } = await factory();
      const a = await putBlob(store, Buffer.from('renewed'));
      const first = ((await listAll(store))[0] as StoredBlob).committedAt;
      expect(await store.delete?.(a.digest, { committedBefore: first })).toBe(false);
      expect(await store.stat(a.digest)).toEqual(a);
      await advance();
      await putBlob(store, Buffer.from('renewed'));
      const second = ((await listAll(store))[0] as StoredBlob).committedAt;
      expect(second).toBeGreaterThan(first);
      // Without the renewal the blob (committed at `first`) would go at this cutoff.
      expect(await store.delete?.(a.digest, { committedBefore: second })).toBe(false);
      expect(await store.stat(a.digest)).toEqual(a);
      expect(await store.delete?.(a.digest, { committedBefore: second + 1 })).toBe(true);
    });
  });
}

describeBlobListing('memory (injected clock)', async () => {
  let now = 1_000_000;
  return { store: new MemoryBlobStore(() => now), advance: async () => void (now += 1000) };
});

describeBlobListing('fs', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'stowage-gc-blobs-'));
  const store = new FsBlobStore(join(dir, 'blobs'));
  await store.init();
  // A commit's time is its file's mtime: wait for the file system's clock to move.
  const probe = join(dir, 'clock-probe');
  const mtime = async (): Promise<number> => {
    await writeFile(probe, 'tick');
    return (await stat(probe)).mtimeMs;
  };
  return { store, advance: () => untilLater(mtime) };
});

{
  const s3 = useS3Server({ bucket: 'stowage-gc' });
  describeBlobListing('s3', async () => {
    const client = s3().client();
    const key = `clock-probe-${process.pid}`;
    // S3 stamps LastModified itself (to the second): wait for its clock to move.
    const lastModified = async (): Promise<number> => {
      await client.send(new PutObjectCommand({ Bucket: s3().bucket, Key: key, Body: 'tick' }));
      const head = await client.send(new HeadObjectCommand({ Bucket: s3().bucket, Key: key }));
      return head.LastModified?.getTime() ?? 0;
    };
    return { store: s3().blobStore(), advance: () => untilLater(lastModified) };
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

const redisStore = useRedisMetadataStores('gc');

describeKeyListing('memory', async () => new MemoryMetadataStore());
describeKeyListing('fs', async () => new FsMetadataStore(await mkdtemp(join(tmpdir(), 'stowage-gc-meta-'))));
describeKeyListing('redis', redisStore);
describeKeyListing('caching (over redis)', async () => new CachingMetadataStore(await redisStore()));

describe('FsMetadataStore keys', () => {
  it('reads the disk, so it sees what another process wrote', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'stowage-gc-meta-'));
    await new FsMetadataStore(dir).set('written:elsewhere', 'v');
    const keys: string[] = [];
    for await (const key of new FsMetadataStore(dir).keys()) keys.push(key);
    expect(keys).toEqual(['written:elsewhere']);
  });
});
