import type { Readable } from 'node:stream';
import type { BlobInfo, BlobStore, BlobWriter, ByteRange, SizedBlob, StoredBlob } from './types.js';
import { LruMap } from '../cache/lru-map.js';

export interface CachedBlobReadsOptions {
  /** Most blobs kept. */
  readonly maxEntries: number;
  /** Most bytes kept, all entries together. */
  readonly maxBytes: number;
  /** Blobs bigger than this are read through and never kept. */
  readonly maxEntryBytes: number;
}

/** Manifests and configs: a few thousand, of up to 4 MiB (the largest manifest a push may store). */
export const DEFAULT_BLOB_READ_CACHE: CachedBlobReadsOptions = { maxEntries: 4096, maxBytes: 32 * 1024 * 1024, maxEntryBytes: 4 * 1024 * 1024 };

/**
 * A blob store whose whole-blob reads (`read`: manifests and configs, through `readBlob`) are
 * kept in a bounded in-memory LRU by digest. A blob's bytes never change under its digest, so
 * an entry is never stale: whether a name may still serve a digest is decided by the metadata
 * before the bytes are read, and a blob deleted through this store leaves the cache at once.
 * Every other call goes to the inner store unchanged. Callers share the cached buffer and must
 * not change it (they parse it or send it).
 */
export class CachedBlobReads implements BlobStore {
  private readonly cache: LruMap<string, Buffer>;
  private hitCount = 0;
  private missCount = 0;
  readonly list?: (signal?: AbortSignal) => AsyncIterable<StoredBlob>;
  readonly delete?: (digest: string, options?: { readonly committedBefore?: number; readonly signal?: AbortSignal }) => Promise<boolean>;
  readonly openSized?: (digest: string, pick: (size: number) => ByteRange | null, signal?: AbortSignal) => Promise<SizedBlob | null>;

  constructor(
    private readonly inner: BlobStore,
    private readonly options: CachedBlobReadsOptions = DEFAULT_BLOB_READ_CACHE,
  ) {
    this.cache = new LruMap<string, Buffer>(options.maxBytes, (body) => body.length + 128, options.maxEntries);
    // The optional capabilities stay optional: garbage collection asks whether they exist.
    const { list, delete: remove, openSized } = inner;
    if (list) this.list = (signal) => list.call(inner, signal);
    if (remove) {
      this.delete = async (digest, deleteOptions) => {
        this.cache.delete(digest);
        return remove.call(inner, digest, deleteOptions);
      };
    }
    if (openSized) this.openSized = (digest, pick, signal) => openSized.call(inner, digest, pick, signal);
  }

  /** Reads answered from memory. */
  get hits(): number {
    return this.hitCount;
  }

  /** Reads that went to the inner store. */
  get misses(): number {
    return this.missCount;
  }

  /** What is kept: entries, bytes (bodies plus a per-entry overhead), entries forgotten. */
  get stats(): { readonly entries: number; readonly bytes: number; readonly evictions: number } {
    return { entries: this.cache.size, bytes: this.cache.weight, evictions: this.cache.evictions };
  }

  async read(digest: string, signal?: AbortSignal): Promise<Buffer> {
    const cached = this.cache.get(digest);
    if (cached !== undefined) {
      this.hitCount += 1;
      return cached;
    }
    this.missCount += 1;
    const body = this.inner.read ? await this.inner.read(digest, signal) : await collect(await this.inner.open(digest, undefined, signal));
    if (body.length <= this.options.maxEntryBytes) this.cache.set(digest, body);
    return body;
  }

  stat(digest: string, signal?: AbortSignal): Promise<BlobInfo | null> {
    return this.inner.stat(digest, signal);
  }

  open(digest: string, range?: ByteRange, signal?: AbortSignal): Promise<Readable> {
    return this.inner.open(digest, range, signal);
  }

  writer(signal?: AbortSignal): Promise<BlobWriter> {
    return this.inner.writer(signal);
  }

  redirectUrl(digest: string): Promise<string | null> {
    return this.inner.redirectUrl(digest);
  }
}

async function collect(stream: Readable): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}
