import { createHash, type Hash } from 'node:crypto';
import { Transform, type TransformCallback } from 'node:stream';
import { crc32Combine } from './crc32-combine.js';
import type { DeflateCompressors, DeflateResponse } from './deflate-workers.js';
import type { TarDigest } from './diff-id-stream.js';

/**
 * Uncompressed bytes per block. Blocks start at fixed offsets of the input, so the output does
 * not depend on how the input is chunked, nor on how many threads compress or in which order
 * they finish. Changing it changes the digest of every gzip layer over one block.
 */
export const GZIP_BLOCK_BYTES = 1024 * 1024;
/** Deflate's window: each block is compressed with the 32 KiB before it as preset dictionary. */
const DICTIONARY_BYTES = 32 * 1024;
/** Spare block buffers kept for reuse. */
const SPARE_BUFFERS = 2;

/** A block sent to a thread: its place in the shared budget is held until its output is written. */
interface InFlightBlock {
  response?: DeflateResponse;
  readonly length: number;
  readonly release: () => void;
}

/**
 * gzip, compressed in parallel and deterministic, as pigz does it: the input is cut into
 * {@link GZIP_BLOCK_BYTES} blocks, each compressed to raw deflate on a compressor thread with
 * the previous 32 KiB as dictionary and ending in a sync flush (the last one finishing the
 * stream), and the outputs are written in order inside one gzip member. The header is the one
 * Node's gzip writes (no mtime, no name, OS pinned to Unix); the trailer's CRC-32 is combined
 * from the threads' block CRCs.
 *
 * An input of at most one block is compressed in one call without dictionary, which gives
 * byte for byte what a single zlib gzip stream gives: small layers keep their digests.
 *
 * Memory: one block being filled, plus at most `maxInFlight` blocks at the threads or waiting
 * to be written out in order, each holding a place in the budget all streams share
 * (DeflateCompressors.reserve), which bounds the blocks in flight of every layer together.
 *
 * It also gives the layer's diff_id and size ({@link TarDigest}): each block is hashed whole,
 * once, just before it goes to a thread, which spares the tar stream a stage of its own (one
 * hash call and a stream hop per tar chunk, and the copy that batching them took).
 */
export class ParallelGzipStream extends Transform implements TarDigest {
  private buffer: ArrayBuffer;
  private dictionaryLength = 0;
  private filled = 0;
  private readonly inFlight: InFlightBlock[] = [];
  private readonly spare: ArrayBuffer[] = [];
  private waiters: Array<() => void> = [];
  private headerWritten = false;
  private crc = 0;
  private total = 0;
  private readonly maxInFlight: number;
  private readonly inputHash: Hash = createHash('sha256');
  private inputBytes = 0;
  private result: string | undefined;

  constructor(
    private readonly compressors: DeflateCompressors,
    private readonly level: number,
  ) {
    super({ readableHighWaterMark: GZIP_BLOCK_BYTES });
    // One more than the threads, so a thread is never idle while this stream waits on order.
    this.maxInFlight = compressors.size + 1;
    this.buffer = new ArrayBuffer(DICTIONARY_BYTES + GZIP_BLOCK_BYTES);
  }

  /** `sha256:<hex>` of the uncompressed input; available once the stream has been flushed. */
  get diffId(): string {
    if (this.result === undefined) throw new Error('diffId read before the tar stream ended');
    return this.result;
  }

  /** Uncompressed bytes taken in. */
  get size(): number {
    return this.inputBytes;
  }

  override _transform(chunk: Buffer, _encoding: BufferEncoding, callback: TransformCallback): void {
    this.inputBytes += chunk.length;
    if (this.filled + chunk.length < GZIP_BLOCK_BYTES) {
      // Most tar chunks (headers, small files) fit the current block: no promise, no wait.
      new Uint8Array(this.buffer, this.dictionaryLength + this.filled, chunk.length).set(chunk);
      this.filled += chunk.length;
      callback();
      return;
    }
    this.fill(chunk).then(() => callback(), callback);
  }

  override _flush(callback: TransformCallback): void {
    this.finish().then(() => callback(), callback);
  }

  override _read(size: number): void {
    super._read(size);
    // The reader took output: a dispatch waiting for the readable side to drain may go on.
    this.wake();
  }

  override _destroy(error: Error | null, callback: (error?: Error | null) => void): void {
    // Blocks still at a thread are dropped: their places go back to the streams that wait.
    for (const block of this.inFlight.splice(0)) block.release();
    this.wake();
    callback(error);
  }

  private async fill(chunk: Buffer): Promise<void> {
    let offset = 0;
    while (offset < chunk.length) {
      // A full block goes out only once more input follows, so the last one can finish the stream.
      if (this.filled === GZIP_BLOCK_BYTES) await this.dispatch(false);
      if (this.destroyed) return;
      const piece = Math.min(GZIP_BLOCK_BYTES - this.filled, chunk.length - offset);
      new Uint8Array(this.buffer, this.dictionaryLength + this.filled, piece).set(chunk.subarray(offset, offset + piece));
      this.filled += piece;
      offset += piece;
    }
  }

  private async finish(): Promise<void> {
    await this.dispatch(true);
    while (this.inFlight.length > 0 && !this.destroyed) await this.changed();
    if (this.destroyed) return;
    if (!this.headerWritten) this.writeHeader();
    const trailer = Buffer.alloc(8);
    trailer.writeUInt32LE(this.crc, 0);
    trailer.writeUInt32LE(this.total % 2 ** 32, 4);
    this.push(trailer);
  }

  /** Send the current block to a thread and start the next one, with this one's end as dictionary. */
  private async dispatch(last: boolean): Promise<void> {
    // Back-pressure: from the threads (blocks in flight) and from the reader (output not taken).
    while (!this.destroyed && (this.inFlight.length >= this.maxInFlight || this.readableLength >= this.readableHighWaterMark)) await this.changed();
    if (this.destroyed) return;
    const release = await this.compressors.reserve();
    if (this.destroyed) {
      release();
      return;
    }
    const buffer = this.buffer;
    // Before the buffer moves to the thread; blocks are dispatched in input order.
    this.inputHash.update(new Uint8Array(buffer, this.dictionaryLength, this.filled));
    if (last) this.result = `sha256:${this.inputHash.digest('hex')}`;
    const request = { buffer, dictionaryLength: this.dictionaryLength, length: this.filled, level: this.level, last };
    const entry: InFlightBlock = { length: this.filled, release };
    this.inFlight.push(entry);
    if (!last) {
      const end = this.dictionaryLength + this.filled;
      this.buffer = this.spare.pop() ?? new ArrayBuffer(DICTIONARY_BYTES + GZIP_BLOCK_BYTES);
      new Uint8Array(this.buffer).set(new Uint8Array(buffer, end - DICTIONARY_BYTES, DICTIONARY_BYTES));
      this.dictionaryLength = DICTIONARY_BYTES;
      this.filled = 0;
    }
    const ticket = await this.compressors.submit(request, [buffer]);
    ticket.result.then(
      (response) => {
        entry.response = response;
        this.writeReady();
      },
      (error: unknown) => this.destroy(error instanceof Error ? error : new Error(String(error))),
    );
  }

  /** Write out, in input order, every block whose output has come back. */
  private writeReady(): void {
    while (!this.destroyed) {
      const head = this.inFlight[0];
      if (!head?.response) break;
      this.inFlight.shift();
      const response = head.response;
      if (response.type === 'error') {
        head.release();
        this.destroy(new Error(`gzip compression failed: ${response.message}`));
        break;
      }
      if (this.spare.length < SPARE_BUFFERS) this.spare.push(response.input);
      if (!this.headerWritten) this.writeHeader();
      this.crc = this.total === 0 ? response.crc : crc32Combine(this.crc, response.crc, head.length);
      this.total += head.length;
      this.push(outputBytes(response));
      head.release();
    }
    this.wake();
  }

  /** The gzip header zlib writes: no mtime, no name, XFL from the level, OS 3 (Unix). */
  private writeHeader(): void {
    this.headerWritten = true;
    const extraFlags = this.level === 9 ? 2 : this.level < 2 ? 4 : 0;
    this.push(Buffer.from([0x1f, 0x8b, 8, 0, 0, 0, 0, 0, extraFlags, 3]));
  }

  private changed(): Promise<void> {
    return new Promise((resolve) => this.waiters.push(resolve));
  }

  private wake(): void {
    const waiters = this.waiters;
    this.waiters = [];
    for (const resolve of waiters) resolve();
  }
}

/**
 * A block's output as the bytes to push. The thread answers inside the buffer zlib wrote into,
 * about 1 MiB however little came out; a small output is copied, or a reader slower than the
 * threads would keep a whole buffer alive per block it has not taken yet (the readable side
 * counts bytes, not buffers).
 */
function outputBytes(response: Extract<DeflateResponse, { type: 'done' }>): Buffer {
  const { output, outputOffset, outputLength } = response;
  if (outputLength * 2 >= output.byteLength) return Buffer.from(output, outputOffset, outputLength);
  return Buffer.from(new Uint8Array(output, outputOffset, outputLength));
}
