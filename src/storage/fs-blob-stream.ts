import { Readable } from 'node:stream';
import type { FileHandle } from 'node:fs/promises';
import type { BufferReusingBody } from './types.js';
import type { CopyBufferBudget } from './copy-buffer-budget.js';

/**
 * A byte range of an open file as a Readable that, when piped into the one destination it was
 * told may have them (`reuseBuffersFor`: the registry names its HTTP/1 response, whose write
 * callback fires once the socket took the bytes), reads into the same two buffers again and
 * again: a buffer is read into again only once that write callback said the bytes it held were
 * handed on. Piped anywhere else (a hashing Transform keeps the chunk in its readable buffer
 * after its write callback, so a reused buffer would change bytes not yet written: an OCI-layout
 * copy wrote such bytes under the right digest), it allocates per chunk. A read
 * stream allocates a new buffer per read instead; serving a 200 MiB blob in 256 KiB reads made
 * 800 short-lived external buffers, and the external memory they count against the heap drove
 * V8 into major collections: on the machine of docs/performance.md, marking and sweeping were
 * the largest items of a profile, and the server spent 2.4–2.7 CPU seconds per GiB served
 * against distribution's 0.44. With two buffers, one read is in flight while the other's bytes
 * are being written.
 *
 * Read any other way (`data` events, async iteration), it reads into a new buffer per chunk, as
 * a read stream does. Destroying it (fastify does when the client goes away) stops the copy and
 * closes the file once no read is in flight.
 */
export class FileRangeStream extends Readable implements BufferReusingBody {
  private position: number;
  /** The destination vouched for by `reuseBuffersFor`, the only one copied to with reused buffers. */
  private reuseDestination: NodeJS.WritableStream | null = null;
  private remaining: number;
  private copying = false;
  private reading: Promise<unknown> = Promise.resolve();
  /** Settles the write being waited for when the stream is destroyed, so the copy stops. */
  private stopWaiting: (() => void) | null = null;
  /** How many buffers this stream allocated, and their bytes (tests count them). */
  buffersAllocated = 0;
  bytesAllocated = 0;

  constructor(
    private readonly handle: FileHandle,
    start: number,
    length: number,
    private readonly readBytes: number,
    signal?: AbortSignal,
    /** Sizes the two buffers of a copy to the vouched destination; without one they are `readBytes`. */
    private readonly copyBuffers?: CopyBufferBudget,
  ) {
    super({ highWaterMark: readBytes, ...(signal ? { signal } : {}) });
    this.position = start;
    this.remaining = length;
  }

  /** See BufferReusingBody: `destination` is done with a chunk when its write callback fires. */
  reuseBuffersFor(destination: NodeJS.WritableStream): void {
    this.reuseDestination = destination;
  }

  override pipe<T extends NodeJS.WritableStream>(destination: T, options?: { end?: boolean }): T {
    // Only a fresh stream copies with reused buffers, and only to the destination vouched for;
    // one already flowing goes on as it was.
    if (destination !== this.reuseDestination || this.copying || this.readableDidRead || this.readableFlowing !== null || this.destroyed) return super.pipe(destination, options);
    this.copying = true;
    this.copyTo(destination, options?.end !== false).catch((error: unknown) => {
      // A client that went away fails the pending write; the stream was destroyed already.
      if (!this.destroyed) this.destroy(error as Error);
    });
    return destination;
  }

  override _read(): void {
    if (this.copying) return;
    const length = Math.min(this.readBytes, this.remaining);
    if (length === 0) {
      this.push(null);
      return;
    }
    const buffer = this.allocate(length);
    this.track(this.readInto(buffer, length)).then(
      (chunk) => {
        if (!this.destroyed) this.push(chunk);
      },
      (error: unknown) => this.destroy(error as Error),
    );
  }

  override _destroy(error: Error | null, callback: (error?: Error | null) => void): void {
    this.stopWaiting?.();
    // The file is closed only when no read uses it any more.
    this.reading
      .catch(() => undefined)
      .then(() => this.handle.close())
      .then(
        () => callback(error),
        (closeError: unknown) => callback(error ?? (closeError as Error)),
      );
  }

  private async copyTo(destination: NodeJS.WritableStream, end: boolean): Promise<void> {
    const taken = this.copyBuffers?.take() ?? this.readBytes;
    try {
      await this.copyWith(Math.min(taken, this.remaining), destination, end);
    } finally {
      this.copyBuffers?.release(taken);
    }
  }

  private async copyWith(size: number, destination: NodeJS.WritableStream, end: boolean): Promise<void> {
    const buffers = size === 0 ? [] : [this.allocate(size), this.allocate(size)];
    // Settles with the write's error rather than rejecting: it is awaited only after the next read.
    let pendingWrite: Promise<Error | null> = Promise.resolve(null);
    let next = 0;
    while (this.remaining > 0) {
      const buffer = buffers[next] as Buffer;
      next = 1 - next;
      const chunk = await this.track(this.readInto(buffer, Math.min(size, this.remaining)));
      // The other buffer may be read into only once its bytes were written.
      const failed = await pendingWrite;
      if (failed) throw failed;
      if (this.destroyed) return;
      pendingWrite = this.write(destination, chunk);
    }
    const failed = await pendingWrite;
    if (failed) throw failed;
    if (this.destroyed) return;
    if (end) destination.end();
    // Ends the Readable side too, so whoever waits for its end (fastify does) sees it.
    this.push(null);
    this.resume();
  }

  private async readInto(buffer: Buffer, length: number): Promise<Buffer> {
    let filled = 0;
    while (filled < length) {
      const { bytesRead } = await this.handle.read(buffer, filled, length - filled, this.position + filled);
      if (bytesRead === 0) throw new Error(`blob file ended ${this.remaining - filled} bytes early`);
      filled += bytesRead;
    }
    this.position += length;
    this.remaining -= length;
    return length === buffer.length ? buffer : buffer.subarray(0, length);
  }

  /**
   * Write `chunk`; settles when the destination has handed its bytes on (with its error if it
   * failed), or when this stream is destroyed.
   */
  private write(destination: NodeJS.WritableStream, chunk: Buffer): Promise<Error | null> {
    return new Promise((resolve) => {
      this.stopWaiting = () => resolve(null);
      destination.write(chunk, (error?: Error | null) => {
        this.stopWaiting = null;
        resolve(error ?? null);
      });
    });
  }

  private track<T>(read: Promise<T>): Promise<T> {
    this.reading = read;
    return read;
  }

  private allocate(length: number): Buffer {
    this.buffersAllocated += 1;
    this.bytesAllocated += length;
    return Buffer.allocUnsafeSlow(length);
  }
}
