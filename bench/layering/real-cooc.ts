/**
 * The co-occurrence mode's table, made the way an operator would make one: the closures the
 * registry resolves for the distinct images of a past period (here a trace of another seed,
 * seed + 1000 as in the simulation's `stowage-cooc`, never the trace being replayed), as a
 * table file (`image.coOccurrence.file`, the format the registry persists), read back through
 * the registry's own loader. The same past trace over the Debian graph gives the graph
 * simulation's `stowage-cooc` its population.
 */
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { loadCoOccurrenceFile, serialiseCoOccurrence } from '../../src/builder/co-occurrence-file.js';
import type { Config } from '../../src/config/schema.js';
import { coOccurrenceOf } from '../../src/layering/index.js';
import type { PackageSource } from '../../src/sources/types.js';
import type { PackageSet } from './package-set.js';
import { resolvePull, type TableFile } from './real-run.js';
import { Images } from './simulate.js';
import { imageKey, type Pull } from './trace.js';

/** Same mix and sizes, another seed: the past period of the simulation's co-occurrence variants. */
export const PAST_SEED_OFFSET = 1000;

/** The first pull of each distinct image. */
function distinct(trace: readonly Pull[]): Pull[] {
  const seen = new Set<string>();
  const out: Pull[] = [];
  for (const pull of trace) {
    if (seen.has(imageKey(pull))) continue;
    seen.add(imageKey(pull));
    out.push(pull);
  }
  return out;
}

/** Writes the table of `past`'s distinct images, as the registry resolves them, into `dir`; returns it as the registry will read it. */
export async function writePastTable(source: PackageSource, config: Config, past: readonly Pull[], dir: string, label: string): Promise<TableFile> {
  const closures: string[][] = [];
  for (const pull of distinct(past)) closures.push((await resolvePull(source, config, pull)).paths.map((p) => p.path));
  const file = join(dir, `cooc-${label}.json`);
  await writeFile(file, serialiseCoOccurrence(coOccurrenceOf(closures)));
  return { file, table: await loadCoOccurrenceFile(file) };
}

/** The past trace's distinct images over the Debian graph (Nix identities): the graph simulation's population. */
export function pastGraphImages(set: PackageSet, past: readonly Pull[]): string[][] {
  const images = new Images(set);
  return distinct(past).map((pull) => images.get(pull).graph.nodes.map((n) => n.path));
}
