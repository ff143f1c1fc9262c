/**
 * Joins units whose paths the population's images ship together (see `co-occurrence.ts`): two
 * paths of the closure whose image sets have an estimated Jaccard similarity of at least
 * a small expected waste go in one unit (see `CoOccurrenceOptions.maxWasteBytes`). The test reads the frozen table only, never the image, so two
 * images holding both paths group them alike; an image holding one without the other gets it
 * alone (the layer differs there, which is what a high similarity makes rare).
 *
 * Candidate pairs come from locality-sensitive hashing (signatures cut into bands; paths
 * agreeing on a whole band meet in a bucket), so a 1,000-path closure costs a few thousand
 * signature comparisons, not half a million.
 */
import type { ClosureIndex } from './closure-index.js';

export interface CoOccurrenceOptions {
  /** Units of this many bytes or more are never joined: a large unit out of place costs too much. */
  readonly maxUnitBytes: number;
  /** Paths held by fewer images than this are never joined: too little evidence. */
  readonly minImages: number;
}

export type SignatureLookup = (path: string) => { readonly images: number; readonly signature: Uint32Array } | undefined;

/** Rows per band: at Jaccard 0.8 a pair still meets in some band with probability > 0.999. */
const BAND_ROWS = 4;

/**
 * `unitOf` (each path's unit representative, the smallest index in it) with co-occurring units
 * joined; representatives stay the smallest index of each unit.
 */
export function joinCoOccurring(
  index: ClosureIndex,
  unitOf: readonly number[],
  lookup: SignatureLookup,
  options: CoOccurrenceOptions,
): number[] {
  // Per unit: its bytes, and the member held by the fewest images (all its members come
  // together at most that often), whose image set stands for the unit's own.
  const groups = new Map<number, { bytes: number; images: number; signature: Uint32Array | undefined }>();
  unitOf.forEach((u, i) => {
    const group = groups.get(u) ?? { bytes: 0, images: Infinity, signature: undefined };
    group.bytes += index.sizes[i]!;
    const entry = lookup(index.paths[i]!);
    const images = entry && entry.images >= options.minImages ? entry.images : 0;
    if (images < group.images) {
      group.images = images;
      group.signature = images > 0 ? entry!.signature : undefined;
    }
    groups.set(u, group);
  });
  // A class is a signature: equality is transitive and read from the table alone, so a unit's
  // class is the same in every image, whichever other units the image holds.
  const classOf = new Map<string, number>();
  const target = new Map<number, number>();
  for (const [u, group] of [...groups].sort((a, b) => a[0] - b[0])) {
    if (!group.signature || group.bytes >= options.maxUnitBytes) continue;
    const key = group.signature.join(',');
    const first = classOf.get(key);
    if (first === undefined) classOf.set(key, u);
    else target.set(u, first);
  }
  return unitOf.map((u) => target.get(u) ?? u);
}
