import { availableParallelism } from 'node:os';
import { basename } from 'node:path';
import type { Logger } from 'pino';
import type { Layer, Layerer, LayeringGraph, Popularity } from '../layering/types.js';
import { CoOccurrencePopularity } from '../layering/index.js';
import type { CoOccurrenceData } from './frozen-co-occurrence.js';
import type { VersionedTable } from './co-occurrence-file.js';
import type { ClosureGraph, ImageRequest, PackageSource } from '../sources/types.js';
import type { BlobStore } from '../storage/types.js';
import { putBlob } from '../storage/blob-io.js';
import { imageConfigJson, imageManifestJson, type ImageLayer, type Platform } from '../oci/image.js';
import { MediaType, type LayerCompression } from '../oci/media-types.js';
import type { ParsedImageName } from '../image-name/image-name.js';
import type { CachedBuildDeps } from './cached-build.js';
import { LayerBuilder } from './layer-builder.js';
import type { CachedResult } from './cached-build.js';
import { mapBounded } from './bounded-map.js';
import type { DeflateCompressors } from './layer/index.js';
import type { ImageRecord, LayerRecord } from './records.js';
import { CountingBlobStore } from './counting-blob-store.js';
import { recordImageInfo, type ImageInfoLayer } from './image-info.js';
import { planRootFsTopLayer, planTopLayer, type TopLayerPlan } from './top-layer.js';
import { defaultCmd } from './default-cmd.js';
import { writeImageSbom } from './sbom-artifact.js';
import { formatSize, type BuildObserver, type SystemProgress } from './build-progress.js';

export interface SystemBuildDeps extends CachedBuildDeps {
  readonly source: PackageSource;
  readonly layerer: Layerer;
  readonly popularity: (graph: LayeringGraph) => Popularity;
  readonly blobs: BlobStore;
  readonly logger: Logger;
  /** Told of cache hits and misses, for metrics. */
  readonly observer?: BuildObserver;
  /** The threads gzip layers are compressed on (default: one pool per process). */
  readonly gzipCompressors?: DeflateCompressors;
  /** Which packages images ship together (image.coOccurrence); built closures are recorded into it. */
  readonly coOccurrence?: CoOccurrenceData;
}

export interface SystemBuildOptions {
  /** Most layers per image, the top layer included. */
  readonly maxLayers: number;
  readonly levels: Readonly<Record<LayerCompression, number>>;
  readonly labels?: Readonly<Record<string, string>>;
  /** Layers of one image built at once (default: one per core). */
  readonly layerParallelism?: number;
}

/** One system's image to build: the name, its request for that system, and where to report. */
export interface SystemBuildJob {
  readonly image: ParsedImageName;
  readonly request: ImageRequest;
  readonly platform: Platform;
  /** The key the image is cached under (null: not cached), which the closure must match. */
  readonly sourceKey: string | null;
  readonly progress: SystemProgress;
  /** The co-occurrence table the image key was made with: the build layers with that one. */
  readonly coOccurrence?: VersionedTable | null;
}

/** The closure grouped into store path layers, bottom first, leaving one layer for the top. */
export function groupClosure(deps: Pick<SystemBuildDeps, 'layerer' | 'popularity'>, options: Pick<SystemBuildOptions, 'maxLayers'>, closure: ClosureGraph, coOccurrence: VersionedTable | null): Layer[] {
  const graph: LayeringGraph = {
    nodes: closure.paths.map((info) => ({ path: info.path, narSize: info.narSize, references: info.references })),
    roots: closure.roots,
  };
  const counts = closure.popularity ?? deps.popularity(graph);
  return deps.layerer.group(graph, coOccurrence ? new CoOccurrencePopularity(counts, coOccurrence.table) : counts, options.maxLayers - 1);
}

/** Sum of the NAR sizes of `paths`, by `sizes`. */
export function narSizeOf(paths: readonly string[], sizes: ReadonlyMap<string, number>): number {
  return paths.reduce((total, path) => total + (sizes.get(path) ?? 0), 0);
}

/**
 * One system's image: resolve the closure, build each missing layer (store paths, then the top
 * layer) once into the blob store, write config and manifests, then the SBOM and explorer info.
 */
export async function buildSystemImage(deps: SystemBuildDeps, options: SystemBuildOptions, job: SystemBuildJob, signal: AbortSignal): Promise<ImageRecord> {
  const { image, request, progress } = job;
  const system = request.system;
  const log = deps.logger.child({ image: image.canonicalName, revision: request.revision, system });
  const started = Date.now();
  log.info({ packages: request.packages }, 'image build started');
  progress.report({ phase: 'resolving' });

  // With the key the image is cached under, so a branch that moved meanwhile can't mix states.
  const closure = await deps.source.resolve(request, { signal, cacheKey: job.sourceKey, onProgress: progress.fromSource });
  const reader = closure.reader ?? deps.source.reader;
  const groups = groupClosure(deps, options, closure, job.coOccurrence ?? null);
  const narHashes = new Map(closure.paths.map((info) => [info.path, info.narHash ?? '']));
  const settings = { compression: image.compression, level: options.levels[image.compression] };
  progress.report({ phase: 'layers', layersTotal: groups.length + 1, layersDone: 0, closurePaths: closure.paths.length });
  progress.log('log', `closure of ${closure.paths.length} paths in ${groups.length + 1} layers`);
  const logLayer = (built: boolean, size: number, what: string): void =>
    progress.log('layer', `layer ${layers.length + 1} of ${groups.length + 1} ${built ? 'written' : 'found in the cache'}: ${formatSize(size)}, ${what}`);

  // Layers go through a counting store so progress can show the bytes written so far.
  const counting = new CountingBlobStore(deps.blobs);
  const layerBuilder = new LayerBuilder({ ...deps, blobs: counting });
  const stopReporting = progress.reportBytesWritten(counting);
  const layers: ImageLayer[] = [];
  const infoLayers: ImageInfoLayer[] = [];
  const sizes = new Map(closure.paths.map((info) => [info.path, info.narSize]));
  let builtLayers = 0;
  let layersDone = 0;
  let top: TopLayerPlan | undefined;
  // One task per layer, the top layer last; independent, so they run side by side.
  const tasks: Array<(taskSignal: AbortSignal) => Promise<CachedResult<LayerRecord>>> = [
    ...groups.map((group) => (taskSignal: AbortSignal) =>
      closure.rootFs
        ? layerBuilder.rootFsLayer(closure.rootFs.reader, group, narHashes, settings, taskSignal)
        : layerBuilder.storePathLayer(reader, group, narHashes, settings, taskSignal),
    ),
    async (taskSignal: AbortSignal) => {
      top = closure.rootFs
        ? await planRootFsTopLayer(closure.rootFs, image.shell, taskSignal)
        : await planTopLayer(reader, closure.roots, closure.paths.map((info) => info.path), taskSignal);
      return layerBuilder.syntheticLayer(top.entries, settings, taskSignal);
    },
  ];
  const narSizes = [...groups.map((group) => narSizeOf(group.paths, sizes)), 0];
  let results: CachedResult<LayerRecord>[];
  try {
    results = await mapBounded(
      tasks,
      async (task, index, taskSignal) => {
        const result = await task(taskSignal);
        const isTop = index === groups.length;
        if (result.built) log.info({ digest: result.record.digest, size: result.record.size, ...(isTop ? { top: true } : { paths: groups[index]?.paths.length }) }, 'layer built');
        const paths = groups[index]?.paths ?? [];
        logLayer(result.built, result.record.size, isTop ? 'the top layer' : paths.length === 1 ? basename(paths[0] as string) : `${paths.length} paths`);
        builtLayers += result.built ? 1 : 0;
        deps.observer?.layer?.({ built: result.built, size: result.record.size });
        layersDone += 1;
        progress.report({ layersDone, bytesWritten: counting.bytesWritten });
        return result;
      },
      // The biggest layers start first, so the build does not end waiting on one of them alone.
      { limit: options.layerParallelism ?? availableParallelism(), signal, startOrder: largestFirst(narSizes) },
    );
  } finally {
    stopReporting();
  }
  if (top === undefined) throw new Error('the top layer was not planned');
  for (const [index, { record }] of results.entries()) {
    const group = groups[index];
    if (group) {
      layers.push({ ...record, comment: describeLayer(group.paths) });
      infoLayers.push({ digest: record.digest, size: record.size, kind: 'store', storePaths: group.paths, narSize: narSizes[index] ?? 0 });
    } else {
      layers.push({ ...record, comment: 'stowage: /bin, /usr/bin, /etc, /tmp' });
      infoLayers.push({ digest: record.digest, size: record.size, kind: 'top', storePaths: [], narSize: 0 });
    }
  }
  progress.report({ phase: 'manifest', layersDone: layers.length, bytesWritten: counting.bytesWritten });

  // The source that built the image, not the routing in front of it (ClosureGraph.source).
  const sourceName = closure.source ?? deps.source.name;
  const record = await writeManifests(deps, options, job, sourceName, layers, top, signal);
  await writeImageSbom(deps, { image: image.canonicalName, revision: request.revision, system, source: sourceName, sourceKey: job.sourceKey, closure, record }, signal);
  await recordImageInfo(deps.metadata, [record.oci.digest, ...(record.docker ? [record.docker.digest] : [])], {
    image: image.canonicalName,
    revision: request.revision,
    system,
    packages: request.packages,
    closurePaths: closure.paths.length,
    layers: infoLayers,
    builtAt: new Date().toISOString(),
  });
  // The population of later tables; losing one record only makes the next table a little older.
  await deps.coOccurrence?.record(closure.paths.map((info) => info.path)).catch((error: unknown) => log.warn({ err: error }, 'recording the closure for co-occurrence failed'));
  log.info(
    { packages: request.packages, durationMs: Date.now() - started, layers: layers.length, builtLayers, closurePaths: closure.paths.length, digest: record.oci.digest },
    'image build finished',
  );
  return record;
}

/** The image config, the OCI manifest and (for gzip layers, which Docker reads) the Docker manifest. */
async function writeManifests(
  deps: SystemBuildDeps,
  options: SystemBuildOptions,
  job: SystemBuildJob,
  sourceName: string,
  layers: readonly ImageLayer[],
  top: TopLayerPlan,
  signal: AbortSignal,
): Promise<ImageRecord> {
  const { image, request } = job;
  const labels = {
    ...options.labels,
    'dev.stowage.packages': request.packages.join(' '),
    'dev.stowage.revision': request.revision,
    'dev.stowage.source': sourceName,
    'dev.stowage.system': request.system,
    'org.opencontainers.image.title': image.canonicalName,
  };
  const env = top.config ? [...top.config.env] : ['PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin'];
  if (!top.config && top.caBundle !== null) env.push(`SSL_CERT_FILE=${top.caBundle}`, `NIX_SSL_CERT_FILE=${top.caBundle}`);
  const cmd = top.config ? top.config.cmd : (defaultCmd(image.shell, request.packages, top.binaries).cmd ?? null);
  const configBytes = imageConfigJson(job.platform, layers, {
    env,
    ...(cmd ? { cmd: [...cmd] } : {}),
    labels,
  });
  const config = await putBlob(deps.blobs, configBytes, signal);
  const oci = await putBlob(deps.blobs, imageManifestJson('oci', config, layers), signal);
  let docker: ImageRecord['docker'] = null;
  if (image.compression === 'gzip') {
    const dockerInfo = await putBlob(deps.blobs, imageManifestJson('docker', config, layers), signal);
    docker = { ...dockerInfo, mediaType: MediaType.dockerManifest };
  }
  return { oci: { ...oci, mediaType: MediaType.ociManifest }, docker, config, layers: layers.map((layer) => layer.digest) };
}

/** Indexes of `sizes`, largest first (ties in index order, so the order is stable). */
function largestFirst(sizes: readonly number[]): number[] {
  return sizes.map((_size, index) => index).sort((a, b) => (sizes[b] ?? 0) - (sizes[a] ?? 0) || a - b);
}

/** History comment naming a layer's store paths (abbreviated for big layers). */
function describeLayer(paths: readonly string[]): string {
  const names = paths.map((path) => basename(path));
  const shown = names.slice(0, 12).join(' ');
  return names.length > 12 ? `${shown} and ${names.length - 12} more store paths` : shown;
}
