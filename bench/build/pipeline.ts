import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { LayerCompression } from '../../src/builder/layer/index.js';
import { run } from './processes.js';

/** What the reference shell pipeline produced in one run. */
export interface PipelineRun {
  readonly seconds: number;
  /** User + system CPU time of tar, the compressor and wc together. */
  readonly cpuSeconds: number;
  /** Compressed bytes (counted by `wc -c`, which reads as fast as the compressor writes). */
  readonly size: number;
}

/**
 * Time `tar -c --sort=name <paths> | gzip -6` (or `| zstd -3`) for the given store paths,
 * the yardstick stowage's layer writer is measured against. The compressed output is counted
 * and discarded. Store paths are handed to tar in byte order through a file list.
 */
export async function timePipeline(
  storePaths: readonly string[],
  compression: LayerCompression,
  level: number,
  signal?: AbortSignal,
): Promise<PipelineRun> {
  const dir = await mkdtemp(path.join(tmpdir(), 'stowage-bench-'));
  try {
    const list = path.join(dir, 'paths');
    const names = [...storePaths].sort().map((storePath) => storePath.replace(/^\/+/, ''));
    await writeFile(list, `${names.join('\n')}\n`);
    const compressor = compression === 'gzip' ? `gzip -${level}` : `zstd -q -${level}`;
    const pipeline = `tar -C / -c --sort=name -T ${quote(list)} | ${compressor} | wc -c`;
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
