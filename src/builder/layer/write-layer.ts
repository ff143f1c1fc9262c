import { pipeline } from 'node:stream/promises';
import type { RootFsReader, StoreReader } from '../../sources/types.js';
import type { BlobStore } from '../../storage/types.js';
import { compressionLevel, createLayerStages, type LayerCompression } from './compression.js';
import type { DeflateCompressors } from './deflate-workers.js';
import { rootFsTarEntries } from './root-fs-entries.js';
import { sortStorePaths, storePathTarEntries } from './store-path-entries.js';
import { syntheticTarEntries, type SyntheticEntry } from './synthetic-entries.js';
import type { TarEntry } from './tar-entry.js';
import { TarOutput } from './tar-output.js';
import { writeTarEntries } from './tar-writer.js';

/** A committed layer blob and what an image config and manifest need to know about it. */
export interface LayerBlob {
  /** `sha256:<hex>` of the compressed blob, as committed to the blob store. */
  readonly digest: string;
  /** `sha256:<hex>` of the uncompressed tar (the image config's `rootfs.diff_ids`). */
  readonly diffId: string;
  /** Compressed size in bytes. */
  readonly size: number;
  /** Uncompressed tar size in bytes. */
  readonly uncompressedSize: number;
  readonly compression: LayerCompression;
}

/** Where a layer goes and how it is compressed. */
export interface LayerOutputOptions {
  readonly compression: LayerCompression;
  /** gzip 0–9 (default 6) or zstd 1–19 (default 3). */
  readonly level?: number;
  readonly store: BlobStore;
  /** The threads gzip blocks are compressed on (default: one pool per process, one per core). */
  readonly gzipCompressors?: DeflateCompressors;
  /** Aborting discards the staged blob; the returned promise rejects with the signal's reason. */
  readonly signal?: AbortSignal;
}

/** Options of {@link writeStorePathLayer}. */
export interface StorePathLayerOptions extends LayerOutputOptions {
  readonly reader: StoreReader;
  /** Store paths of the layer, `/nix/store/<name>`; written in byte order, duplicates once. */
  readonly storePaths: readonly string[];
}

/** Options of {@link writeRootFsLayer}. */
export interface RootFsLayerOptions extends LayerOutputOptions {
  readonly reader: RootFsReader;
  /** Closure paths (packages) of the layer; written in byte order, duplicates once. */
  readonly paths: readonly string[];
}

/** Options of {@link writeSyntheticLayer}. */
export interface SyntheticLayerOptions extends LayerOutputOptions {
  readonly entries: readonly SyntheticEntry[];
}

/**
 * Build the layer of `storePaths` (`nix/`, `nix/store/`, then every store path in NAR order
 * with normalised modes, mtime 1, owner 0:0 and content-based hard links) and commit it to
 * `store`, streaming: reading, tar encoding, hashing and compression all overlap, and memory
 * stays bounded whatever the layer's size. The same store paths always give the same digest.
 * @throws Error on a path not directly under `/nix/store` and RangeError on an invalid level,
 *   before anything is staged; the reader's and the store's errors; the signal's reason on
 *   abort. On any failure the staged blob is aborted and nothing is committed.
 */
export function writeStorePathLayer(options: StorePathLayerOptions): Promise<LayerBlob> {
  const { reader } = options;
  let storePaths: string[];
  try {
    storePaths = sortStorePaths(options.storePaths);
  } catch (err) {
    return Promise.reject(err);
  }
  return writeLayer((signal) => storePathTarEntries(reader, storePaths, signal), true, options);
}

/**
 * Build the layer of root-filesystem packages (files at their real paths, see
 * rootFsTarEntries), streaming and committed like {@link writeStorePathLayer}; the same
 * packages always give the same digest.
 */
export function writeRootFsLayer(options: RootFsLayerOptions): Promise<LayerBlob> {
  const { reader, paths } = options;
  return writeLayer((signal) => rootFsTarEntries(reader, paths, signal), false, options);
}

/**
 * Build a layer of synthetic entries (an image's top layer: symlinks into the store, `/tmp`,
 * `/etc/passwd`, ...) in tree order, with missing parents added as 0755 directories.
 * @throws Error on invalid entries, before anything is written; otherwise as
 *   {@link writeStorePathLayer}.
 */
export function writeSyntheticLayer(options: SyntheticLayerOptions): Promise<LayerBlob> {
  let entries: TarEntry[];
  try {
    entries = syntheticTarEntries(options.entries);
  } catch (err) {
    return Promise.reject(err);
  }
  return writeLayer(() => entries, false, options);
}

type EntrySource = (signal: AbortSignal) => AsyncIterable<TarEntry> | Iterable<TarEntry>;

async function writeLayer(source: EntrySource, hardLinks: boolean, options: LayerOutputOptions): Promise<LayerBlob> {
  const { compression, store, signal } = options;
  const level = compressionLevel(compression, options.level);
  signal?.throwIfAborted();
  const writer = await store.writer(signal);
  // One controller for everything in flight: the first failure, wherever it happens, stops
  // the reader, the tar encoder and the pipeline, and is the error reported.
  const controller = new AbortController();
  let firstError: unknown;
  const fail = (err: unknown): void => {
    if (controller.signal.aborted) return;
    firstError = err;
    controller.abort(err);
  };
  const onAbort = (): void => fail(signal?.reason);
  signal?.addEventListener('abort', onAbort, { once: true });
  try {
    if (signal?.aborted) fail(signal.reason);
    const tar = new TarOutput();
    const { stages, tar: diff } = createLayerStages(compression, level, options.gzipCompressors);
    const produce = writeTarEntries(tar, source(controller.signal), { hardLinks, signal: controller.signal }).catch((err: unknown) => {
      fail(err);
      tar.destroy(err instanceof Error ? err : new Error(String(err)));
    });
    const consume = pipeline([tar, ...stages, writer.stream], {
      signal: controller.signal,
    }).catch(fail);
    await Promise.all([produce, consume]);
    if (controller.signal.aborted) throw firstError;
    const blob = await writer.commit();
    return { digest: blob.digest, diffId: diff.diffId, size: blob.size, uncompressedSize: diff.size, compression };
  } catch (err) {
    // The build's error is the one worth reporting; a failing cleanup must not replace it.
    await writer.abort().catch(() => undefined);
    throw err;
  } finally {
    signal?.removeEventListener('abort', onAbort);
  }
}
