import { createHash } from 'node:crypto';
import { Transform, type TransformCallback } from 'node:stream';

/**
 * Chunks smaller than this are gathered before being passed on. A tar stream is mostly
 * 512-byte headers and small files, and every chunk handed to the compressor costs a
 * cross-thread round trip (zlib's thread pool, the zstd worker), so batching them is what
 * keeps compression close to `tar | gzip` speed.
 */
const BATCH_BYTES = 512 * 1024;

/** The layer's diff_id (sha256 of the uncompressed tar) and size, once the tar has ended. */
export interface TarDigest {
  /** `sha256:<hex>`; throws before the tar stream has ended. */
  readonly diffId: string;
  readonly size: number;
}

/**
 * Pass-through stage between the tar encoder and the compressor: computes the layer's diffId
 * (sha256 of the uncompressed tar) and size on the way, and batches small chunks.
 */
export class DiffIdStream extends Transform implements TarDigest {
  private readonly hash = createHash('sha256');
  private bytes = 0;
  private pending: Buffer[] = [];
  private pendingBytes = 0;
  private result: string | undefined;

  constructor() {
    super({ writableHighWaterMark: BATCH_BYTES, readableHighWaterMark: BATCH_BYTES });
  }

  /** `sha256:<hex>` of everything that passed through; available once the stream has ended. */
  get diffId(): string {
    if (this.result === undefined) throw new Error('diffId read before the tar stream ended');
    return this.result;
  }

  /** Uncompressed tar size in bytes. */
  get size(): number {
    return this.bytes;
  }

  override _transform(chunk: Buffer, _encoding: BufferEncoding, callback: TransformCallback): void {
    this.hash.update(chunk);
    this.bytes += chunk.length;
    if (this.pendingBytes === 0 && chunk.length >= BATCH_BYTES) {
      callback(null, chunk);
      return;
    }
    this.pending.push(chunk);
    this.pendingBytes += chunk.length;
    if (this.pendingBytes >= BATCH_BYTES) this.push(this.takePending());
    callback();
  }

  override _flush(callback: TransformCallback): void {
    this.result = `sha256:${this.hash.digest('hex')}`;
    callback(null, this.pendingBytes > 0 ? this.takePending() : undefined);
  }

  private takePending(): Buffer {
    const batch = this.pending.length === 1 ? (this.pending[0] as Buffer) : Buffer.concat(this.pending, this.pendingBytes);
    this.pending = [];
    this.pendingBytes = 0;
    return batch;
  }
}
