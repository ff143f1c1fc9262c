import { describe, expect, it } from 'vitest';
import type { BlobStore } from '../../src/storage/types.js';
import { putBlob, readBlob } from '../../src/storage/blob-io.js';
import { sha256Digest } from '../../src/oci/digest.js';
import { BlobNotFoundError, DigestMismatchError, RangeNotSatisfiableError } from '../../src/storage/errors.js';

/** The behaviour every BlobStore must show; run once per implementation. */
export function describeBlobStoreContract(name: string, factory: () => Promise<BlobStore>): void {
  describe(`BlobStore contract: ${name}`, () => {
    it('commits a blob under its sha256 digest and reads it back', async () => {
      const store = await factory();
      const data = Buffer.from('hello, blob');
      const info = await putBlob(store, data);
      expect(info).toEqual({ digest: sha256Digest(data), size: data.length });
      expect(await store.stat(info.digest)).toEqual(info);
      expect((await readBlob(store, info.digest)).equals(data)).toBe(true);
    });

    it('serves inclusive byte ranges', async () => {
      const store = await factory();
      const { digest } = await putBlob(store, Buffer.from('0123456789'));
      const chunks: Buffer[] = [];
      for await (const chunk of await store.open(digest, { start: 2, end: 5 })) chunks.push(chunk as Buffer);
      expect(Buffer.concat(chunks).toString()).toBe('2345');
    });

    it('refuses ranges outside the blob', async () => {
      const store = await factory();
      const { digest } = await putBlob(store, Buffer.from('0123456789'));
      await expect(store.open(digest, { start: 10, end: 12 })).rejects.toBeInstanceOf(RangeNotSatisfiableError);
    });

    it('reports unknown blobs as missing', async () => {
      const store = await factory();
      const digest = sha256Digest('never written');
      expect(await store.stat(digest)).toBeNull();
      await expect(store.open(digest)).rejects.toBeInstanceOf(BlobNotFoundError);
    });

    it('keeps staged bytes invisible until commit', async () => {
      const store = await factory();
      const data = Buffer.from('staged but not committed');
      const writer = await store.writer();
      await new Promise<void>((resolve) => writer.stream.end(data, () => resolve()));
      expect(await store.stat(sha256Digest(data))).toBeNull();
      await writer.commit();
      expect(await store.stat(sha256Digest(data))).not.toBeNull();
    });

    it('commits nothing when the expected digest differs', async () => {
      const store = await factory();
      const data = Buffer.from('the real content');
      const writer = await store.writer();
      await new Promise<void>((resolve) => writer.stream.end(data, () => resolve()));
      const wrong = sha256Digest('something else');
      await expect(writer.commit(wrong)).rejects.toBeInstanceOf(DigestMismatchError);
      await writer.abort();
      expect(await store.stat(sha256Digest(data))).toBeNull();
      expect(await store.stat(wrong)).toBeNull();
    });

    it('discards aborted writes', async () => {
      const store = await factory();
      const data = Buffer.from('aborted');
      const writer = await store.writer();
      writer.stream.write(data);
      await writer.abort();
      await writer.abort();
      expect(await store.stat(sha256Digest(data))).toBeNull();
    });

    it('lets concurrent writers of the same content both succeed', async () => {
      const store = await factory();
      const data = Buffer.alloc(512 * 1024, 7);
      const results = await Promise.all(Array.from({ length: 8 }, () => putBlob(store, data)));
      expect(new Set(results.map((result) => result.digest)).size).toBe(1);
      expect((await readBlob(store, sha256Digest(data))).equals(data)).toBe(true);
    });

    it('makes commit idempotent', async () => {
      const store = await factory();
      const data = Buffer.from('twice');
      const writer = await store.writer();
      await new Promise<void>((resolve) => writer.stream.end(data, () => resolve()));
      const first = await writer.commit();
      expect(await writer.commit(first.digest)).toEqual(first);
    });
  });
}
