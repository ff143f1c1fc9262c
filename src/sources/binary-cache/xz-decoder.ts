import { createRequire } from 'node:module';
import { Transform, type TransformCallback } from 'node:stream';

/**
 * The native half of lzma-native (liblzma) without its JS stream wrapper. That wrapper splits
 * every input chunk at each `YZ` byte pair, to find where concatenated .xz files meet, and
 * defers every callback through setImmediate; on incompressible data (one `YZ` per ~64 KiB)
 * that makes decoding several times slower than `xz -d`. NARs are single .xz streams, so this
 * decoder feeds liblzma whole chunks on libuv's thread pool and nothing else.
 */
interface NativeLzmaStream {
  streamDecoder_(memlimit: number | null, flags: number): void;
  setBufsize(size: number): number;
  /** Encode or decode `chunk` (null = finish), asynchronously on the thread pool when `async`. */
  code(chunk: Buffer | null, async: boolean): void;
  resetUnderlying(): void;
  /**
   * Called with output chunks; with the number of input chunks consumed; with `null` output when
   * the stream ended; or with an error.
   */
  bufferHandler: (buffer: Buffer | null, processedChunks: number | null | undefined, error: Error | null | undefined) => void;
}

const lzma = createRequire(import.meta.url)('lzma-native') as { Stream: new () => NativeLzmaStream };

/** A streaming .xz decoder; fails on corrupt or truncated input (liblzma's own checks, CRC included). */
export class XzDecoder extends Transform {
  private native: NativeLzmaStream | undefined = new lzma.Stream();
  private readonly pending: TransformCallback[] = [];
  private flushed: TransformCallback | undefined;
  private ended = false;

  constructor(options: { memlimit: number; outputBytes: number }) {
    super();
    const native = this.native as NativeLzmaStream;
    native.streamDecoder_(options.memlimit, 0);
    native.setBufsize(options.outputBytes);
    native.bufferHandler = (buffer, processedChunks, error) => {
      if (this.native === undefined) return;
      if (error) {
        this.destroy(error);
      } else if (typeof processedChunks === 'number') {
        for (const callback of this.pending.splice(0, processedChunks)) callback();
      } else if (buffer === null) {
        this.ended = true;
        const flushed = this.flushed;
        this.flushed = undefined;
        flushed?.();
      } else {
        this.push(buffer);
      }
    };
  }

  override _transform(chunk: Buffer, _encoding: BufferEncoding, callback: TransformCallback): void {
    if (this.ended) {
      callback(new Error('data after the end of the xz stream'));
      return;
    }
    this.pending.push(callback);
    this.native?.code(chunk, true);
  }

  override _flush(callback: TransformCallback): void {
    if (this.ended) {
      callback();
      return;
    }
    this.flushed = callback;
    this.pending.push(() => undefined);
    this.native?.code(null, true);
  }

  override _destroy(error: Error | null, callback: (error?: Error | null) => void): void {
    const native = this.native;
    this.native = undefined;
    try {
      native?.resetUnderlying();
    } catch {
      // Already torn down.
    }
    callback(error);
  }
}
