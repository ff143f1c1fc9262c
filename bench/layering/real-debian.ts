/**
 * `npm run bench:layering -- --real-debian [--pulls N] [--nodes N] [--seed N] [--budget N]...
 *   [--adaptive] [--json] [--cache DIR] [--write-trace FILE]`
 *
 * Builds real images through a real stowage registry (the Debian source, reading Debian's
 * archive from the machine's apt sources) for a small trace's pulls, pulls each one per node
 * over HTTP (manifest, then every blob the node lacks, by digest) and counts the bytes each node
 * downloads, beside the simulation's figures for the same trace computed from the closures the
 * registry resolved: the registry's layerer, Nixery's, and the per-package floor.
 *
 * Tags: the trace's `main` release is the tag `bookworm` (the release as published), `security`
 * is `latest` (bookworm with bookworm-updates and bookworm-security). `.deb`s and verified
 * indexes are cached under `--cache` (default: the tests' shared cache in the temp dir), so only
 * the first run downloads them; each budget gets a fresh registry (its layers are built anew).
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { AddressInfo } from 'node:net';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { buildApp, imageNameOptionsOf } from '../../src/app.js';
import { writeRootFsLayer } from '../../src/builder/layer/index.js';
import { createLayerer } from '../../src/compose-layering.js';
import { parseConfig } from '../../src/config/load.js';
import { parseImageName, requestFor } from '../../src/image-name/image-name.js';
import { directReferenceCounts, NixeryLayerer, type Popularity } from '../../src/layering/index.js';
import { MemoryBlobStore } from '../../src/storage/memory-blob-store.js';
import { PackageSet } from './package-set.js';
import { compare, formatComparison, RealImages, type Comparison, type RealImage } from './real-compare.js';
import { RealPuller } from './real-pulls.js';
import { DEFAULT_REAL_TRACE, generateRealTrace } from './real-trace.js';
import { algorithms as graphAlgorithms } from './algorithms.js';
import { floorBytes, Images, simulate, type Algorithm } from './simulate.js';
import { formatTrace, imageKey, type Pull } from './trace.js';

const { values } = parseArgs({
  options: {
    'real-debian': { type: 'boolean', default: true },
    pulls: { type: 'string', default: String(DEFAULT_REAL_TRACE.pulls) },
    nodes: { type: 'string', default: String(DEFAULT_REAL_TRACE.nodes) },
    seed: { type: 'string', default: String(DEFAULT_REAL_TRACE.seed) },
    budget: { type: 'string', multiple: true },
    adaptive: { type: 'boolean', default: false },
    json: { type: 'boolean', default: false },
    cache: { type: 'string', default: join(tmpdir(), 'stowage-test-debian-cache') },
    'write-trace': { type: 'string' },
    data: { type: 'string', default: fileURLToPath(new URL('../../../shared/data/debian-bookworm', import.meta.url)) },
  },
});
const started = Date.now();
const log = (message: string): void => void process.stderr.write(`[${((Date.now() - started) / 1000).toFixed(1)}s] ${message}\n`);
const TAGS = { main: 'bookworm', security: 'latest' } as const;
const SYSTEM = 'x86_64-linux';

const set = new PackageSet(values.data);
const trace = generateRealTrace(set, { ...DEFAULT_REAL_TRACE, seed: Number(values.seed), pulls: Number(values.pulls), nodes: Number(values.nodes) });
if (values['write-trace']) await writeFile(values['write-trace'], formatTrace(trace));
const budgets = (values.budget ?? ['20']).map(Number);
if (budgets.some((b) => !Number.isInteger(b) || b < 1 || b > 124)) throw new Error('--budget takes integers from 1 to 124');
log(`${trace.length} pulls on ${new Set(trace.map((p) => p.node)).size} nodes, ${new Set(trace.map(imageKey)).size} distinct images; .deb cache ${values.cache}`);

// Nixery's popcount, direct reverse dependencies over the whole Debian graph, by package name.
const byName = directReferenceCounts({
  nodes: set.packages.map((p) => ({ path: p.name, narSize: 0, references: p.refs.map((r) => set.packages[r]!.name) })),
  roots: [],
});
/** `/debian/<name>_<version>_<arch>` → name (the path escapes bytes as `%xx`). */
const nameOf = (path: string): string => decodeURIComponent(path.slice(path.lastIndexOf('/') + 1).split('_')[0]!);
const nixeryPopularity = (image: RealImage): Popularity => new Map(image.graph.nodes.map((n) => [n.path, byName.get(nameOf(n.path)) ?? 1]));

// The usual simulation of the same trace over the Debian graph (Nix identities, the graph's
// population), for comparison with the one over the registry's own closures.
const graphImages = new Images(set);
const graphFloor = floorBytes(trace, graphImages);
const graphSimulation = (budget: number): Record<string, number> => {
  const out: Record<string, number> = {};
  for (const algorithm of graphAlgorithms(set).filter((a) => ['stowage', 'stowage-adaptive', 'nixery'].includes(a.name))) {
    const metrics = simulate(trace, graphImages, graphFloor, algorithm, budget);
    out[algorithm.name] = metrics.bytesPulled / metrics.floorBytes;
  }
  return out;
};

const imageName = (pull: Pull): string => [...new Set(pull.packages)].sort().join('/');

interface BudgetResult {
  readonly budget: number;
  readonly comparison: Comparison;
  readonly algorithm: string;
  readonly seconds: number;
  /** Pulled / floor of the graph simulation (bench/layering's usual one) for the same trace. */
  readonly graphSimulation: Record<string, number>;
}

async function runBudget(budget: number): Promise<BudgetResult> {
  const dataDir = await mkdtemp(join(tmpdir(), 'stowage-bench-real-'));
  const config = parseConfig({
    host: '127.0.0.1',
    port: 0,
    dataDir,
    logLevel: 'warn',
    source: { kind: 'debian', debian: { cacheDir: values.cache } },
    image: { maxLayers: budget + 1, adaptiveLayers: values.adaptive },
    builds: { requestWaitMs: 0 },
    web: { enabled: true },
  });
  const app = await buildApp(config, { env: {} });
  try {
    await app.server.listen({ host: '127.0.0.1', port: 0 });
    const url = `http://127.0.0.1:${(app.server.server.address() as AddressInfo).port}`;
    const puller = new RealPuller((target, init) => fetch(target, init), url);
    const begun = Date.now();
    for (const [i, pull] of trace.entries()) {
      const record = await puller.pull(pull.node, imageName(pull), TAGS[pull.release]);
      const got = record.layers.filter((l) => l.downloaded);
      log(`budget ${budget} pull ${i + 1}/${trace.length} ${pull.node} ${record.image}: ${got.length}/${record.layers.length} layers, ${(got.reduce((s, l) => s + l.bytes, 0) / 1e6).toFixed(1)} MB`);
    }
    const seconds = (Date.now() - begun) / 1000;
    // The closures the registry resolved, and the layers it built (its image info, over HTTP).
    const options = imageNameOptionsOf(config);
    const images = new Map<string, RealImage>();
    // The floor on the wire: every package written alone as a gzip layer, as the registry would.
    const alone = new Map<string, { gzip: number; tar: number }>();
    for (const pull of trace) {
      const key = imageKey(pull);
      if (images.has(key)) continue;
      const parsed = parseImageName(imageName(pull), TAGS[pull.release], options);
      const closure = await app.source.resolve(requestFor(parsed, SYSTEM), { signal: new AbortController().signal });
      const graph = { nodes: closure.paths.map((p) => ({ path: p.path, narSize: p.narSize, references: p.references })), roots: closure.roots };
      const info = (await (await fetch(`${url}/api/v1/images/${imageName(pull)}?tag=${TAGS[pull.release]}`)).json()) as {
        platforms: Array<{ layers: Array<{ kind: string; size: number; storePaths: string[] }> }>;
      };
      const layers = info.platforms[0]?.layers ?? [];
      const rootFs = closure.rootFs;
      if (!rootFs) throw new Error('the Debian source gave no root-fs closure');
      for (const { path } of closure.paths) {
        if (alone.has(path)) continue;
        const blob = await writeRootFsLayer({ reader: rootFs.reader, paths: [path], compression: 'gzip', level: config.image.gzipLevel, store: new MemoryBlobStore() });
        alone.set(path, { gzip: blob.size, tar: blob.uncompressedSize });
      }
      images.set(key, {
        key,
        release: pull.release,
        packages: [...new Set(pull.packages)].sort(),
        graph,
        sizes: new Map(graph.nodes.map((n) => [n.path, n.narSize])),
        popularity: closure.popularity ?? new Map(),
        registryLayers: layers.filter((l) => l.kind === 'store').map((l) => ({ paths: l.storePaths, size: l.size })),
        gzipSizes: new Map(closure.paths.map((p) => [p.path, alone.get(p.path)!.gzip])),
        tarSizes: new Map(closure.paths.map((p) => [p.path, alone.get(p.path)!.tar])),
      });
    }
    const layerer = createLayerer(config);
    const algorithms: Algorithm[] = [
      { name: layerer.name, layerer, popularity: ({ image }) => (image as RealImage).popularity },
      { name: 'nixery', layerer: new NixeryLayerer(), popularity: ({ image }) => nixeryPopularity(image as RealImage) },
      { name: 'floor', layerer: null, popularity: () => new Map() },
    ];
    const comparison = compare(trace, new RealImages(images), puller.records, algorithms, budget, layerer);
    return { budget, comparison, algorithm: layerer.name, seconds, graphSimulation: graphSimulation(budget) };
  } finally {
    await app.server.close();
    await rm(dataDir, { recursive: true, force: true });
  }
}

const results = [];
for (const budget of budgets) results.push(await runBudget(budget));
if (values.json) {
  process.stdout.write(`${JSON.stringify({ trace: { pulls: trace.length, nodes: Number(values.nodes), seed: Number(values.seed) }, budgets: results })}\n`);
} else {
  for (const { budget, comparison, algorithm, seconds, graphSimulation: graph } of results) {
    process.stdout.write(`\nBudget ${budget} (maxLayers ${budget + 1}), registry layerer ${algorithm}, pulls took ${seconds.toFixed(0)} s (builds included); `);
    process.stdout.write(`${comparison.groupsMatched}/${comparison.images} images built with exactly the simulated groups; ${comparison.layersPerImage.toFixed(1)} layers per image; MB = 10^6 bytes\n\n`);
    process.stdout.write(`${formatComparison(comparison, algorithm)}\n\n`);
    const figures = Object.entries(graph).map(([name, r]) => `${name} ${r.toFixed(3)}x`).join(', ');
    process.stdout.write(`The same trace simulated over the Debian graph (Nix identities, installed sizes), pulled / floor: ${figures}\n`);
  }
}
log('done');
