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
import type { BuiltImages, PullSnapshot } from './built-images.js';
import { sbomMembersOf } from './sbom-artifact.js';
import { ImmutableRecords, type ImmutableRecordsOptions } from './immutable-records.js';
import { coOccurrenceKeyPart, imageKey } from './image-key.js';
import type { VersionedTable } from './co-occurrence-file.js';
import { describeProgress, SystemProgress } from './build-progress.js';
import { IndexWriter, type SystemImage } from './index-writer.js';
import { buildSystemImage, groupClosure, narSizeOf, type SystemBuildDeps, type SystemBuildOptions } from './system-image-build.js';

export type { BuildObserver } from './build-progress.js';

export interface ImageBuilderOptions extends SystemBuildOptions {
  readonly timeoutMs: number;
  /** Identity of the popularity data layering uses: new data may regroup layers. */
  readonly popularityKey?: string;
  /** Bounds of the in-process cache of immutable records. */
  readonly records?: ImmutableRecordsOptions;
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
  /** Image records and SBOM artifacts, which never change once written: not asked for again. */
  private readonly records: ImmutableRecords;

  constructor(
    private readonly deps: ImageBuilderDeps,
    private readonly options: ImageBuilderOptions,
  ) {
    this.indexWriter = new IndexWriter(deps);
    this.records = new ImmutableRecords(options.records);
  }

  /**
   * Build (or find) the image; concurrent calls for one image share the work. A build this call
   * starts is counted against `client` (its address) in the build queue; joining one is free.
   */
  build(image: ParsedImageName, client?: string): Promise<BuiltImage> {
    const key = inFlightKey(image);
    let pending = this.inFlight.get(key);
    if (!pending) {
      pending = this.buildAllSystems(image, client).finally(() => this.inFlight.delete(key));
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
  async buildWithin(image: ParsedImageName, waitMs: number, client?: string): Promise<BuiltImage> {
    const pending = this.build(image, client);
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

  /** Whether a build started now would be refused at once by the build queue (429). */
  get queueFull(): boolean {
    return this.deps.queue.full;
  }

  /**
   * The image a pull by tag was just served, without asking the metadata store or the blob
   * store anything: when a pull of the same name and tag, at the same state of the package set,
   * verified it within the TTL (BuiltImages.verifiedImage). Null otherwise (and for images of
   * several systems, or of revisions that are not cached): then `buildWithin` checks and heals.
   */
  async recentlyVerified(image: ParsedImageName): Promise<BuiltImage | null> {
    if (image.systems.length !== 1) return null;
    const snapshot = async (): Promise<string | null> => {
      const sourceKey = await this.deps.source.cacheKey(image.request);
      return sourceKey === null ? null : pullSnapshot(image.request, sourceKey, this.deps.coOccurrence?.current() ?? null).snapshot;
    };
    const record = await this.deps.images.verifiedImage(image.canonicalName, image.request.revision, image.request.system, snapshot);
    if (record === undefined) return null;
    this.deps.observer?.image?.({ built: false });
    return { primary: record, index: null, built: false };
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

  private async buildAllSystems(image: ParsedImageName, client: string | undefined): Promise<BuiltImage> {
    const results: Array<SystemImage & { built: boolean }> = [];
    for (const system of image.systems) {
      try {
        const { record, built } = await this.buildForSystem(image, requestFor(image, system), client);
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
  private async buildForSystem(image: ParsedImageName, request: ImageRequest, client: string | undefined): Promise<{ record: ImageRecord; built: boolean }> {
    const { system } = request;
    const platform = platformOfSystem(system);
    if (platform === null) throw new Error(`no OCI platform is known for system ${system}`);
    const sourceKey = await this.deps.source.cacheKey(request);
    const progress = new SystemProgress(this.deps.tracker, image.canonicalName, image.request.revision, system);
    // One table for the key and the layers, even if a new one comes in during the build.
    const coOccurrence = this.deps.coOccurrence?.current() ?? null;
    const job = { image, request, platform, sourceKey, progress, coOccurrence };
    const run = (): Promise<ImageRecord> =>
      progress.around(() => this.deps.queue.run(() => withTimeout(this.options.timeoutMs, (signal) => buildSystemImage(this.deps, this.options, job, signal)), client));
    const key = sourceKey === null ? null : MetadataKeys.image(this.imageKey(image, request, sourceKey, coOccurrence));
    let result = key === null ? { record: await run(), built: true, remembered: false } : await this.cachedImage(key, run);
    // Remembered as verified once recorded: its record and blobs were just checked, or written.
    // Not for a revision the source will not key (a moving target is never cached).
    const pull = sourceKey === null ? undefined : pullSnapshot(request, sourceKey, coOccurrence);
    const missing = await this.recordServed(image, request, result.record, pull);
    if (missing > 0 && key !== null && result.remembered && (await this.deps.metadata.get(key)) === null) {
      // The name's sets were lost (Redis flushed): the image record, remembered here, went with
      // them, and so may have every record its build wrote (image info, layers, SBOMs). Do what
      // a pull did before records were remembered: find no record, and build it again.
      this.records.forgetImage(key);
      result = await this.cachedImage(key, run);
      await this.recordServed(image, request, result.record, pull);
    }
    this.deps.observer?.image?.({ built: result.built });
    return { record: result.record, built: result.built };
  }

  /** Make sure the name serves the image (and its SBOMs); @returns how many members were missing. */
  private async recordServed(image: ParsedImageName, request: ImageRequest, record: ImageRecord, pull?: PullSnapshot): Promise<number> {
    const sboms = await sbomMembersOf(this.deps.metadata, image.canonicalName, record, this.records);
    return this.deps.images.recordImage(image.canonicalName, request.revision, record, sboms, pull);
  }

  /**
   * The image record under `key`: from memory when its blobs still exist (records never change
   * under their key, see ImmutableRecords), else from the metadata store or built.
   */
  private async cachedImage(key: string, run: () => Promise<ImageRecord>): Promise<{ record: ImageRecord; built: boolean; remembered: boolean }> {
    const remembered = this.records.image(key);
    if (remembered !== undefined && (await this.blobsExist(remembered))) return { record: remembered, built: false, remembered: true };
    this.records.forgetImage(key);
    const result = await cachedBuild(this.deps, key, (record: ImageRecord) => this.blobsExist(record), run);
    this.records.rememberImage(key, result.record);
    return { ...result, remembered: false };
  }

  private imageKey(image: ParsedImageName, request: ImageRequest, sourceKey: string | null, coOccurrence: VersionedTable | null): string {
    return imageKey({
      sourceKey,
      request,
      shell: image.shell,
      compression: image.compression,
      layerer: this.deps.layerer.name,
      popularity: this.options.popularityKey ?? null,
      coOccurrence: coOccurrenceKeyPart(coOccurrence),
      maxLayers: this.options.maxLayers,
      level: this.options.levels[image.compression],
    });
  }

  /** Side by side: one wait for the thread pool (or the object store) instead of three. */
  private async blobsExist(record: ImageRecord): Promise<boolean> {
    const digests = [record.oci.digest, record.config.digest, ...(record.docker ? [record.docker.digest] : [])];
    const found = await Promise.all(digests.map((digest) => this.deps.blobs.stat(digest)));
    return found.every((info) => info !== null);
  }
}

/**
 * What, besides the name and the tag, picks one system's image in this process: the source's
 * key of the package set and the co-occurrence table's version. The image key's other parts
 * (packages, shell, compression: the canonical name; layerer, popularity data, limits, levels:
 * fixed for the process) cannot change under a name.
 */
function pullSnapshot(request: ImageRequest, sourceKey: string, coOccurrence: VersionedTable | null): PullSnapshot {
  return { system: request.system, snapshot: `${sourceKey}\u0000${coOccurrence?.version ?? ''}` };
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
