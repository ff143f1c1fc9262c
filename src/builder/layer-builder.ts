import { createHash } from 'node:crypto';
import type { Layer } from '../layering/types.js';
import type { RootFsReader, StoreReader } from '../sources/types.js';
import type { BlobStore } from '../storage/types.js';
import type { LayerCompression } from '../oci/media-types.js';
import { cachedBuild, type CachedBuildDeps, type CachedResult } from './cached-build.js';
import { MetadataKeys, type LayerRecord } from './records.js';
import type { TopLayerEntry } from './top-layer.js';
import { writeRootFsLayer, writeStorePathLayer, writeSyntheticLayer, type DeflateCompressors } from './layer/index.js';

/**
 * Bump when anything that shapes layer bytes changes, so old layer records are not reused.
 * 2: Debian package layers carry dpkg's .list and .md5sums.
 * 3: gzip layers over 1 MiB are compressed in parallel blocks (new digests, same diff_ids).
 */
export const LAYER_FORMAT_VERSION = 3;

export interface LayerSettings {
  readonly compression: LayerCompression;
  readonly level: number;
}

/**
 * Builds layer blobs once per layer content: a layer is found by a key over its store paths
 * (with their NAR hashes) and compression settings, so every image whose layering yields the
 * same group of paths shares the blob.
 */
export class LayerBuilder {
  constructor(private readonly deps: CachedBuildDeps & { readonly blobs: BlobStore; readonly gzipCompressors?: DeflateCompressors }) {}

  storePathLayer(
    reader: StoreReader,
    layer: Layer,
    narHashes: ReadonlyMap<string, string>,
    settings: LayerSettings,
    signal: AbortSignal,
  ): Promise<CachedResult<LayerRecord>> {
    const paths = layer.paths.map((path) => [path, narHashes.get(path) ?? '']);
    return this.cached({ kind: 'paths', paths }, settings, signal, async () =>
      writeStorePathLayer({ reader, storePaths: layer.paths, compression: settings.compression, level: settings.level, store: this.deps.blobs, signal, ...this.output() }),
    );
  }

  /** A layer of root-filesystem packages (Debian): keyed like store paths, by path and hash. */
  rootFsLayer(
    reader: RootFsReader,
    layer: Layer,
    hashes: ReadonlyMap<string, string>,
    settings: LayerSettings,
    signal: AbortSignal,
  ): Promise<CachedResult<LayerRecord>> {
    const paths = layer.paths.map((path) => [path, hashes.get(path) ?? '']);
    return this.cached({ kind: 'root-fs', paths }, settings, signal, async () =>
      writeRootFsLayer({ reader, paths: layer.paths, compression: settings.compression, level: settings.level, store: this.deps.blobs, signal, ...this.output() }),
    );
  }

  syntheticLayer(entries: readonly TopLayerEntry[], settings: LayerSettings, signal: AbortSignal): Promise<CachedResult<LayerRecord>> {
    return this.cached({ kind: 'top', entries }, settings, signal, async () =>
      writeSyntheticLayer({ entries, compression: settings.compression, level: settings.level, store: this.deps.blobs, signal, ...this.output() }),
    );
  }

  /** What every layer write takes besides its content. */
  private output(): { gzipCompressors?: DeflateCompressors } {
    return this.deps.gzipCompressors ? { gzipCompressors: this.deps.gzipCompressors } : {};
  }

  private cached(
    content: object,
    settings: LayerSettings,
    signal: AbortSignal,
    write: () => Promise<{ digest: string; diffId: string; size: number }>,
  ): Promise<CachedResult<LayerRecord>> {
    const key = createHash('sha256')
      .update(JSON.stringify({ v: LAYER_FORMAT_VERSION, ...settings, ...content }))
      .digest('hex');
    return cachedBuild<LayerRecord>(
      this.deps,
      MetadataKeys.layer(key),
      async (record) => (await this.deps.blobs.stat(record.digest)) !== null,
      async () => {
        const blob = await write();
        return { digest: blob.digest, diffId: blob.diffId, size: blob.size, compression: settings.compression };
      },
      signal,
    );
  }
}
