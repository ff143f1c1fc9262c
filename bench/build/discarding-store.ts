import { Writable } from 'node:stream';
import { Sha256 } from '../../src/oci/digest.js';
import { MemoryBlobStore } from '../../src/storage/memory-blob-store.js';
import type { BlobInfo, BlobWriter } from '../../src/storage/types.js';

/**
 * A blob store that hashes and counts what is written and keeps none of it: the benchmark's
 * counterpart of `| wc -c` after the reference pipelines, so that neither side pays for
 * storage and the peak RSS measured is the build's, not a gigabyte of kept blobs.
 */
export class DiscardingBlobStore extends MemoryBlobStore {
  override async writer(): Promise<BlobWriter> {
    const hash = new Sha256();
    let bytes = 0;
    const stream = new Writable({
      write(chunk: Buffer, _encoding, callback) {
        hash.update(chunk);
        bytes += chunk.length;
        callback();
      },
    });
    let committed: BlobInfo | undefined;
    return {
      stream,
      get size() {
        return bytes;
      },
      async commit(): Promise<BlobInfo> {
        committed ??= { digest: hash.digest(), size: bytes };
        return committed;
      },
      async abort(): Promise<void> {},
    };
  }
}
