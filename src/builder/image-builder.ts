import type { ImageRequest } from '../sources/types.js';
import { PackageNotFoundError } from '../sources/errors.js';
import type { ImageRecord, IndexRecord } from './records.js';
import { MetadataKeys, parseRecord } from './records.js';
import { cachedBuild } from './cached-build.js';
import type { BuildQueue } from './build-queue.js';
import type { BuildTracker } from './build-tracker.js';
import { BuildInProgressError, BuildTimeoutError } from './errors.js';
import { requestFor, type ParsedImageName } from '../image-name/image-name.js';
import { platformOfSystem } from './platform.js';
import type { BuiltImages } from './built-images.js';
import { sbomMembersOf } from './sbom-artifact.js';
import { imageKey } from './image-key.js';
import type { VersionedTable } from './co-occurrence-file.js';
import { describeProgress, SystemProgress } from './build-progress.js';
import { IndexWriter, type SystemImage } from './index-writer.js';
import { buildSystemImage, groupClosure, narSizeOf, type SystemBuildDeps, type SystemBuildOptions } from './system-image-build.js';

export type { BuildObserver } from './build-progress.js';

export interface ImageBuilderOptions extends SystemBuildOptions {
  readonly timeoutMs: number;
  /** Identity of the popularity data layering uses: new data may regroup layers. */
  readonly popularityKey?: string;
}

export interface ImageBuilderDeps extends SystemBuildDeps {
  readonly queue: BuildQueue;
  readonly tracker: BuildTracker;
  /** The read model the builder records into (the registry and the web UI read it). */
  readonly images: BuiltImages;
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
  private readonly indexWriter: IndexWriter;
  private readonly inFlight = new Map<string, Promise<BuiltImage>>();

  constructor(
    private readonly deps: ImageBuilderDeps,
    private readonly options: ImageBuilderOptions,
  ) {
    this.indexWriter = new IndexWriter(deps);
  }

  /** Build (or find) the image; concurrent calls for one image share the work. */
  build(image: ParsedImageName): Promise<BuiltImage> {
    const key = inFlightKey(image);
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
      timer = setTimeout(() => {
        const progress = describeProgress(this.deps.tracker, image.canonicalName, image.request.revision);
        reject(new BuildInProgressError(image.canonicalName, progress, 10));
      }, waitMs);
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
    return this.inFlight.get(inFlightKey(image));
  }

  /**
   * The cached image of every system it was built for, without building anything; empty when
   * it is not built (or the package set changed since). Images of uncacheable revisions are
   * never found.
   */
  async find(image: ParsedImageName, signal?: AbortSignal): Promise<Array<{ system: string; record: ImageRecord }>> {
    const found: Array<{ system: string; record: ImageRecord }> = [];
    for (const system of image.systems) {
      const request = requestFor(image, system);
      const sourceKey = await this.deps.source.cacheKey(request, signal);
      if (sourceKey === null) continue;
      const key = this.imageKey(image, request, sourceKey, this.deps.coOccurrence?.current() ?? null);
      const record = parseRecord<ImageRecord>(await this.deps.metadata.get(MetadataKeys.image(key)));
      if (record !== null && (await this.blobsExist(record))) found.push({ system, record });
    }
    return found;
  }

  /** Resolve the closure (realising it) and group it into layers, writing no blobs. */
  async plan(image: ParsedImageName, signal: AbortSignal): Promise<LayerPlan[]> {
    const plans: LayerPlan[] = [];
    for (const system of image.systems) {
      const closure = await this.deps.source.resolve(requestFor(image, system), { signal });
      const sizes = new Map(closure.paths.map((info) => [info.path, info.narSize]));
      const groups = groupClosure(this.deps, this.options, closure, this.deps.coOccurrence?.current() ?? null);
      plans.push({
        system,
        roots: closure.roots,
        closurePaths: closure.paths.length,
        layers: groups.map((group) => ({ paths: group.paths, narSize: narSizeOf(group.paths, sizes) })),
      });
    }
    return plans;
  }

  private async buildAllSystems(image: ParsedImageName): Promise<BuiltImage> {
    const results: Array<SystemImage & { built: boolean }> = [];
    for (const system of image.systems) {
      try {
        const { record, built } = await this.buildForSystem(image, requestFor(image, system));
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
    const index = await this.indexWriter.write(image.canonicalName, results);
    return { primary: primary.image, index, built };
  }

  /** One system's image from the cache, or built in the queue under the build timeout. */
  private async buildForSystem(image: ParsedImageName, request: ImageRequest): Promise<{ record: ImageRecord; built: boolean }> {
    const { system } = request;
    const platform = platformOfSystem(system);
    if (platform === null) throw new Error(`no OCI platform is known for system ${system}`);
    const sourceKey = await this.deps.source.cacheKey(request);
    const progress = new SystemProgress(this.deps.tracker, image.canonicalName, image.request.revision, system);
    // One table for the key and the layers, even if a new one comes in during the build.
    const coOccurrence = this.deps.coOccurrence?.current() ?? null;
    const job = { image, request, platform, sourceKey, progress, coOccurrence };
    const run = (): Promise<ImageRecord> =>
      progress.around(() => this.deps.queue.run(() => withTimeout(this.options.timeoutMs, (signal) => buildSystemImage(this.deps, this.options, job, signal))));
    const result =
      sourceKey === null
        ? { record: await run(), built: true }
        : await cachedBuild(this.deps, MetadataKeys.image(this.imageKey(image, request, sourceKey, coOccurrence)), (record) => this.blobsExist(record), run);
    this.deps.observer?.image?.({ built: result.built });
    await this.deps.images.recordImage(image.canonicalName, request.revision, result.record, await sbomMembersOf(this.deps.metadata, image.canonicalName, result.record));
    return result;
  }

  private imageKey(image: ParsedImageName, request: ImageRequest, sourceKey: string | null, coOccurrence: VersionedTable | null): string {
    return imageKey({
      sourceKey,
      request,
      shell: image.shell,
      compression: image.compression,
      layerer: this.deps.layerer.name,
      popularity: this.options.popularityKey ?? null,
      coOccurrence: coOccurrence?.version ?? null,
      maxLayers: this.options.maxLayers,
      level: this.options.levels[image.compression],
    });
  }

  private async blobsExist(record: ImageRecord): Promise<boolean> {
    const digests = [record.oci.digest, record.config.digest, ...(record.docker ? [record.docker.digest] : [])];
    for (const digest of digests) if ((await this.deps.blobs.stat(digest)) === null) return false;
    return true;
  }
}

/** Concurrent builds of one image at one revision share a single run. */
function inFlightKey(image: ParsedImageName): string {
  return `${image.canonicalName}\u0000${image.request.revision}`;
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
