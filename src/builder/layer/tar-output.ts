import { Readable } from 'node:stream';
import { END_OF_ARCHIVE, encodeTarHeader, tarPadding, type TarHeader } from './tar-header.js';

/** Bytes buffered on the readable side before writers wait for the reader. */
const HIGH_WATER_MARK = 256 * 1024;

/**
 * The readable side of a layer's tar: headers, contents and padding are pushed as they come,
 * with no stream per entry. Writers call {@link TarOutput.room} after pushing and wait when it
 * says so, which carries the reader's back-pressure to them. One writer at a time (entries are
 * written in order).
 */
export class TarOutput extends Readable {
  private waiting: { resolve: () => void; reject: (error: unknown) => void } | undefined;
  private finalized = false;

  constructor() {
    super({ highWaterMark: HIGH_WATER_MARK });
  }

  /** Push an entry's header and, when given, its whole content and padding. */
  entry(header: TarHeader, content?: Buffer): void {
    this.push(encodeTarHeader(header));
    if (content && content.length > 0) {
      this.push(content);
      this.pad(content.length);
    }
  }

  /** Push a piece of the current entry's content (streamed files). */
  content(chunk: Buffer): void {
    this.push(chunk);
  }

  /** End the current entry's content, `size` bytes in all, with its padding. */
  pad(size: number): void {
    const padding = tarPadding(size);
    if (padding.length > 0) this.push(padding);
  }

  /**
   * Resolves at once while the reader keeps up, else when it has taken enough; rejects when
   * the stream is destroyed or `signal` aborts first.
   */
  room(signal: AbortSignal): Promise<void> {
    if (this.destroyed) return Promise.reject(new Error('tar stream closed while writing'));
    signal.throwIfAborted();
    if (this.readableLength < this.readableHighWaterMark) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const onAbort = (): void => this.settle(signal.reason);
      signal.addEventListener('abort', onAbort, { once: true });
      this.waiting = {
        resolve: () => {
          signal.removeEventListener('abort', onAbort);
          resolve();
        },
        reject: (error) => {
          signal.removeEventListener('abort', onAbort);
          reject(error);
        },
      };
    });
  }

  /** End the archive: two zero blocks, then the end of the stream. */
  finalize(): void {
    if (this.finalized) return;
    this.finalized = true;
    this.push(END_OF_ARCHIVE);
    this.push(null);
  }

  override _read(): void {
    this.settle();
  }

  override _destroy(error: Error | null, callback: (error?: Error | null) => void): void {
    this.settle(error ?? new Error('tar stream closed while writing'));
    callback(error);
  }

  private settle(error?: unknown): void {
    const waiting = this.waiting;
    this.waiting = undefined;
    if (!waiting) return;
    if (error === undefined) waiting.resolve();
    else waiting.reject(error);
  }
}
