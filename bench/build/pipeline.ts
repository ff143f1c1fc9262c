import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { run } from './processes.js';

/** The reference compressors: `gzip`, `pigz` (parallel gzip, one thread per core) and `zstd`. */
export type PipelineCompressor = 'gzip' | 'pigz' | 'zstd';

/** What the reference shell pipeline produced in one run. */
export interface PipelineRun {
  readonly seconds: number;
  /** User + system CPU time of tar, the compressor and wc together. */
  readonly cpuSeconds: number;
  /** Compressed bytes (counted by `wc -c`, which reads as fast as the compressor writes). */
  readonly size: number;
}

/**
 * Time `tar -c --sort=name <paths> | gzip -6` (or `| pigz -6`, `| zstd -3`) for the given store
 * paths, the yardstick stowage's layer writer is measured against. The compressed output is
 * counted and discarded. Store paths are handed to tar in byte order through a file list,
 * relative to `storeDir` (the real directory holding them; default /nix/store).
 */
export async function timePipeline(
  storePaths: readonly string[],
  compressor: PipelineCompressor,
  level: number,
  storeDir = '/nix/store',
  signal?: AbortSignal,
): Promise<PipelineRun> {
  const dir = await mkdtemp(path.join(tmpdir(), 'stowage-bench-'));
  try {
    const list = path.join(dir, 'paths');
    const names = [...storePaths].sort().map((storePath) => path.basename(storePath));
    await writeFile(list, `${names.join('\n')}\n`);
    const command = compressor === 'zstd' ? `zstd -q -${level}` : `${compressor} -${level}`;
    const pipeline = `tar -C ${quote(storeDir)} -c --sort=name -T ${quote(list)} | ${command} | wc -c`;
    const script = `set -eo pipefail; TIMEFORMAT='cpu %U %S'; time (${pipeline})`;
    const started = process.hrtime.bigint();
    const { stdout, stderr } = await run('bash', ['-c', script], signal);
    const seconds = Number(process.hrtime.bigint() - started) / 1e9;
    const [, user = '0', system = '0'] = /cpu ([\d.]+) ([\d.]+)\s*$/.exec(stderr) ?? [];
    return { seconds, cpuSeconds: Number(user) + Number(system), size: Number.parseInt(stdout.trim(), 10) };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

function quote(value: string): string {
  return `'${value.replace(/'/g, `'\\''`)}'`;
}
