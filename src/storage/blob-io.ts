import { open } from 'node:fs/promises';
import type { BlobInfo, BlobStore } from './types.js';

/** Store a small blob held in memory (configs, manifests). */
export async function putBlob(store: BlobStore, data: Buffer, signal?: AbortSignal): Promise<BlobInfo> {
  const writer = await store.writer(signal);
  try {
    await new Promise<void>((resolve, reject) => {
      writer.stream.once('error', reject);
      writer.stream.end(data, () => resolve());
    });
    return await writer.commit();
  } catch (error) {
    await writer.abort();
    throw error;
  }
}

/** Read a whole blob into memory: only for small blobs (manifests, configs) and tests. */
export async function readBlob(store: BlobStore, digest: string, signal?: AbortSignal): Promise<Buffer> {
  // One buffer of the blob's size where the store can: no stream buffers, no concatenation.
  if (store.read) return store.read(digest, signal);
  const chunks: Buffer[] = [];
  for await (const chunk of await store.open(digest, undefined, signal)) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

/**
 * fsync a file or directory by path: for a file, its data (fsync acts on the file, whichever
 * descriptor wrote it); for a directory, its entries, so a rename into it survives a power loss.
 */
export async function fsyncPath(path: string): Promise<void> {
  const handle = await open(path, 'r');
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}
