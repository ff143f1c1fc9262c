/**
 * Layer build benchmark: stowage's streaming layer writer against `tar | gzip` / `tar | zstd`
 * on the same store paths.
 *
 *   npm run bench:build                       closure of examples/pkgs hello, busybox, bigdata
 *   npm run bench:build -- --paths /nix/store/a-x /nix/store/b-y
 *   npm run bench:build -- --repeat 7 --json
 *
 * Configurations run interleaved: one warm-up round, then `--repeat` rounds; the median of
 * each is reported (the machine may be shared, so interleaving spreads outside load evenly). Stowage builds every layer into a fresh MemoryBlobStore.
 */
import { availableParallelism, loadavg } from 'node:os';
import { parseArgs } from 'node:util';
import path from 'node:path';
import { writeStorePathLayer, DEFAULT_COMPRESSION_LEVEL, type LayerCompression } from '../../src/builder/layer/index.js';
import { LocalStoreReader } from '../../src/sources/local-store-reader.js';
import { MemoryBlobStore } from '../../src/storage/memory-blob-store.js';
import { DEFAULT_ATTRIBUTES, resolveClosure } from './closure.js';
import { timePipeline } from './pipeline.js';

/** One row of the results: a compression and a layer shape. */
interface Result {
  compression: LayerCompression;
  level: number;
  /** `single`: all paths in one layer, as the pipeline does; `per-path`: one layer each. */
  layers: 'single' | 'per-path';
  layerCount: number;
  stowageSeconds: number;
  pipelineSeconds: number;
  /** stowage / pipeline time; the target is at most 1.2. */
  ratio: number;
  /** CPU time (all threads; all processes of the pipeline), steadier than wall time on a busy host. */
  stowageCpuSeconds: number;
  pipelineCpuSeconds: number;
  cpuRatio: number;
  stowageBytes: number;
  pipelineBytes: number;
  uncompressedBytes: number;
}

const { values } = parseArgs({
  options: {
    paths: { type: 'string', multiple: true },
    pkgs: { type: 'string', default: 'examples/pkgs' },
    attrs: { type: 'string', default: DEFAULT_ATTRIBUTES.join(',') },
    repeat: { type: 'string', default: '5' },
    compression: { type: 'string', default: 'gzip,zstd' },
    json: { type: 'boolean', default: false },
  },
  allowPositionals: true,
});

const repeat = Math.max(1, Number.parseInt(values.repeat, 10));
const compressions = values.compression.split(',').map(parseCompression);
const storePaths = values.paths?.flatMap((value) => value.split(/[\s,]+/)).filter(Boolean)
  ?? (await resolveClosure(path.resolve(values.pkgs), values.attrs.split(',')));
const reader = new LocalStoreReader();

/** Timed configurations, interleaved run by run so that load from other processes hits all alike. */
const configs = compressions.flatMap((compression) => [
  { compression, kind: 'pipeline' as const },
  { compression, kind: 'single' as const },
  { compression, kind: 'per-path' as const },
]);
const samples = configs.map(() => [] as Sample[]);
for (let round = 0; round <= repeat; round++) {
  for (const [i, config] of configs.entries()) {
    const sample = await measure(config.compression, config.kind);
    // Round 0 warms the page cache and the JIT and is not counted.
    if (round > 0) samples[i]?.push(sample);
  }
}
const results: Result[] = compressions.flatMap((compression) => {
  const medianOf = (kind: Sample['kind']): Sample => median(samples[configs.findIndex((c) => c.compression === compression && c.kind === kind)] ?? []);
  const pipeline = medianOf('pipeline');
  return (['single', 'per-path'] as const).map((layers) => {
    const stowage = medianOf(layers);
    return {
      compression,
      level: DEFAULT_COMPRESSION_LEVEL[compression],
      layers,
      layerCount: layers === 'single' ? 1 : storePaths.length,
      stowageSeconds: stowage.seconds,
      pipelineSeconds: pipeline.seconds,
      ratio: stowage.seconds / pipeline.seconds,
      stowageCpuSeconds: stowage.cpuSeconds,
      pipelineCpuSeconds: pipeline.cpuSeconds,
      cpuRatio: stowage.cpuSeconds / pipeline.cpuSeconds,
      stowageBytes: stowage.size,
      pipelineBytes: pipeline.size,
      uncompressedBytes: stowage.uncompressed,
    };
  });
});

if (values.json) {
  console.log(JSON.stringify({ storePaths, repeat, node: process.version, cpus: availableParallelism(), loadavg: loadavg(), results }, null, 2));
} else {
  printTable(storePaths.length, results);
}

interface Sample {
  kind: 'pipeline' | 'single' | 'per-path';
  seconds: number;
  cpuSeconds: number;
  size: number;
  uncompressed: number;
}

async function measure(compression: LayerCompression, kind: Sample['kind']): Promise<Sample> {
  if (kind === 'pipeline') {
    const run = await timePipeline(storePaths, compression, DEFAULT_COMPRESSION_LEVEL[compression]);
    return { kind, ...run, uncompressed: 0 };
  }
  const groups = kind === 'single' ? [storePaths] : storePaths.map((storePath) => [storePath]);
  return { kind, ...(await buildLayers(groups, compression)) };
}

/** Build each group as one layer, sequentially, as an image build does. */
async function buildLayers(groups: readonly (readonly string[])[], compression: LayerCompression) {
  const store = new MemoryBlobStore();
  const cpu = process.cpuUsage();
  const started = process.hrtime.bigint();
  let size = 0;
  let uncompressed = 0;
  for (const group of groups) {
    const blob = await writeStorePathLayer({ reader, storePaths: group, compression, store });
    size += blob.size;
    uncompressed += blob.uncompressedSize;
  }
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  const used = process.cpuUsage(cpu);
  return { seconds, cpuSeconds: (used.user + used.system) / 1e6, size, uncompressed };
}

/** The sample with the median time. */
function median(samples: readonly Sample[]): Sample {
  const sorted = [...samples].sort((a, b) => a.seconds - b.seconds);
  const middle = sorted[Math.floor(sorted.length / 2)];
  if (!middle) throw new Error('no samples');
  return middle;
}

function parseCompression(value: string): LayerCompression {
  if (value === 'gzip' || value === 'zstd') return value;
  throw new Error(`unknown compression ${value}; use gzip or zstd`);
}

function printTable(pathCount: number, rows: readonly Result[]): void {
  const mib = (bytes: number): string => (bytes / 2 ** 20).toFixed(2);
  const header = ['compression', 'layers', 'stowage s', 'pipeline s', 'ratio', 'stowage cpu s', 'pipeline cpu s', 'cpu ratio', 'stowage MiB', 'pipeline MiB', 'tar MiB'];
  const body = rows.map((row) => [
    `${row.compression} -${row.level}`,
    row.layers === 'single' ? '1' : `${row.layerCount} (per path)`,
    row.stowageSeconds.toFixed(3),
    row.pipelineSeconds.toFixed(3),
    `${row.ratio.toFixed(2)}x`,
    row.stowageCpuSeconds.toFixed(3),
    row.pipelineCpuSeconds.toFixed(3),
    `${row.cpuRatio.toFixed(2)}x`,
    mib(row.stowageBytes),
    mib(row.pipelineBytes),
    mib(row.uncompressedBytes),
  ]);
  const widths = header.map((title, column) => Math.max(title.length, ...body.map((cells) => (cells[column] ?? '').length)));
  const line = (cells: readonly string[]): string => `| ${cells.map((cell, i) => cell.padEnd(widths[i] ?? 0)).join(' | ')} |`;
  const load = loadavg().map((value) => value.toFixed(2)).join(' ');
  console.log(`${pathCount} store paths, median of ${repeat} interleaved runs, ${availableParallelism()} CPUs, load ${load}`);
  console.log('pipeline: tar -C / -c --sort=name <paths> | gzip -6 (or zstd -3) | wc -c\n');
  console.log(line(header));
  console.log(`|${widths.map((width) => '-'.repeat(width + 2)).join('|')}|`);
  for (const cells of body) console.log(line(cells));
}
