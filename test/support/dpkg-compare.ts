import { execFile } from 'node:child_process';
import { promisify } from 'node:util';

const run = promisify(execFile);

/** dpkg's own verdict on each pair: -1, 0 or 1, from one shell running `dpkg --compare-versions`. */
export async function dpkgCompare(pairs: ReadonlyArray<readonly [string, string]>): Promise<number[]> {
  const quote = (s: string): string => `'${s.replace(/'/g, `'\\''`)}'`;
  const script = pairs
    .map(([a, b]) => `if dpkg --compare-versions ${quote(a)} lt ${quote(b)}; then echo -1; elif dpkg --compare-versions ${quote(a)} eq ${quote(b)}; then echo 0; else echo 1; fi`)
    .join('\n');
  const { stdout } = await run('sh', ['-c', script], { maxBuffer: 16 * 1024 * 1024 });
  return stdout.trim().split('\n').map(Number);
}

/** The tests' seeded PRNG (mulberry32), so "random" pairs are the same in every run. */
export { seeded as seededRandom } from './random-graphs.js';
