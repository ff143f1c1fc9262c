import { createHash } from 'node:crypto';
import { basename } from 'node:path';
import type { Logger } from 'pino';
import type { Layer, Layerer, LayeringGraph, Popularity } from '../layering/types.js';
import type { ClosureGraph, PackageSource } from '../sources/types.js';
import type { BlobStore } from '../storage/types.js';
import { putBlob } from '../storage/blob-io.js';
import { imageConfigJson, imageManifestJson, type ImageLayer, type Platform } from '../oci/image.js';
import { MediaType, type LayerCompression } from '../oci/media-types.js';
import { cachedBuild, type CachedBuildDeps } from './cached-build.js';
import { BuildQueue } from './build-queue.js';
import { BuildTimeoutError } from './errors.js';
import type { ParsedImageName } from './image-name.js';
import { platformOfSystem } from './platform.js';
import { MetadataKeys, type ImageRecord, type LayerRecord } from './records.js';
import { planTopLayer, type TopLayerEntry } from './top-layer.js';
import { writeStorePathLayer, writeSyntheticLayer } from './layer/index.js';

/** Bump when anything that shapes image bytes changes, so old cache records are not reused. */
const IMAGE_FORMAT_VERSION = 1;

export interface ImageBuilderOptions {
  /** Most layers per image, the top layer included. */
  readonly maxLayers: number;
  readonly compression: LayerCompression;
  readonly compressionLevel: number;
  readonly timeoutMs: number;
  readonly labels?: Readonly<Record<string, string>>;
}

export interface ImageBuilderDeps extends CachedBuildDeps {
  readonly source: PackageSource;
  readonly layerer: Layerer;
  readonly popularity: (graph: LayeringGraph) => Popularity;
  readonly blobs: BlobStore;
  readonly queue: BuildQueue;
  readonly logger: Logger;
}

export interface BuiltImage {
  readonly record: ImageRecord;
  /** False when the whole image came from the cache. */
  readonly built: boolean;
}

/**
 * Builds images: resolve the closure, group it into layers, build each missing layer once into
 * the blob store, then write config and manifests. Finished images are cached by image key, and
 * layers by the key of their content, so an image overlapping a built one reuses its layers.
 *
 * A build does not hold the requesting client's signal: when the client goes away the build
 * finishes anyway and the next pull finds it cached. Only the build timeout stops it.
 */
export class ImageBuilder {
  constructor(
    private readonly deps: ImageBuilderDeps,
    private readonly options: ImageBuilderOptions,
  ) {}

  async build(image: ParsedImageName): Promise<BuiltImage> {
    const { request } = image;
    const platform = platformOfSystem(request.system);
    if (platform === null) throw new Error(`no OCI platform is known for system ${request.system}`);
    const sourceKey = await this.deps.source.cacheKey(request);
    const imageKey = sha256Json({
      v: IMAGE_FORMAT_VERSION,
      sourceKey,
      packages: request.packages,
      system: request.system,
      shell: image.shell,
      layerer: this.deps.layerer.name,
      maxLayers: this.options.maxLayers,
      compression: this.options.compression,
      level: this.options.compressionLevel,
    });
    const run = (): Promise<ImageRecord> =>
      this.deps.queue.run(() => withTimeout(this.options.timeoutMs, (signal) => this.buildImage(image, platform, signal)));
    const result =
      sourceKey === null
        ? { record: await run(), built: true }
        : await cachedBuild(this.deps, MetadataKeys.image(imageKey), (record) => this.blobsExist(record), run);
    await this.deps.metadata.addToSet(MetadataKeys.tags(image.canonicalName), request.revision);
    for (const ref of [result.record.oci, result.record.docker]) {
      if (ref) await this.deps.metadata.addToSet(MetadataKeys.manifests(image.canonicalName), ref.digest);
    }
    return result;
  }

  private async buildImage(image: ParsedImageName, platform: Platform, signal: AbortSignal): Promise<ImageRecord> {
    const log = this.deps.logger.child({ image: image.canonicalName, revision: image.request.revision });
    const started = Date.now();
    log.info({ packages: image.request.packages }, 'image build started');

    const closure = await this.deps.source.resolve(image.request, { signal });
    const graph = toLayeringGraph(closure);
    const groups = this.deps.layerer.group(graph, this.deps.popularity(graph), this.options.maxLayers - 1);
    const narHashes = new Map(closure.paths.map((info) => [info.path, info.narHash ?? '']));

    const layers: ImageLayer[] = [];
    let builtLayers = 0;
    for (const group of groups) {
      const { record, built } = await this.storePathLayer(group, narHashes, signal);
      if (built) builtLayers += 1;
      layers.push({ ...record, comment: describeLayer(group.paths) });
    }
    const top = await planTopLayer(this.deps.source.reader, closure.roots, signal);
    const topLayer = await this.syntheticLayer(top.entries, signal);
    if (topLayer.built) builtLayers += 1;
    layers.push({ ...topLayer.record, comment: 'stowage: /bin, /usr/bin, /etc, /tmp' });

    const record = await this.writeManifests(image, platform, layers, top.binaries, signal);
    log.info(
      { durationMs: Date.now() - started, layers: layers.length, builtLayers, closurePaths: closure.paths.length, digest: record.oci.digest },
      'image build finished',
    );
    return record;
  }

  private storePathLayer(layer: Layer, narHashes: ReadonlyMap<string, string>, signal: AbortSignal) {
    const { compression, compressionLevel: level } = this.options;
    const key = sha256Json({ v: IMAGE_FORMAT_VERSION, kind: 'paths', compression, level, paths: layer.paths.map((path) => [path, narHashes.get(path) ?? '']) });
    return cachedBuild<LayerRecord>(
      this.deps,
      MetadataKeys.layer(key),
      (record) => this.blobExists(record.digest),
      async () => {
        const blob = await writeStorePathLayer({ reader: this.deps.source.reader, storePaths: layer.paths, compression, level, store: this.deps.blobs, signal });
        return { digest: blob.digest, diffId: blob.diffId, size: blob.size, compression };
      },
      signal,
    );
  }

  private syntheticLayer(entries: readonly TopLayerEntry[], signal: AbortSignal) {
    const { compression, compressionLevel: level } = this.options;
    const key = sha256Json({ v: IMAGE_FORMAT_VERSION, kind: 'top', compression, level, entries });
    return cachedBuild<LayerRecord>(
      this.deps,
      MetadataKeys.layer(key),
      (record) => this.blobExists(record.digest),
      async () => {
        const blob = await writeSyntheticLayer({ entries, compression, level, store: this.deps.blobs, signal });
        return { digest: blob.digest, diffId: blob.diffId, size: blob.size, compression };
      },
      signal,
    );
  }

  private async writeManifests(
    image: ParsedImageName,
    platform: Platform,
    layers: readonly ImageLayer[],
    binaries: ReadonlySet<string>,
    signal: AbortSignal,
  ): Promise<ImageRecord> {
    const labels = {
      ...this.options.labels,
      'dev.stowage.packages': image.request.packages.join(' '),
      'dev.stowage.revision': image.request.revision,
      'dev.stowage.source': this.deps.source.name,
      'org.opencontainers.image.title': image.canonicalName,
    };
    const configBytes = imageConfigJson(platform, layers, {
      env: ['PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin'],
      ...(image.shell && binaries.has('sh') ? { cmd: ['/bin/sh'] } : {}),
      labels,
    });
    const config = await putBlob(this.deps.blobs, configBytes, signal);
    const ociBytes = imageManifestJson('oci', config, layers);
    const oci = await putBlob(this.deps.blobs, ociBytes, signal);
    let docker: ImageRecord['docker'] = null;
    if (this.options.compression === 'gzip') {
      const dockerInfo = await putBlob(this.deps.blobs, imageManifestJson('docker', config, layers), signal);
      docker = { ...dockerInfo, mediaType: MediaType.dockerManifest };
    }
    return { oci: { ...oci, mediaType: MediaType.ociManifest }, docker, config, layerCount: layers.length };
  }

  private async blobExists(digest: string): Promise<boolean> {
    return (await this.deps.blobs.stat(digest)) !== null;
  }

  private async blobsExist(record: ImageRecord): Promise<boolean> {
    const digests = [record.oci.digest, record.config.digest, ...(record.docker ? [record.docker.digest] : [])];
    for (const digest of digests) if (!(await this.blobExists(digest))) return false;
    return true;
  }
}

function toLayeringGraph(closure: ClosureGraph): LayeringGraph {
  return {
    nodes: closure.paths.map((info) => ({ path: info.path, narSize: info.narSize, references: info.references })),
    roots: closure.roots,
  };
}

/** History comment naming a layer's store paths (abbreviated for big layers). */
function describeLayer(paths: readonly string[]): string {
  const names = paths.map((path) => basename(path));
  const shown = names.slice(0, 12).join(' ');
  return names.length > 12 ? `${shown} and ${names.length - 12} more store paths` : shown;
}

function sha256Json(value: unknown): string {
  return createHash('sha256').update(JSON.stringify(value)).digest('hex');
}

/** Run `fn` with a signal that aborts after `timeoutMs`; a timeout surfaces as BuildTimeoutError. */
async function withTimeout<T>(timeoutMs: number, fn: (signal: AbortSignal) => Promise<T>): Promise<T> {
  const signal = AbortSignal.timeout(timeoutMs);
  try {
    return await fn(signal);
  } catch (error) {
    if (signal.aborted) throw new BuildTimeoutError(timeoutMs);
    throw error;
  }
}
