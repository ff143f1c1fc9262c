import { Transform, type TransformCallback } from 'node:stream';
import { constants as zlibConstants, createGzip } from 'node:zlib';
import { ZstdWorkerStream } from './zstd-worker-stream.js';

/** How a layer's tarball is compressed; the lead maps this to a media type. */
import type { LayerCompression } from '../../oci/media-types.js';

export type { LayerCompression };

/** Compression levels used when none is given: those of `gzip` and `zstd` on the command line. */
export const DEFAULT_COMPRESSION_LEVEL: Readonly<Record<LayerCompression, number>> = { gzip: 6, zstd: 3 };

const LEVEL_RANGE: Readonly<Record<LayerCompression, readonly [number, number]>> = {
  gzip: [0, 9],
  zstd: [1, 19],
};

/**
 * Output chunk size of the gzip stream. Larger than zlib's 16 KiB default so that fewer,
 * bigger chunks reach the blob writer's hash and stream.
 */
const GZIP_CHUNK_BYTES = 64 * 1024;

/** Byte offset of the OS field in a gzip header (RFC 1952). */
const GZIP_OS_OFFSET = 9;
/** "Unix", what zlib writes on Linux: pinned so digests don't depend on the build platform. */
const GZIP_OS_UNIX = 3;

/**
 * The level to use for `compression`, checked.
 * @throws RangeError when `level` is not an integer in the range the format supports here.
 */
export function compressionLevel(compression: LayerCompression, level?: number): number {
  const chosen = level ?? DEFAULT_COMPRESSION_LEVEL[compression];
  const [min, max] = LEVEL_RANGE[compression];
  if (!Number.isInteger(chosen) || chosen < min || chosen > max) {
    throw new RangeError(`${compression} level must be an integer from ${min} to ${max}, got ${chosen}`);
  }
  return chosen;
}

/**
 * Deterministic compressing transforms, to be piped in order: the same input bytes give the
 * same output bytes however they are chunked, and nothing in the output depends on time,
 * file names or the platform. Digests do depend on the zlib and zstd library versions, which
 * the golden-digest test pins.
 * @throws RangeError on an invalid level (see {@link compressionLevel}).
 */
export function createCompressor(compression: LayerCompression, level?: number): Transform[] {
  const chosen = compressionLevel(compression, level);
  if (compression === 'zstd') {
    // Single-threaded zstd (nbWorkers 0), though on a worker thread: multi-threaded zstd
    // emits different bytes. The content checksum is on, as with the zstd command line tool.
    return [new ZstdWorkerStream([['compressionLevel', chosen], ['checksumFlag', 1], ['nbWorkers', 0]])];
  }
  // Node's gzip header carries no mtime and no file name; only the OS byte needs pinning.
  const gzip = createGzip({ level: chosen, chunkSize: GZIP_CHUNK_BYTES, strategy: zlibConstants.Z_DEFAULT_STRATEGY });
  return [gzip, new GzipOsByte()];
}

/** Rewrites the gzip header's OS byte, which zlib sets from the platform it was built for. */
class GzipOsByte extends Transform {
  private offset = 0;

  override _transform(chunk: Buffer, _encoding: BufferEncoding, callback: TransformCallback): void {
    if (this.offset <= GZIP_OS_OFFSET && this.offset + chunk.length > GZIP_OS_OFFSET) {
      chunk = Buffer.from(chunk);
      chunk[GZIP_OS_OFFSET - this.offset] = GZIP_OS_UNIX;
    }
    this.offset += chunk.length;
    callback(null, chunk);
  }
}
