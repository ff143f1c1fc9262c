import type { LayerCompression } from '../../src/builder/layer/index.js';
import type { PipelineCompressor } from './pipeline.js';
import type { ThreadCpu } from './thread-cpu.js';

/** A timed configuration: a reference pipeline, or stowage building an image or one layer. */
export type Config =
  | { readonly kind: 'pipeline'; readonly compressor: PipelineCompressor }
  | { readonly kind: 'stowage'; readonly compression: LayerCompression; readonly shape: 'image' | 'single' };

export interface Sample {
  readonly seconds: number;
  readonly cpuSeconds: number;
  readonly size: number;
  readonly uncompressed: number;
  /** Stowage only (the pipelines are other processes). */
  readonly peakRssBytes: number | null;
  /** Stowage only: what each thread of the build's process did. */
  readonly threads?: ThreadCpu;
  readonly digests: string;
}

export interface Row {
  readonly name: string;
  readonly seconds: number;
  readonly minSeconds: number;
  readonly maxSeconds: number;
  readonly cpuSeconds: number;
  readonly compressedBytes: number;
  readonly uncompressedBytes: number;
  /** Highest of the rounds. */
  readonly peakRssBytes: number | null;
  /** Median time over the reference's median time: gzip rows against pigz and gzip, zstd against zstd. */
  readonly vsPigz: number | null;
  readonly vsGzip: number | null;
  readonly vsZstd: number | null;
  /** Median CPU time over pigz's: steadier than wall time when other processes load the machine. */
  readonly cpuVsPigz: number | null;
  /** Stowage: the threads of the round with the median time. */
  readonly threads: ThreadCpu | null;
}

export interface MachineInfo {
  readonly cpus: number;
  readonly cpuModel: string;
  readonly memoryBytes: number;
  readonly node: string;
  readonly loadavg: readonly number[];
}

export interface ClosureInfo {
  readonly generated: boolean;
  readonly storePaths: number;
  readonly files: number | null;
  readonly bytes: number;
  readonly imageLayers: number;
}

function nameOf(config: Config): string {
  return config.kind === 'pipeline' ? `tar | ${config.compressor} -${config.compressor === 'zstd' ? 3 : 6}` : `stowage ${config.compression} ${config.shape}`;
}

function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)] ?? Number.NaN;
}

/**
 * Medians and ratios per configuration.
 * @throws Error when one configuration gave different digests in different rounds.
 */
export function summarise(configs: readonly Config[], samples: readonly (readonly Sample[])[]): Row[] {
  const medianSeconds = (predicate: (config: Config) => boolean): number | null => {
    const index = configs.findIndex(predicate);
    return index < 0 ? null : median((samples[index] ?? []).map((sample) => sample.seconds));
  };
  const pigz = medianSeconds((config) => config.kind === 'pipeline' && config.compressor === 'pigz');
  const gzip = medianSeconds((config) => config.kind === 'pipeline' && config.compressor === 'gzip');
  const zstd = medianSeconds((config) => config.kind === 'pipeline' && config.compressor === 'zstd');
  const pigzIndex = configs.findIndex((config) => config.kind === 'pipeline' && config.compressor === 'pigz');
  const pigzCpu = pigzIndex < 0 ? null : median((samples[pigzIndex] ?? []).map((sample) => sample.cpuSeconds));
  return configs.map((config, i) => {
    const runs = samples[i] ?? [];
    if (new Set(runs.map((sample) => sample.digests)).size > 1) throw new Error(`${nameOf(config)} gave different digests in different rounds`);
    const seconds = median(runs.map((sample) => sample.seconds));
    const ratio = (reference: number | null): number | null => (reference === null ? null : seconds / reference);
    const isStowage = config.kind === 'stowage';
    const gzipRow = isStowage && config.compression === 'gzip';
    const cpuSeconds = median(runs.map((sample) => sample.cpuSeconds));
    const rss = runs.map((sample) => sample.peakRssBytes).filter((value): value is number => value !== null);
    const medianRun = runs.find((sample) => sample.seconds === seconds);
    return {
      name: nameOf(config),
      seconds,
      minSeconds: Math.min(...runs.map((sample) => sample.seconds)),
      maxSeconds: Math.max(...runs.map((sample) => sample.seconds)),
      cpuSeconds,
      compressedBytes: runs[0]?.size ?? 0,
      uncompressedBytes: runs[0]?.uncompressed ?? 0,
      peakRssBytes: rss.length > 0 ? Math.max(...rss) : null,
      vsPigz: gzipRow ? ratio(pigz) : null,
      vsGzip: gzipRow ? ratio(gzip) : null,
      vsZstd: isStowage && config.compression === 'zstd' ? ratio(zstd) : null,
      cpuVsPigz: gzipRow && pigzCpu !== null ? cpuSeconds / pigzCpu : null,
      threads: medianRun?.threads ?? null,
    };
  });
}

export function printTable(machine: MachineInfo, closure: ClosureInfo, repeat: number, parallelism: number, rows: readonly Row[]): void {
  const mib = (bytes: number): string => (bytes / 2 ** 20).toFixed(1);
  const times = (value: number | null): string => (value === null ? '' : `${value.toFixed(2)}x`);
  const header = ['configuration', 'seconds (min-max)', 'cpu s', 'vs pigz', 'cpu vs pigz', 'vs gzip', 'vs zstd', 'MiB out', 'peak RSS MiB'];
  const body = rows.map((row) => [
    row.name,
    `${row.seconds.toFixed(2)} (${row.minSeconds.toFixed(2)}-${row.maxSeconds.toFixed(2)})`,
    row.cpuSeconds.toFixed(2),
    times(row.vsPigz),
    times(row.cpuVsPigz),
    times(row.vsGzip),
    times(row.vsZstd),
    mib(row.compressedBytes),
    row.peakRssBytes === null ? '' : mib(row.peakRssBytes),
  ]);
  const widths = header.map((title, column) => Math.max(title.length, ...body.map((cells) => (cells[column] ?? '').length)));
  const line = (cells: readonly string[]): string => `| ${cells.map((cell, i) => cell.padEnd(widths[i] ?? 0)).join(' | ')} |`;
  const what = closure.generated ? `generated closure: ${closure.storePaths} store paths, ${closure.files} files` : `${closure.storePaths} store paths`;
  console.log(`${what}, ${mib(closure.bytes)} MiB of files; image: ${closure.imageLayers} layers, ${parallelism} at once`);
  console.log(`${machine.cpus} CPUs (${machine.cpuModel}), ${mib(machine.memoryBytes)} MiB, Node ${machine.node}, load ${machine.loadavg.map((value) => value.toFixed(2)).join(' ')}`);
  console.log(`median of ${repeat} interleaved rounds after a warm-up; peak RSS is the highest of the rounds\n`);
  console.log(line(header));
  console.log(`|${widths.map((width) => '-'.repeat(width + 2)).join('|')}|`);
  for (const cells of body) console.log(line(cells));
  console.log('\nthreads (round with the median time; seconds on a CPU / waiting for one / idle):');
  for (const row of rows) {
    if (!row.threads) continue;
    const { main, others } = row.threads;
    const use = (thread: { cpu: number; queued: number; idle: number }): string => `${thread.cpu.toFixed(2)}/${thread.queued.toFixed(2)}/${thread.idle.toFixed(2)}`;
    const share = row.cpuSeconds > 0 ? ` (${((100 * main.cpu) / row.cpuSeconds).toFixed(0)}% of the process's CPU, busy ${((100 * main.cpu) / row.seconds).toFixed(0)}% of the wall time)` : '';
    console.log(`  ${row.name}: main ${use(main)}${share}; busiest others ${others.slice(0, 3).map(use).join(', ')}`);
  }
  console.log('\ntargets (issue 15): stowage gzip image at most 1.10x pigz; peak RSS under 250 MB');
}
