import { createHash } from 'node:crypto';
import { readFile, stat } from 'node:fs/promises';
import { dirname, join } from 'node:path';

/**
 * The package-set popularity table the layering algorithm groups paths by: for each store-path
 * name (`hello-2.12.1`, hash dropped so it survives rebuilds), how many packages of the set have
 * it in their runtime closure. Made by `stowage popularity`; like Nixery's popularity file, it
 * is data shipped with a package set, not something learned from pulls.
 *
 * File format: a JSON object `{ "<store path name>": <count>, ... }`.
 */
export interface PopularityTable {
  readonly counts: ReadonlyMap<string, number>;
  /** Short digest of the table, part of image cache keys: a new table may regroup layers. */
  readonly fingerprint: string;
}

/** The file to use: the configured one, else `popularity.json` beside the package set if present. */
export async function popularityFileFor(configured: string, packageSet: string): Promise<string | null> {
  if (configured !== '') return configured;
  if (/^<.+>$/.test(packageSet)) return null;
  const info = await stat(packageSet).catch(() => null);
  if (info === null) return null;
  const candidate = join(info.isDirectory() ? packageSet : dirname(packageSet), 'popularity.json');
  return (await stat(candidate).catch(() => null)) ? candidate : null;
}

/** @throws Error naming the file when it is not a JSON object of non-negative integers. */
export async function loadPopularityTable(file: string): Promise<PopularityTable> {
  const text = await readFile(file, 'utf8');
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (error) {
    throw new Error(`popularity file ${file} is not JSON: ${(error as Error).message}`);
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) throw new Error(`popularity file ${file} must hold a JSON object`);
  const counts = new Map<string, number>();
  for (const [name, count] of Object.entries(parsed)) {
    if (typeof count !== 'number' || !Number.isSafeInteger(count) || count < 0) {
      throw new Error(`popularity file ${file}: the count of "${name}" is not a non-negative integer`);
    }
    counts.set(name, count);
  }
  return { counts, fingerprint: createHash('sha256').update(text).digest('hex').slice(0, 16) };
}

/** The table as the file stores it: names sorted, so the file diffs well. */
export function serialisePopularity(counts: ReadonlyMap<string, number>): string {
  const sorted = [...counts.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  return `${JSON.stringify(Object.fromEntries(sorted), null, 2)}\n`;
}
