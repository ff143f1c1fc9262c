import { lstat, readdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { mapBounded } from '../../src/builder/bounded-map.js';
import { writeStorePathLayer, type DeflateCompressors, type LayerCompression } from '../../src/builder/layer/index.js';
import { StowageLayerer, closurePopularity, type LayeringGraph } from '../../src/layering/index.js';
import type { StoreReader } from '../../src/sources/types.js';
import { DiscardingBlobStore } from './discarding-store.js';
import { threadCpuBetween, threadTimes, type ThreadCpu } from './thread-cpu.js';

/** One timed build of a set of layers by stowage. */
export interface StowageRun {
  readonly seconds: number;
  /** CPU time of the whole process, every thread (compressors, store walkers) included. */
  readonly cpuSeconds: number;
  readonly size: number;
  readonly uncompressed: number;
  /** Peak resident set of the process during the build (Linux VmHWM, reset before it). */
  readonly peakRssBytes: number;
  /**
   * Per thread (Linux): seconds on a CPU, waiting for one, and idle. The idle time of the
   * compressor threads is what the pipeline starves them of, whatever the machine's load; the
   * main thread's CPU over the wall time is its busy fraction.
   */
  readonly threads: ThreadCpu;
  /** The layers' digests and diff_ids in layer order: the same input must give the same. */
  readonly digests: string;
}

export interface StowageBuild {
  readonly reader: StoreReader;
  /** Store paths of each layer, bottom first, with their sizes (for the start order). */
  readonly layers: ReadonlyArray<{ readonly paths: readonly string[]; readonly bytes: number }>;
  readonly compression: LayerCompression;
  readonly level: number;
  /** Layers at once: what builds.layerParallelism sets in the registry. */
  readonly parallelism: number;
  readonly gzipCompressors: DeflateCompressors;
}

/**
 * Build every layer into a store that keeps nothing, side by side and largest first with the
 * scheduler the image builder uses (mapBounded), and measure time, CPU and peak RSS.
 */
export async function timeStowage(build: StowageBuild): Promise<StowageRun> {
  const store = new DiscardingBlobStore();
  globalThis.gc?.();
  await resetPeakRss();
  const threadsBefore = await threadTimes();
  const cpu = process.cpuUsage();
  const started = process.hrtime.bigint();
  const order = build.layers.map((_layer, index) => index).sort((a, b) => (build.layers[b]?.bytes ?? 0) - (build.layers[a]?.bytes ?? 0) || a - b);
  const blobs = await mapBounded(
    build.layers,
    (layer, _index, signal) =>
      writeStorePathLayer({ reader: build.reader, storePaths: layer.paths, compression: build.compression, level: build.level, store, signal, gzipCompressors: build.gzipCompressors }),
    { limit: build.parallelism, startOrder: order },
  );
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  const used = process.cpuUsage(cpu);
  const threads = threadCpuBetween(threadsBefore, await threadTimes(), seconds);
  return {
    seconds,
    cpuSeconds: (used.user + used.system) / 1e6,
    size: blobs.reduce((total, blob) => total + blob.size, 0),
    uncompressed: blobs.reduce((total, blob) => total + blob.uncompressedSize, 0),
    peakRssBytes: await peakRss(),
    threads,
    digests: blobs.map((blob) => `${blob.digest}/${blob.diffId}`).join(' '),
  };
}

/** The closure grouped into at most `maxLayers` layers by the registry's default layerer. */
export async function layersOf(storeDir: string, storePaths: readonly string[], maxLayers: number): Promise<StowageBuild['layers']> {
  const sizes = new Map<string, number>();
  for (const storePath of storePaths) sizes.set(storePath, await treeBytes(path.join(storeDir, path.basename(storePath))));
  const graph: LayeringGraph = { nodes: storePaths.map((storePath) => ({ path: storePath, narSize: sizes.get(storePath) ?? 0, references: [] })), roots: [...storePaths] };
  return new StowageLayerer().group(graph, closurePopularity(graph), maxLayers).map((layer) => ({
    paths: layer.paths,
    bytes: layer.paths.reduce((total, storePath) => total + (sizes.get(storePath) ?? 0), 0),
  }));
}

async function treeBytes(file: string): Promise<number> {
  const info = await lstat(file);
  if (!info.isDirectory()) return info.size;
  let total = 0;
  for (const name of await readdir(file)) total += await treeBytes(path.join(file, name));
  return total;
}

/** Linux: writing 5 to clear_refs resets the peak RSS (VmHWM) to the current RSS. */
async function resetPeakRss(): Promise<void> {
  await writeFile('/proc/self/clear_refs', '5').catch(() => undefined);
}

async function peakRss(): Promise<number> {
  const status = await readFile('/proc/self/status', 'utf8').catch(() => '');
  const kib = /VmHWM:\s+(\d+) kB/.exec(status)?.[1];
  return kib ? Number(kib) * 1024 : process.resourceUsage().maxRSS * 1024;
}
