import { createHash } from 'node:crypto';
import { basename } from 'node:path';
import type { Logger } from 'pino';
import type { Layerer, LayeringGraph, Popularity } from '../layering/types.js';
import type { ClosureGraph, PackageSource } from '../sources/types.js';
import { BuildFailedError, PackageNotFoundError } from '../sources/errors.js';
import type { BlobStore } from '../storage/types.js';
import { putBlob } from '../storage/blob-io.js';
import { LruMap } from '../storage/caching-lru.js';
import { imageConfigJson, imageIndexJson, imageManifestJson, type ImageLayer, type Platform } from '../oci/image.js';
import { MediaType, type LayerCompression } from '../oci/media-types.js';
import { cachedBuild, type CachedBuildDeps } from './cached-build.js';
import { BuildQueue } from './build-queue.js';
import { BuildTracker } from './build-tracker.js';
import { BuildInProgressError, BuildTimeoutError } from './errors.js';
import { requestFor, type ParsedImageName } from '../image-name/image-name.js';
import { LayerBuilder, LAYER_FORMAT_VERSION } from './layer-builder.js';
import { platformOfSystem } from './platform.js';
import { MetadataKeys, parseRecord, type ImageRecord, type IndexRecord } from './records.js';
import { recordingEpoch } from './image-expiry.js';
import { CountingBlobStore } from './counting-blob-store.js';
import { recordImageInfo, type ImageInfoLayer } from './image-info.js';
import type { BuiltImages } from './built-images.js';
import { planRootFsTopLayer, planTopLayer, type TopLayerPlan } from './top-layer.js';
import { defaultCmd } from './default-cmd.js';
import { sbomMembersOf, writeImageSbom } from './sbom-artifact.js';

/** Bump when anything that shapes configs or manifests changes, so old image records are not reused. */
const IMAGE_FORMAT_VERSION = 4; // 4: a default Cmd for single-executable images, and an SBOM artifact per image

export interface ImageBuilderOptions {
  /** Most layers per image, the top layer included. */
  readonly maxLayers: number;
  readonly levels: Readonly<Record<LayerCompression, number>>;
  readonly timeoutMs: number;
  readonly labels?: Readonly<Record<string, string>>;
  /** Identity of the popularity data layering uses: new data may regroup layers. */
  readonly popularityKey?: string;
}

export interface ImageBuilderDeps extends CachedBuildDeps {
  readonly source: PackageSource;
  readonly layerer: Layerer;
  readonly popularity: (graph: LayeringGraph) => Popularity;
  readonly blobs: BlobStore;
  readonly queue: BuildQueue;
  readonly tracker: BuildTracker;
  readonly logger: Logger;
  /** Told of cache hits and misses, for metrics. */
  readonly observer?: BuildObserver;
  /** The read model the builder records into (the registry and the web UI read it). */
  readonly images: BuiltImages;
}

/** Hooks for metrics; each is called synchronously and must not throw. */
export interface BuildObserver {
  /** A layer an image needs was found in the cache (`built` false) or written. */
  layer?(event: { readonly built: boolean; readonly size: number }): void;
  /** A requested image (one system) was found in the cache (`built` false) or built. */
  image?(event: { readonly built: boolean }): void;
}

/** How an image would be layered, for `stowage layers`. */
export interface LayerPlan {
  readonly system: string;
  readonly roots: readonly string[];
  readonly closurePaths: number;
  /** Store path layers, bottom first; the top layer (links, /etc, /tmp) comes on top of them. */
  readonly layers: ReadonlyArray<{ readonly paths: readonly string[]; readonly narSize: number }>;
}

export interface BuiltImage {
  /** The image for the first system that has the packages. */
  readonly primary: ImageRecord;
  /** The index over every system's image, when more than one system is configured. */
  readonly index: IndexRecord | null;
  /** False when everything came from the cache. */
  readonly built: boolean;
}

/**
 * Builds images: resolve the closure, group it into layers, build each missing layer once into
 * the blob store, then write config and manifests (and an index over several systems).
 * Finished images are cached by image key, layers by the key of their content.
 *
 * A build does not hold the requesting client's signal: when the client goes away the build
 * finishes anyway and the next pull finds it cached. Only the build timeout stops it.
 */
export class ImageBuilder {
  /** Index blobs this process wrote, so a pull does not rewrite them (what names serve is re-checked). */
  private readonly indexes = new LruMap<string, IndexRecord>(1_000);
  private readonly inFlight = new Map<string, Promise<BuiltImage>>();

  constructor(
    private readonly deps: ImageBuilderDeps,
    private readonly options: ImageBuilderOptions,
  ) {}

  /** Where the builder records what each name serves, re-checked on every pull. */
  private get images(): BuiltImages {
    return this.deps.images;
  }

  /** Build (or find) the image; concurrent calls for one image share the work. */
  build(image: ParsedImageName): Promise<BuiltImage> {
    const key = `${image.canonicalName}\u0000${image.request.revision}`;
    let pending = this.inFlight.get(key);
    if (!pending) {
      pending = this.buildAllSystems(image).finally(() => this.inFlight.delete(key));
      // Nobody may be waiting any more when a background build fails: never let that crash.
      pending.catch(() => undefined);
      this.inFlight.set(key, pending);
    }
    return pending;
  }

  /**
   * Like `build`, but waits at most `waitMs`; then throws BuildInProgressError with the build's
   * progress while the build goes on, so a client never sits on a silent connection for minutes.
   */
  async buildWithin(image: ParsedImageName, waitMs: number): Promise<BuiltImage> {
    const pending = this.build(image);
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_resolve, reject) => {
      timer = setTimeout(() => reject(new BuildInProgressError(image.canonicalName, this.describeProgress(image), 10)), waitMs);
    });
    try {
      return await Promise.race([pending, timeout]);
    } finally {
      clearTimeout(timer);
    }
  }

  get tracker(): BuildTracker {
    return this.deps.tracker;
  }

  /** The running build of `image`, if there is one (to follow it to its end). */
  pending(image: ParsedImageName): Promise<BuiltImage> | undefined {
    return this.inFlight.get(`${image.canonicalName}\u0000${image.request.revision}`);
  }

  /**
   * The cached image of every system it was built for, without building anything; empty when
   * it is not built (or the package set changed since). Images of uncacheable revisions are
   * never found.
   */
  async find(image: ParsedImageName, signal?: AbortSignal): Promise<Array<{ system: string; record: ImageRecord }>> {
    const found: Array<{ system: string; record: ImageRecord }> = [];
    for (const system of image.systems) {
      const sourceKey = await this.deps.source.cacheKey(requestFor(image, system), signal);
      if (sourceKey === null) continue;
      const record = parseRecord<ImageRecord>(await this.deps.metadata.get(MetadataKeys.image(this.imageKey(image, system, sourceKey))));
      if (record !== null && (await this.blobsExist(record))) found.push({ system, record });
    }
    return found;
  }

  /** Resolve the closure (realising it) and group it into layers, writing no blobs. */
  async plan(image: ParsedImageName, signal: AbortSignal): Promise<LayerPlan[]> {
    const plans: LayerPlan[] = [];
    for (const system of image.systems) {
      const closure = await this.deps.source.resolve(requestFor(image, system), { signal });
      const graph = toLayeringGraph(closure);
      const sizes = new Map(closure.paths.map((info) => [info.path, info.narSize]));
      const groups = this.deps.layerer.group(graph, closure.popularity ?? this.deps.popularity(graph), this.options.maxLayers - 1);
      plans.push({
        system,
        roots: closure.roots,
        closurePaths: closure.paths.length,
        layers: groups.map((group) => ({ paths: group.paths, narSize: group.paths.reduce((total, path) => total + (sizes.get(path) ?? 0), 0) })),
      });
    }
    return plans;
  }

  private async buildAllSystems(image: ParsedImageName): Promise<BuiltImage> {
    const results: Array<{ system: string; image: ImageRecord; built: boolean }> = [];
    for (const system of image.systems) {
      try {
        const { record, built } = await this.buildForSystem(image, system);
        results.push({ system, image: record, built });
      } catch (error) {
        // A package may exist for some systems only; the index lists the systems that have it.
        const skippable = error instanceof PackageNotFoundError && image.systems.length > 1;
        if (!skippable) throw error;
        this.deps.logger.info({ image: image.canonicalName, system, missing: error.packages }, 'packages missing for a system');
        if (system === image.systems[image.systems.length - 1] && results.length === 0) throw error;
      }
    }
    const primary = results[0] as (typeof results)[number];
    const built = results.some((result) => result.built);
    if (image.systems.length === 1) return { primary: primary.image, index: null, built };
    const index = await this.writeIndex(image, results);
    return { primary: primary.image, index, built };
  }

  private async buildForSystem(image: ParsedImageName, system: string): Promise<{ record: ImageRecord; built: boolean }> {
    const request = requestFor(image, system);
    const platform = platformOfSystem(system);
    if (platform === null) throw new Error(`no OCI platform is known for system ${system}`);
    const sourceKey = await this.deps.source.cacheKey(request);
    const imageKey = this.imageKey(image, system, sourceKey);
    const run = (): Promise<ImageRecord> => {
      this.track(image, system, { phase: 'queued' });
      return this.deps.queue
        .run(() => withTimeout(this.options.timeoutMs, (signal) => this.buildImage(image, system, platform, signal, sourceKey)))
        .then(
          (record) => {
            this.track(image, system, { phase: 'done' });
            return record;
          },
          (error: unknown) => {
            this.track(image, system, {
              phase: 'failed',
              error: error instanceof Error ? error.message : String(error),
              ...(error instanceof BuildFailedError && error.logTail !== '' ? { log: error.logTail } : {}),
            });
            throw error;
          },
        );
    };
    const result =
      sourceKey === null
        ? { record: await run(), built: true }
        : await cachedBuild(this.deps, MetadataKeys.image(imageKey), (record) => this.blobsExist(record), run);
    this.deps.observer?.image?.({ built: result.built });
    await this.images.recordImage(image.canonicalName, request.revision, result.record, await sbomMembersOf(this.deps.metadata, image.canonicalName, result.record));
    return result;
  }

  private async buildImage(image: ParsedImageName, system: string, platform: Platform, signal: AbortSignal, sourceKey: string | null): Promise<ImageRecord> {
    const request = requestFor(image, system);
    const log = this.deps.logger.child({ image: image.canonicalName, revision: request.revision, system });
    const started = Date.now();
    log.info({ packages: request.packages }, 'image build started');
    this.track(image, system, { phase: 'resolving' });

    // With the key the image is cached under, so a branch that moved meanwhile can't mix states.
    const closure = await this.deps.source.resolve(request, { signal, cacheKey: sourceKey });
    const reader = closure.reader ?? this.deps.source.reader;
    const graph = toLayeringGraph(closure);
    const groups = this.deps.layerer.group(graph, closure.popularity ?? this.deps.popularity(graph), this.options.maxLayers - 1);
    const narHashes = new Map(closure.paths.map((info) => [info.path, info.narHash ?? '']));
    const settings = { compression: image.compression, level: this.options.levels[image.compression] };
    this.track(image, system, { phase: 'layers', layersTotal: groups.length + 1, layersDone: 0, closurePaths: closure.paths.length });

    // Layers go through a counting store so progress can show the bytes written so far.
    const counting = new CountingBlobStore(this.deps.blobs);
    const layerBuilder = new LayerBuilder({ ...this.deps, blobs: counting });
    const progress = setInterval(() => this.track(image, system, { bytesWritten: counting.bytesWritten }), 500);
    const layers: ImageLayer[] = [];
    const infoLayers: ImageInfoLayer[] = [];
    const sizes = new Map(closure.paths.map((info) => [info.path, info.narSize]));
    let builtLayers = 0;
    let top: TopLayerPlan;
    try {
      for (const group of groups) {
        const { record, built } = closure.rootFs
          ? await layerBuilder.rootFsLayer(closure.rootFs.reader, group, narHashes, settings, signal)
          : await layerBuilder.storePathLayer(reader, group, narHashes, settings, signal);
        if (built) log.info({ digest: record.digest, size: record.size, paths: group.paths.length }, 'layer built');
        builtLayers += built ? 1 : 0;
        this.deps.observer?.layer?.({ built, size: record.size });
        layers.push({ ...record, comment: describeLayer(group.paths) });
        infoLayers.push({ digest: record.digest, size: record.size, kind: 'store', storePaths: group.paths, narSize: group.paths.reduce((total, path) => total + (sizes.get(path) ?? 0), 0) });
        this.track(image, system, { layersDone: layers.length, bytesWritten: counting.bytesWritten });
      }
      top = closure.rootFs
        ? await planRootFsTopLayer(closure.rootFs, image.shell, signal)
        : await planTopLayer(reader, closure.roots, closure.paths.map((info) => info.path), signal);
      const topLayer = await layerBuilder.syntheticLayer(top.entries, settings, signal);
      if (topLayer.built) log.info({ digest: topLayer.record.digest, size: topLayer.record.size, top: true }, 'layer built');
      builtLayers += topLayer.built ? 1 : 0;
      this.deps.observer?.layer?.({ built: topLayer.built, size: topLayer.record.size });
      layers.push({ ...topLayer.record, comment: 'stowage: /bin, /usr/bin, /etc, /tmp' });
      infoLayers.push({ digest: topLayer.record.digest, size: topLayer.record.size, kind: 'top', storePaths: [], narSize: 0 });
    } finally {
      clearInterval(progress);
    }
    this.track(image, system, { phase: 'manifest', layersDone: layers.length, bytesWritten: counting.bytesWritten });

    const record = await this.writeManifests(image, system, platform, layers, top, signal);
    await writeImageSbom(this.deps, { image: image.canonicalName, revision: request.revision, system, source: this.deps.source.name, sourceKey, closure, record }, signal);
    await recordImageInfo(this.deps.metadata, [record.oci.digest, ...(record.docker ? [record.docker.digest] : [])], {
      image: image.canonicalName,
      revision: request.revision,
      system,
      packages: request.packages,
      closurePaths: closure.paths.length,
      layers: infoLayers,
      builtAt: new Date().toISOString(),
    });
    log.info(
      { packages: request.packages, durationMs: Date.now() - started, layers: layers.length, builtLayers, closurePaths: closure.paths.length, digest: record.oci.digest },
      'image build finished',
    );
    return record;
  }

  private async writeManifests(
    image: ParsedImageName,
    system: string,
    platform: Platform,
    layers: readonly ImageLayer[],
    top: TopLayerPlan,
    signal: AbortSignal,
  ): Promise<ImageRecord> {
    const request = requestFor(image, system);
    const labels = {
      ...this.options.labels,
      'dev.stowage.packages': request.packages.join(' '),
      'dev.stowage.revision': request.revision,
      'dev.stowage.source': this.deps.source.name,
      'dev.stowage.system': system,
      'org.opencontainers.image.title': image.canonicalName,
    };
    const env = top.config ? [...top.config.env] : ['PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin'];
    if (!top.config && top.caBundle !== null) env.push(`SSL_CERT_FILE=${top.caBundle}`, `NIX_SSL_CERT_FILE=${top.caBundle}`);
    const cmd = top.config ? top.config.cmd : (defaultCmd(image.shell, request.packages, top.binaries).cmd ?? null);
    const configBytes = imageConfigJson(platform, layers, {
      env,
      ...(cmd ? { cmd: [...cmd] } : {}),
      labels,
    });
    const config = await putBlob(this.deps.blobs, configBytes, signal);
    const oci = await putBlob(this.deps.blobs, imageManifestJson('oci', config, layers), signal);
    let docker: ImageRecord['docker'] = null;
    if (image.compression === 'gzip') {
      const dockerInfo = await putBlob(this.deps.blobs, imageManifestJson('docker', config, layers), signal);
      docker = { ...dockerInfo, mediaType: MediaType.dockerManifest };
    }
    return { oci: { ...oci, mediaType: MediaType.ociManifest }, docker, config, layers: layers.map((layer) => layer.digest) };
  }

  /** Index blobs are small and derived from the platform manifests: written, then recorded. */
  private async writeIndex(image: ParsedImageName, results: ReadonlyArray<{ system: string; image: ImageRecord }>): Promise<IndexRecord> {
    const indexKey = [image.canonicalName, recordingEpoch(), ...results.map(({ system, image: record }) => `${system}=${record.oci.digest}`)].join('\u0000');
    const known = this.indexes.get(indexKey);
    if (known) {
      await this.images.recordIndex(image.canonicalName, known);
      return known;
    }
    const entries = (format: 'oci' | 'docker') =>
      results.map(({ system, image: record }) => {
        const ref = format === 'oci' ? record.oci : (record.docker as NonNullable<ImageRecord['docker']>);
        return { digest: ref.digest, size: ref.size, platform: platformOfSystem(system) as Platform };
      });
    const oci = await putBlob(this.deps.blobs, imageIndexJson('oci', entries('oci')));
    const allDocker = results.every((result) => result.image.docker !== null);
    const docker = allDocker ? await putBlob(this.deps.blobs, imageIndexJson('docker', entries('docker'))) : null;
    const record: IndexRecord = {
      oci: { ...oci, mediaType: MediaType.ociIndex },
      docker: docker ? { ...docker, mediaType: MediaType.dockerManifestList } : null,
      platforms: results.map(({ system, image: platformImage }) => ({ system, image: platformImage })),
    };
    await this.images.recordIndex(image.canonicalName, record);
    this.indexes.set(indexKey, record);
    return record;
  }

  private imageKey(image: ParsedImageName, system: string, sourceKey: string | null): string {
    return sha256Json({
      v: [IMAGE_FORMAT_VERSION, LAYER_FORMAT_VERSION],
      sourceKey,
      packages: requestFor(image, system).packages,
      system,
      shell: image.shell,
      layerer: this.deps.layerer.name,
      popularity: this.options.popularityKey ?? null,
      maxLayers: this.options.maxLayers,
      compression: image.compression,
      level: this.options.levels[image.compression],
    });
  }

  private track(image: ParsedImageName, system: string, patch: Parameters<BuildTracker['update']>[3]): void {
    this.deps.tracker.update(image.canonicalName, image.request.revision, system, patch);
  }

  private describeProgress(image: ParsedImageName): string {
    const statuses = this.deps.tracker.get(image.canonicalName, image.request.revision);
    if (statuses.length === 0) return 'starting';
    return statuses
      .map((status) => {
        const layers = status.phase === 'layers' ? ` ${status.layersDone} of ${status.layersTotal} layers` : '';
        return `${status.system}: ${status.phase}${layers}`;
      })
      .join(', ');
  }

  private async blobsExist(record: ImageRecord): Promise<boolean> {
    const digests = [record.oci.digest, record.config.digest, ...(record.docker ? [record.docker.digest] : [])];
    for (const digest of digests) if ((await this.deps.blobs.stat(digest)) === null) return false;
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
