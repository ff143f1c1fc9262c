import type { Readable } from 'node:stream';
import type { BlobInfo, BlobStore, BlobWriter, ByteRange } from '../storage/types.js';

/**
 * A BlobStore that counts the bytes written through it, so a build can report "bytes written"
 * while a layer streams into the store. Reads pass straight through; nothing is buffered.
 * `bytesWritten` covers committed blobs plus writers still open (aborted ones drop out).
 */
export class CountingBlobStore implements BlobStore {
  private committed = 0;
  private readonly open_ = new Set<BlobWriter>();

  constructor(private readonly inner: BlobStore) {}

  get bytesWritten(): number {
    let total = this.committed;
    for (const writer of this.open_) total += writer.size;
    return total;
  }

  stat(digest: string, signal?: AbortSignal): Promise<BlobInfo | null> {
    return this.inner.stat(digest, signal);
  }

  open(digest: string, range?: ByteRange, signal?: AbortSignal): Promise<Readable> {
    return this.inner.open(digest, range, signal);
  }

  redirectUrl(digest: string): Promise<string | null> {
    return this.inner.redirectUrl(digest);
  }

  async writer(signal?: AbortSignal): Promise<BlobWriter> {
    const inner = await this.inner.writer(signal);
    this.open_.add(inner);
    const settle = (committed: boolean): void => {
      if (!this.open_.delete(inner)) return;
      if (committed) this.committed += inner.size;
    };
    return {
      stream: inner.stream,
      get size() {
        return inner.size;
      },
      commit: async (expectedDigest?: string) => {
        const info = await inner.commit(expectedDigest);
        settle(true);
        return info;
      },
      abort: async () => {
        settle(false);
        await inner.abort();
      },
    };
  }
}
