/** Population counts by closure index, as Stowage's cover test reads them (`stowage.ts`). */
import { forEachBit, type ClosureIndex } from './closure-index.js';
import { ClosurePopularity } from './popularity.js';
import type { Popularity } from './types.js';

/**
 * Popularity as population counts by index, or null when there is none to go by: counts of the
 * closure alone (`ClosurePopularity`). The decision depends on the data, never on the image, so
 * it cannot make two images of the same paths group differently. A count below the
 * closure-local one (how many paths of this closure reach the path) cannot be a population
 * count: that path gets 0 and is never joined.
 */
export function populationCounts(index: ClosureIndex, reach: readonly Uint32Array[], popularity: Popularity): number[] | null {
  if (popularity instanceof ClosurePopularity || popularity.size === 0) return null;
  const local = new Array<number>(index.paths.length).fill(0);
  for (const bits of reach) {
    forEachBit(bits, (j) => {
      local[j]! += 1;
    });
  }
  return index.paths.map((path, i) => {
    const count = popularity.get(path) ?? 0;
    return count >= local[i]! ? count : 0;
  });
}
