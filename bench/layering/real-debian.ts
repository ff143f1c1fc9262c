/**
 * `npm run bench:layering -- --real-debian [--seeds 1,2,3,4,5 | --seed N] [--pulls N] [--nodes N]
 *   [--budget N]... [--cooc] [--past-pulls N] [--adaptive] [--per-node] [--json] [--cache DIR]
 *   [--write-trace FILE]`
 *
 * Builds real images through a real stowage registry (the Debian source, reading Debian's
 * archive from the machine's apt sources) for small traces' pulls, pulls each one per node
 * over HTTP (manifest, then every blob the node lacks, by digest, each checked against its size
 * and sha256) and counts the bytes each node downloads, beside the simulation's figures for the
 * same trace computed from the closures the registry resolved: the registry's layerer, Nixery's,
 * and the per-package floor; and beside the usual graph simulation of the same trace.
 *
 * One run per seed and budget, each with a fresh registry and empty nodes (real-run.ts says what
 * runs share). `--cooc` adds, per seed and budget, a run whose registry reads a co-occurrence
 * table file made from the closures of another trace (seed + 1000, real-cooc.ts). Tags: the
 * trace's `main` release is `bookworm`, `security` is `latest`. `.deb`s, verified indexes and
 * floor sizes are cached under `--cache` (default: the tests' shared cache in the temp dir).
 */
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { directReferenceCounts, type Popularity } from '../../src/layering/index.js';
import { algorithms as graphAlgorithms } from './algorithms.js';
import { PackageSet } from './package-set.js';
import { formatComparison, type RealImage } from './real-compare.js';
import { PAST_SEED_OFFSET, pastGraphImages, writePastTable } from './real-cooc.js';
import { FloorSizes } from './real-floor.js';
import { configFor, runOnce, type RealContext, type RunResult, type TableFile } from './real-run.js';
import { figuresOf, formatRuns, formatSummary, summarise, type RunFigures } from './real-summary.js';
import { DEFAULT_REAL_TRACE, generateRealTrace } from './real-trace.js';
import { floorBytes, Images, simulate } from './simulate.js';
import { formatTrace, imageKey, type Pull } from './trace.js';

const { values } = parseArgs({
  options: {
    'real-debian': { type: 'boolean', default: true },
    pulls: { type: 'string', default: String(DEFAULT_REAL_TRACE.pulls) },
    nodes: { type: 'string', default: String(DEFAULT_REAL_TRACE.nodes) },
    seed: { type: 'string' },
    seeds: { type: 'string', default: String(DEFAULT_REAL_TRACE.seed) },
    budget: { type: 'string', multiple: true },
    cooc: { type: 'boolean', default: false },
    'past-pulls': { type: 'string' },
    adaptive: { type: 'boolean', default: false },
    'per-node': { type: 'boolean', default: false },
    json: { type: 'boolean', default: false },
    cache: { type: 'string', default: join(tmpdir(), 'stowage-test-debian-cache') },
    'write-trace': { type: 'string' },
    data: { type: 'string', default: fileURLToPath(new URL('../../../shared/data/debian-bookworm', import.meta.url)) },
  },
});
const started = Date.now();
const log = (message: string): void => void process.stderr.write(`[${((Date.now() - started) / 1000).toFixed(1)}s] ${message}\n`);

const set = new PackageSet(values.data);
const seeds = (values.seed ?? values.seeds).split(',').map(Number);
if (seeds.some((s) => !Number.isInteger(s))) throw new Error('--seeds takes integers, comma-separated');
const shape = { ...DEFAULT_REAL_TRACE, pulls: Number(values.pulls), nodes: Number(values.nodes) };
const pastShape = { ...shape, pulls: Number(values['past-pulls'] ?? shape.pulls) };
const traceOf = (seed: number): Pull[] => generateRealTrace(set, { ...shape, seed });
if (values['write-trace']) await writeFile(values['write-trace'], formatTrace(traceOf(seeds[0]!)));
const budgets = (values.budget ?? ['20']).map(Number);
if (budgets.some((b) => !Number.isInteger(b) || b < 1 || b > 124)) throw new Error('--budget takes integers from 1 to 124');
const shapeLabel = `${shape.pulls} pulls, ${shape.nodes} nodes`;

// Nixery's popcount, direct reverse dependencies over the whole Debian graph, by package name.
const byName = directReferenceCounts({
  nodes: set.packages.map((p) => ({ path: p.name, narSize: 0, references: p.refs.map((r) => set.packages[r]!.name) })),
  roots: [],
});
/** `/debian/<name>_<version>_<arch>` → name (the path escapes bytes as `%xx`). */
const nameOf = (path: string): string => decodeURIComponent(path.slice(path.lastIndexOf('/') + 1).split('_')[0]!);
const nixeryPopularity = (image: RealImage): Popularity => new Map(image.graph.nodes.map((n) => [n.path, byName.get(nameOf(n.path)) ?? 1]));

/** Pulled / floor of the usual graph simulation (Nix identities, the graph's population) of `trace`; stowage-cooc's table from `past`. */
function graphSimulation(trace: readonly Pull[], past: readonly Pull[], budget: number): Record<string, number> {
  const images = new Images(set);
  const floor = floorBytes(trace, images);
  const out: Record<string, number> = {};
  for (const algorithm of graphAlgorithms(set, pastGraphImages(set, past)).filter((a) => ['stowage', 'stowage-adaptive', 'stowage-cooc', 'nixery'].includes(a.name))) {
    const metrics = simulate(trace, images, floor, algorithm, budget);
    out[algorithm.name] = metrics.bytesPulled / metrics.floorBytes;
  }
  return out;
}

const work = await mkdtemp(join(tmpdir(), 'stowage-bench-real-'));
const context: RealContext = {
  dataDir: join(work, 'data'),
  cacheDir: values.cache,
  adaptive: values.adaptive,
  floor: await FloorSizes.open(join(values.cache, 'bench-floor-sizes.json')),
  nixeryPopularity,
  log,
};
await mkdir(values.cache, { recursive: true });
const figures: RunFigures[] = [];
const runs: Array<{ seed: number; result: RunResult; graph: Record<string, number> }> = [];
try {
  for (const seed of seeds) {
    const trace = traceOf(seed);
    const past = generateRealTrace(set, { ...pastShape, seed: seed + PAST_SEED_OFFSET });
    log(`seed ${seed}: ${trace.length} pulls on ${new Set(trace.map((p) => p.node)).size} nodes, ${new Set(trace.map(imageKey)).size} distinct images; .deb cache ${values.cache}`);
    let table: TableFile | null = null;
    for (const budget of budgets) {
      const graph = graphSimulation(trace, past, budget);
      for (const cooc of values.cooc ? [false, true] : [false]) {
        if (cooc && table === null) {
          // The first run resolved with the shared source; the past trace's closures come from it too.
          if (!context.source) throw new Error('no source to resolve the past trace with');
          table = await writePastTable(context.source, configFor(context, budget, null), past, work, `seed-${seed}`);
          log(`seed ${seed}: co-occurrence table of ${table.table.table.total} past images (seed ${seed + PAST_SEED_OFFSET}), ${table.table.table.signatures.size} names, version ${table.table.version}`);
        }
        const result = await runOnce(context, trace, budget, cooc ? table : null);
        const row = figuresOf(shapeLabel, seed, result, graph);
        figures.push(row);
        runs.push({ seed, result, graph });
        log(`seed ${seed} budget ${budget}${cooc ? ' cooc' : ''}: real / floor ${row.real.toFixed(3)}x, sim ${row.sim.toFixed(3)}x, graph sim ${row.graph.toFixed(3)}x, ${row.groupsMatched}/${row.images} groups as simulated, ${context.floor.written} floor packages compressed so far`);
      }
    }
  }
} finally {
  await rm(work, { recursive: true, force: true });
}

const summary = summarise(figures);
if (values.json) {
  process.stdout.write(`${JSON.stringify({ trace: shape, pastTrace: pastShape, seeds, budgets, summary, figures, runs })}\n`);
} else {
  if (values['per-node']) {
    for (const { seed, result } of runs) {
      process.stdout.write(`\nSeed ${seed}, budget ${result.budget} (maxLayers ${result.budget + 1})${result.coOccurrence ? ', with the co-occurrence table' : ''}, registry layerer ${result.algorithm}; MB = 10^6 bytes\n\n`);
      process.stdout.write(`${formatComparison(result.comparison, result.algorithm)}\n`);
    }
  }
  process.stdout.write(`\nPer run (totals over the nodes; MB = 10^6 bytes):\n\n${formatRuns(figures)}\n`);
  process.stdout.write(`\nOver the seeds, median (min–max):\n\n${formatSummary(summary)}\n`);
}
log('done');
