import { Transform, type Duplex, type TransformCallback } from 'node:stream';
import { createBrotliDecompress, createGunzip } from 'node:zlib';
import bz2 from 'unbzip2-stream';
import { DecompressStream } from 'zstd-napi';
import type { NarCompression } from './nar-info.js';
import { XzDecoder } from './xz-decoder.js';

/** Memory the xz decoder may use: NARs are compressed with presets up to -9 (64 MiB window). */
const XZ_MEMLIMIT = 256 * 1024 * 1024;
/** Limits for the worker-thread decoders (NarDecoderStream), the same as the ones here. */
export const DECODER_LIMITS = { zstdWindowLogMax: 27, xzMemlimit: 256 * 1024 * 1024, xzOutputBytes: 256 * 1024 } as const;

/** Input and output chunk sizes for the xz decoder (see createNarDecompressor). */
const XZ_INPUT_BYTES = 1024 * 1024;
const XZ_OUTPUT_BYTES = 1024 * 1024;
/** zstd windows up to 2^27 (128 MiB), zstd's own default limit; larger ones are refused. */
const ZSTD_WINDOW_LOG_MAX = 27;

/**
 * The decompressing streams for a narinfo's `Compression:` (none for `none`): xz through
 * liblzma (lzma-native's native binding, see XzDecoder), zstd through libzstd (zstd-napi), bzip2 through unbzip2-stream, gzip
 * and brotli through Node's zlib. Every decoder fails on truncated input rather than ending
 * early, so a cut-off download surfaces as an error even before the NarHash check.
 */
export function createNarDecompressor(compression: NarCompression): Duplex[] {
  switch (compression) {
    case 'none':
      return [];
    case 'xz':
      // A thread-pool round trip per chunk: big chunks in and out (small HTTP chunks would make
      // decoding several times slower).
      return [new Coalesce(XZ_INPUT_BYTES), new XzDecoder({ memlimit: XZ_MEMLIMIT, outputBytes: XZ_OUTPUT_BYTES })];
    case 'zstd':
      return [new DecompressStream({ windowLogMax: ZSTD_WINDOW_LOG_MAX })];
    case 'bzip2':
      return [new Bzip2Decompressor()];
    case 'gzip':
      return [createGunzip()];
    case 'br':
      return [createBrotliDecompress()];
  }
}

/** Gathers small chunks into chunks of at least `minBytes` (the last one may be smaller). */
class Coalesce extends Transform {
  private pending: Buffer[] = [];
  private pendingBytes = 0;

  constructor(private readonly minBytes: number) {
    super();
  }

  override _transform(chunk: Buffer, _encoding: BufferEncoding, callback: TransformCallback): void {
    if (this.pendingBytes === 0 && chunk.length >= this.minBytes) {
      callback(null, chunk);
      return;
    }
    this.pending.push(chunk);
    this.pendingBytes += chunk.length;
    if (this.pendingBytes >= this.minBytes) this.push(this.gather());
    callback();
  }

  override _flush(callback: TransformCallback): void {
    callback(null, this.pendingBytes > 0 ? this.gather() : undefined);
  }

  private gather(): Buffer {
    const out = Buffer.concat(this.pending, this.pendingBytes);
    this.pending = [];
    this.pendingBytes = 0;
    return out;
  }
}

/**
 * unbzip2-stream is an old-style `through` stream; this wraps it in a Node Transform so it
 * takes part in pipeline() and destroy() like the other decoders.
 */
class Bzip2Decompressor extends Transform {
  private readonly inner = bz2();
  private failure: Error | undefined;
  private ended: (() => void) | undefined;

  constructor() {
    super();
    this.inner.on('data', (chunk: Buffer) => this.push(chunk));
    this.inner.on('error', (error: Error) => {
      this.failure = error;
      this.destroy(error);
    });
    this.inner.on('end', () => this.ended?.());
  }

  override _transform(chunk: Buffer, _encoding: BufferEncoding, callback: TransformCallback): void {
    this.inner.write(chunk);
    callback(this.failure);
  }

  override _flush(callback: TransformCallback): void {
    this.ended = () => callback(this.failure);
    this.inner.end();
  }
}

/**
 * Counts the compressed bytes on their way to the decoder and fails as soon as more than the
 * narinfo's FileSize arrive, or at the end when fewer did: a cut-off download is reported as
 * such, before the decoder's own complaint. FileHash is deliberately not computed: signatures
 * do not cover it, and the NAR's signed NarHash, checked on every read, already catches any
 * corruption of the compressed file; hashing it too would only cost a second SHA-256 pass.
 */
export class CompressedSizeCheck extends Transform {
  private bytes = 0;

  constructor(
    private readonly expectedSize: number,
    private readonly describe: (reason: string) => Error,
  ) {
    super();
  }

  override _transform(chunk: Buffer, _encoding: BufferEncoding, callback: TransformCallback): void {
    this.bytes += chunk.length;
    if (this.bytes > this.expectedSize) {
      callback(this.describe(`the compressed NAR is larger than its FileSize ${this.expectedSize}`));
      return;
    }
    callback(null, chunk);
  }

  override _flush(callback: TransformCallback): void {
    if (this.bytes !== this.expectedSize) {
      callback(this.describe(`the compressed NAR has ${this.bytes} bytes, its FileSize is ${this.expectedSize} (truncated?)`));
      return;
    }
    callback();
  }
}
