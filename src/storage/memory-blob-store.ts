import { Readable, Writable } from 'node:stream';
import type { BlobInfo, BlobStore, BlobWriter, ByteRange, StoredBlob } from './types.js';
import { BlobNotFoundError, DigestMismatchError } from './errors.js';
import { assertRangeWithin } from './range.js';
import { Sha256 } from '../oci/digest.js';

/** Blobs in memory: for unit tests and benchmarks, never for serving. */
export class MemoryBlobStore implements BlobStore {
  private readonly blobs = new Map<string, Buffer>();
  /** When each blob was last committed (epoch ms), for `list` and `delete`. */
  private readonly committedAt = new Map<string, number>();

  /** The clock for commit times; tests may replace it. */
  constructor(private readonly now: () => number = Date.now) {}

  async stat(digest: string): Promise<BlobInfo | null> {
    const blob = this.blobs.get(digest);
    return blob ? { digest, size: blob.length } : null;
  }

  async open(digest: string, range?: ByteRange): Promise<Readable> {
    const blob = this.blobs.get(digest);
    if (!blob) throw new BlobNotFoundError(digest);
    if (!range) return Readable.from([blob]);
    assertRangeWithin(range, blob.length);
    return Readable.from([blob.subarray(range.start, range.end + 1)]);
  }

  async writer(): Promise<BlobWriter> {
    return new MemoryBlobWriter(this.blobs, (digest) => this.committedAt.set(digest, this.now()));
  }

  async redirectUrl(): Promise<string | null> {
    return null;
  }

  async *list(): AsyncIterable<StoredBlob> {
    for (const [digest, blob] of [...this.blobs]) yield { digest, size: blob.length, committedAt: this.committedAt.get(digest) ?? 0 };
  }

  async delete(digest: string, options: { readonly committedBefore?: number } = {}): Promise<boolean> {
    if (!this.blobs.has(digest)) return false;
    if (options.committedBefore !== undefined && (this.committedAt.get(digest) ?? 0) >= options.committedBefore) return false;
    this.blobs.delete(digest);
    this.committedAt.delete(digest);
    return true;
  }

  /** Digests of every committed blob, for assertions in tests. */
  digests(): string[] {
    return [...this.blobs.keys()].sort();
  }
}

class MemoryBlobWriter implements BlobWriter {
  private readonly chunks: Buffer[] = [];
  private readonly hash = new Sha256();
  private bytes = 0;
  private committed: BlobInfo | undefined;
  readonly stream: Writable;

  constructor(
    private readonly blobs: Map<string, Buffer>,
    private readonly onCommit: (digest: string) => void = () => undefined,
  ) {
    this.stream = new Writable({
      write: (chunk: Buffer, _encoding, callback) => {
        this.chunks.push(chunk);
        this.hash.update(chunk);
        this.bytes += chunk.length;
        callback();
      },
    });
  }

  get size(): number {
    return this.bytes;
  }

  async commit(expectedDigest?: string): Promise<BlobInfo> {
    this.committed ??= { digest: this.hash.digest(), size: this.bytes };
    const { digest } = this.committed;
    if (expectedDigest !== undefined && expectedDigest !== digest) {
      throw new DigestMismatchError(expectedDigest, digest);
    }
    if (!this.blobs.has(digest)) this.blobs.set(digest, Buffer.concat(this.chunks));
    this.onCommit(digest);
    return { digest, size: this.bytes };
  }

  async abort(): Promise<void> {
    this.chunks.length = 0;
  }
}
