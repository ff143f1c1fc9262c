/**
 * Layer build benchmark: stowage's layer writer against `tar | gzip -6`, `tar | pigz -6` and
 * `tar | zstd -3` on the same store paths, in one run.
 *
 *   npm run bench:build                          generated closure: >= 1.1 GB, 20,000+ files
 *   npm run bench:build -- --keep                keep the generated closure for the next run
 *   npm run bench:build -- --closure nix         closure of examples/pkgs hello, busybox, bigdata
 *   npm run bench:build -- --paths /nix/store/a-x /nix/store/b-y --repeat 5 --json
 *
 * Stowage configurations: `image`, the closure grouped into at most --max-layers layers by the
 * registry's layerer and built as an image build does (layers side by side, largest first,
 * --parallelism at once, gzip blocks on as many threads); `single`, everything in one layer
 * (block-parallel gzip alone). Configurations run interleaved: one warm-up round, then
 * --repeat rounds; medians are reported with the min-max, and every round must give the same
 * digests. Each stowage build runs in a fresh process (stowage-child.ts), whose peak RSS is
 * the build's own. Targets (issue 15): stowage gzip image at most 1.1x pigz; peak RSS under 250 MB.
 */
import { availableParallelism, cpus, loadavg, tmpdir, totalmem } from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { DEFAULT_COMPRESSION_LEVEL, type LayerCompression } from '../../src/builder/layer/index.js';
import { DEFAULT_ATTRIBUTES, resolveClosure } from './closure.js';
import { generateClosure } from './generated-closure.js';
import { timePipeline, type PipelineCompressor } from './pipeline.js';
import { printTable, summarise, type Config, type Sample } from './report.js';
import { run } from './processes.js';
import type { ChildBuild } from './stowage-child.js';
import { layersOf, type StowageRun } from './stowage-build.js';

const { values } = parseArgs({
  options: {
    closure: { type: 'string', default: 'generated' },
    paths: { type: 'string', multiple: true },
    pkgs: { type: 'string', default: 'examples/pkgs' },
    attrs: { type: 'string', default: DEFAULT_ATTRIBUTES.join(',') },
    'store-dir': { type: 'string', default: path.join(tmpdir(), 'stowage-bench-closure') },
    'generate-bytes': { type: 'string', default: '1100000000' },
    'generate-files': { type: 'string', default: '20000' },
    keep: { type: 'boolean', default: false },
    repeat: { type: 'string', default: '3' },
    compression: { type: 'string', default: 'gzip,zstd' },
    parallelism: { type: 'string', default: String(availableParallelism()) },
    'max-layers': { type: 'string', default: '100' },
    json: { type: 'boolean', default: false },
  },
  allowPositionals: true,
});

const repeat = Math.max(1, Number.parseInt(values.repeat, 10));
const parallelism = Math.max(1, Number.parseInt(values.parallelism, 10));
const compressions = values.compression.split(',').map(parseCompression);
const generated = values.paths === undefined && values.closure === 'generated';
const log = (message: string): void => {
  if (!values.json) console.error(message);
};

let storeDir = '/nix/store';
let storePaths: readonly string[];
let files: number | null = null;
if (values.paths) {
  storePaths = values.paths.flatMap((value) => value.split(/[\s,]+/)).filter(Boolean);
} else if (generated) {
  log(`generating (or reusing) the closure in ${values['store-dir']} ...`);
  const closure = await generateClosure({
    dir: values['store-dir'],
    bytes: Number(values['generate-bytes']),
    smallFiles: Number(values['generate-files']),
    storePaths: 300,
  });
  storeDir = closure.dir;
  storePaths = closure.storePaths;
  files = closure.files;
} else {
  storePaths = await resolveClosure(path.resolve(values.pkgs), values.attrs.split(','));
}

const cleanups: Array<() => Promise<void>> = [];
try {
  const work = await mkdtemp(path.join(tmpdir(), 'stowage-bench-build-'));
  cleanups.push(() => rm(work, { recursive: true, force: true }));
  const imageLayers = await layersOf(storeDir, storePaths, Number(values['max-layers']) - 1);
  const singleLayer = [{ paths: storePaths, bytes: imageLayers.reduce((total, layer) => total + layer.bytes, 0) }];
  const pipelines: PipelineCompressor[] = compressions.flatMap((compression) => (compression === 'gzip' ? ['gzip' as const, 'pigz' as const] : ['zstd' as const]));
  const configs: Config[] = [
    ...pipelines.map((compressor) => ({ kind: 'pipeline' as const, compressor })),
    ...compressions.flatMap((compression) => [
      { kind: 'stowage' as const, compression, shape: 'image' as const },
      ...(compression === 'gzip' ? [{ kind: 'stowage' as const, compression, shape: 'single' as const }] : []),
    ]),
  ];
  const samples = configs.map(() => [] as Sample[]);
  for (let round = 0; round <= repeat; round++) {
    for (const [i, config] of configs.entries()) {
      const sample = await measure(config);
      log(`round ${round}${round === 0 ? ' (warm-up)' : ''}: ${describe(config)} ${sample.seconds.toFixed(2)} s`);
      // Round 0 warms the page cache and the JIT and is not counted.
      if (round > 0) samples[i]?.push(sample);
    }
  }
  const rows = summarise(configs, samples);
  const machine = { cpus: availableParallelism(), cpuModel: cpus()[0]?.model ?? '', memoryBytes: totalmem(), node: process.version, loadavg: loadavg() };
  const closureInfo = { generated, storePaths: storePaths.length, files, bytes: singleLayer[0]?.bytes ?? 0, imageLayers: imageLayers.length };
  if (values.json) console.log(JSON.stringify({ machine, closure: closureInfo, repeat, parallelism, results: rows }, null, 2));
  else printTable(machine, closureInfo, repeat, parallelism, rows);

  async function measure(config: Config): Promise<Sample> {
    if (config.kind === 'pipeline') {
      const level = config.compressor === 'zstd' ? DEFAULT_COMPRESSION_LEVEL.zstd : DEFAULT_COMPRESSION_LEVEL.gzip;
      return { ...(await timePipeline(storePaths, config.compressor, level, storeDir)), uncompressed: 0, peakRssBytes: null, digests: '' };
    }
    // In a fresh process each time, so that the peak RSS measured is the build's own.
    const child: ChildBuild = {
      storeDir,
      layers: config.shape === 'image' ? imageLayers : singleLayer,
      compression: config.compression,
      level: DEFAULT_COMPRESSION_LEVEL[config.compression],
      parallelism,
    };
    const buildFile = path.join(work, 'build.json');
    await writeFile(buildFile, JSON.stringify(child));
    const { stdout } = await run(process.execPath, ['--expose-gc', fileURLToPath(new URL('./stowage-child.js', import.meta.url)), buildFile]);
    return JSON.parse(stdout) as StowageRun;
  }
} finally {
  for (const cleanup of cleanups) await cleanup();
  if (generated && !values.keep) await rm(storeDir, { recursive: true, force: true });
}

function describe(config: Config): string {
  return config.kind === 'pipeline' ? `tar | ${config.compressor}` : `stowage ${config.compression} ${config.shape}`;
}

function parseCompression(value: string): LayerCompression {
  if (value === 'gzip' || value === 'zstd') return value;
  throw new Error(`unknown compression ${value}; use gzip or zstd`);
}
