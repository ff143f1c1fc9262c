/**
 * One run of the real-registry bench: a registry for one budget (and, in the co-occurrence mode,
 * an operator's table file), every pull of a trace through it, then the closures it resolved and
 * the layers it built, compared with the simulation (real-compare.ts).
 *
 * Runs of one bench process share what does not depend on the run: the package source (its
 * verified indexes, `.deb` cache and popularity), the data directory (a layer holding the same
 * packages is built once and found in the layer cache by later runs, as in a registry that
 * serves several budgets; images are keyed by budget and table, so each run builds its own
 * images and manifests), and the floor sizes (real-floor.ts). Nothing of that changes what a
 * node downloads: each run's nodes start empty, and every blob is checked (size, sha256).
 */
import type { AddressInfo } from 'node:net';
import { buildApp, imageNameOptionsOf } from '../../src/app.js';
import type { VersionedTable } from '../../src/builder/co-occurrence-file.js';
import { createLayerer } from '../../src/compose-layering.js';
import { parseConfig } from '../../src/config/load.js';
import type { Config } from '../../src/config/schema.js';
import { parseImageName, requestFor } from '../../src/image-name/image-name.js';
import { CoOccurrencePopularity, NixeryLayerer, type Popularity } from '../../src/layering/index.js';
import type { ClosureGraph, PackageSource } from '../../src/sources/types.js';
import type { FloorSizes } from './real-floor.js';
import { compare, RealImages, type Comparison, type RealImage } from './real-compare.js';
import { RealPuller } from './real-pulls.js';
import type { Algorithm } from './simulate.js';
import { imageKey, type Pull } from './trace.js';

/** The trace's `main` release is the release as published, `security` the tag with its updates. */
export const TAGS = { main: 'bookworm', security: 'latest' } as const;
const SYSTEM = 'x86_64-linux';

export const imageName = (pull: Pull): string => [...new Set(pull.packages)].sort().join('/');

/** What the runs of one bench process share (see above). */
export interface RealContext {
  readonly dataDir: string;
  readonly cacheDir: string;
  readonly adaptive: boolean;
  readonly floor: FloorSizes;
  /** Nixery's popularity for a closure (direct reverse dependencies by name). */
  readonly nixeryPopularity: (image: RealImage) => Popularity;
  readonly log: (message: string) => void;
  /** The first run's source, handed to every later registry. */
  source?: PackageSource;
}

/** The co-occurrence mode's table: the file the registry reads, and the table as parsed from it. */
export interface TableFile {
  readonly file: string;
  readonly table: VersionedTable;
}

export interface RunResult {
  readonly budget: number;
  readonly coOccurrence: boolean;
  readonly comparison: Comparison;
  readonly algorithm: string;
  /** Wall time of the pulls, builds included. */
  readonly seconds: number;
}

export function configFor(context: RealContext, budget: number, table: TableFile | null): Config {
  return parseConfig({
    host: '127.0.0.1',
    port: 0,
    dataDir: context.dataDir,
    logLevel: 'warn',
    source: { kind: 'debian', debian: { cacheDir: context.cacheDir } },
    image: {
      maxLayers: budget + 1,
      adaptiveLayers: context.adaptive,
      ...(table ? { coOccurrence: { enabled: true, file: table.file } } : {}),
    },
    builds: { requestWaitMs: 0 },
    web: { enabled: true },
  });
}

/** The closure the source resolves for a pull's image (what the registry built it from). */
export function resolvePull(source: PackageSource, config: Config, pull: Pull): Promise<ClosureGraph> {
  const parsed = parseImageName(imageName(pull), TAGS[pull.release], imageNameOptionsOf(config));
  return source.resolve(requestFor(parsed, SYSTEM), { signal: new AbortController().signal });
}

export async function runOnce(context: RealContext, trace: readonly Pull[], budget: number, table: TableFile | null): Promise<RunResult> {
  const config = configFor(context, budget, table);
  const app = await buildApp(config, { env: {}, ...(context.source ? { source: context.source } : {}) });
  context.source ??= app.source;
  const mode = `budget ${budget}${table ? ' cooc' : ''}`;
  try {
    await app.server.listen({ host: '127.0.0.1', port: 0 });
    const url = `http://127.0.0.1:${(app.server.server.address() as AddressInfo).port}`;
    const puller = new RealPuller((target, init) => fetch(target, init), url);
    const begun = Date.now();
    for (const [i, pull] of trace.entries()) {
      const record = await puller.pull(pull.node, imageName(pull), TAGS[pull.release]);
      const got = record.layers.filter((l) => l.downloaded);
      context.log(`${mode} pull ${i + 1}/${trace.length} ${pull.node} ${record.image}: ${got.length}/${record.layers.length} layers, ${(got.reduce((s, l) => s + l.bytes, 0) / 1e6).toFixed(1)} MB`);
    }
    const seconds = (Date.now() - begun) / 1000;
    const images = new Map<string, RealImage>();
    for (const pull of trace) {
      const key = imageKey(pull);
      if (images.has(key)) continue;
      images.set(key, await realImage(context, app.source, config, url, pull, table));
    }
    await context.floor.save();
    const layerer = createLayerer(config);
    const algorithms: Algorithm[] = [
      { name: layerer.name, layerer, popularity: ({ image }) => (image as RealImage).popularity },
      { name: 'nixery', layerer: new NixeryLayerer(), popularity: ({ image }) => context.nixeryPopularity(image as RealImage) },
      { name: 'floor', layerer: null, popularity: () => new Map() },
    ];
    const comparison = compare(trace, new RealImages(images), puller.records, algorithms, budget, layerer);
    return { budget, coOccurrence: table !== null, comparison, algorithm: layerer.name, seconds };
  } finally {
    await app.server.close();
  }
}

/** The closure the registry resolved for `pull`, the layers it built (its image info, over HTTP), and the per-package floor sizes. */
async function realImage(context: RealContext, source: PackageSource, config: Config, url: string, pull: Pull, table: TableFile | null): Promise<RealImage> {
  const closure = await resolvePull(source, config, pull);
  const graph = { nodes: closure.paths.map((p) => ({ path: p.path, narSize: p.narSize, references: p.references })), roots: closure.roots };
  const info = (await (await fetch(`${url}/api/v1/images/${imageName(pull)}?tag=${TAGS[pull.release]}`)).json()) as {
    platforms: Array<{ layers: Array<{ kind: string; size: number; storePaths: string[] }> }>;
  };
  const layers = info.platforms[0]?.layers ?? [];
  const rootFs = closure.rootFs;
  if (!rootFs) throw new Error('the Debian source gave no root-fs closure');
  const gzipSizes = new Map<string, number>();
  const tarSizes = new Map<string, number>();
  for (const { path, narHash } of closure.paths) {
    const alone = await context.floor.of(rootFs.reader, path, narHash ?? '', config.image.gzipLevel);
    gzipSizes.set(path, alone.gzip);
    tarSizes.set(path, alone.tar);
  }
  const counts = closure.popularity ?? new Map<string, number>();
  return {
    key: imageKey(pull),
    release: pull.release,
    packages: [...new Set(pull.packages)].sort(),
    graph,
    sizes: new Map(graph.nodes.map((n) => [n.path, n.narSize])),
    // What the registry layers with: the source's counts, and the operator's table in that mode.
    popularity: table ? new CoOccurrencePopularity(counts, table.table.table) : counts,
    registryLayers: layers.filter((l) => l.kind === 'store').map((l) => ({ paths: l.storePaths, size: l.size })),
    gzipSizes,
    tarSizes,
  };
}
