/**
 * Store paths and synthetic entries → deterministic, compressed OCI layer blobs, streaming.
 */
export {
  writeRootFsLayer,
  writeStorePathLayer,
  type RootFsLayerOptions,
  writeSyntheticLayer,
  type LayerBlob,
  type LayerOutputOptions,
  type StorePathLayerOptions,
  type SyntheticLayerOptions,
} from './write-layer.js';
export { DEFAULT_COMPRESSION_LEVEL, type LayerCompression } from './compression.js';
export { DeflateWorkers, type DeflateCompressors } from './deflate-workers.js';
export { GZIP_BLOCK_BYTES } from './parallel-gzip-stream.js';
export type { SyntheticEntry } from './synthetic-entries.js';
