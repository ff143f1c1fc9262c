import type { Transform } from 'node:stream';
import { sharedDeflateWorkers, type DeflateCompressors } from './deflate-workers.js';
import { DiffIdStream, type TarDigest } from './diff-id-stream.js';
import { ParallelGzipStream } from './parallel-gzip-stream.js';
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
 * same output bytes however they are chunked and however many threads compress, and nothing in
 * the output depends on time, file names or the platform. Digests do depend on the zlib and
 * zstd library versions, which the golden-digest test pins.
 * @param gzipCompressors The threads gzip blocks go to (default: one shared pool per process).
 * @throws RangeError on an invalid level (see {@link compressionLevel}).
 */
export function createCompressor(compression: LayerCompression, level?: number, gzipCompressors?: DeflateCompressors): Transform[] {
  const chosen = compressionLevel(compression, level);
  if (compression === 'zstd') {
    // Single-threaded zstd (nbWorkers 0), though on a worker thread: multi-threaded zstd
    // emits different bytes. The content checksum is on, as with the zstd command line tool.
    return [new ZstdWorkerStream([['compressionLevel', chosen], ['checksumFlag', 1], ['nbWorkers', 0]])];
  }
  // Blocks compressed on several threads, concatenated in order into one gzip member.
  return [new ParallelGzipStream(gzipCompressors ?? sharedDeflateWorkers(), chosen)];
}

/**
 * The stages a layer's tar stream goes through, in order, and where its diff_id comes from:
 * the gzip stream hashes its blocks itself; zstd is preceded by a {@link DiffIdStream}.
 * @throws RangeError on an invalid level (see {@link compressionLevel}).
 */
export function createLayerStages(
  compression: LayerCompression,
  level?: number,
  gzipCompressors?: DeflateCompressors,
): { readonly stages: Transform[]; readonly tar: TarDigest } {
  if (compression === 'gzip') {
    const gzip = new ParallelGzipStream(gzipCompressors ?? sharedDeflateWorkers(), compressionLevel(compression, level));
    return { stages: [gzip], tar: gzip };
  }
  const diff = new DiffIdStream();
  return { stages: [diff, ...createCompressor(compression, level, gzipCompressors)], tar: diff };
}
