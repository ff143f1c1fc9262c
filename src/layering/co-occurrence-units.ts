/**
 * Joins units whose paths the population's images shipped together (see `co-occurrence.ts`):
 * small units whose signatures are equal, that is whose packages the same past images held
 * (estimated Jaccard similarity about 0.98 or more), become one unit. Equality is transitive
 * and read from the frozen table alone, never from the image, so a unit's class is the same in
 * every image whatever else the image holds; an image holding part of a class gets that part.
 * A threshold on similarity instead of equality chains (a path close to two others ties them
 * together only in the images holding it), and greedy joins depend on which units an image
 * offers first: both measured worse (docs/layering.md). At tight budgets a class is a label
 * computed once over the whole table instead (`co-occurrence-labels.ts`): still one per signature.
 */
import type { ClosureIndex } from './closure-index.js';
import type { CoOccurrenceEntry } from './co-occurrence.js';

export interface CoOccurrenceOptions {
  /** Units of this many bytes or more are never joined: a large unit out of place costs too much. */
  readonly maxUnitBytes: number;
  /** Paths held by fewer images than this are never joined: too little evidence. */
  readonly minImages: number;
  /**
   * Which paths are data (`data-paths.ts`): units of data alone form classes apart from units
   * holding a binary, whose signatures they may share: the binary is rebuilt with its libraries,
   * the data is not (see `CoverOptions.dataApart`).
   */
  readonly dataApart?: readonly boolean[];
  /** Signature key → class label (`co-occurrence-labels.ts`); without it, a class is an equal signature. */
  readonly labels?: ReadonlyMap<string, string>;
}

/**
 * `unitOf` (each path's unit representative, the smallest index in it) with co-occurring units
 * joined; representatives stay the smallest index of each unit.
 */
export function joinCoOccurring(
  index: ClosureIndex,
  unitOf: readonly number[],
  entries: readonly (CoOccurrenceEntry | undefined)[],
  options: CoOccurrenceOptions,
): number[] {
  // Per unit: its bytes, and the member held by the fewest images (all its members come
  // together at most that often), whose image set stands for the unit's own.
  const groups = new Map<number, { bytes: number; images: number; key: string | undefined; data: boolean }>();
  unitOf.forEach((u, i) => {
    const group = groups.get(u) ?? { bytes: 0, images: Infinity, key: undefined, data: true };
    group.bytes += index.sizes[i]!;
    if (!options.dataApart?.[i]) group.data = false;
    const entry = entries[i];
    const images = entry && entry.images >= options.minImages ? entry.images : 0;
    if (images < group.images) {
      group.images = images;
      group.key = images > 0 ? entry!.key : undefined;
    }
    groups.set(u, group);
  });
  // A class is a signature: equality is transitive and read from the table alone, so a unit's
  // class is the same in every image, whichever other units the image holds.
  const classOf = new Map<string, number>();
  const target = new Map<number, number>();
  for (const [u, group] of [...groups].sort((a, b) => a[0] - b[0])) {
    if (group.key === undefined || group.bytes >= options.maxUnitBytes) continue;
    // A unit's members, and so whether it is data alone, are intrinsic to its paths: still the
    // same class in every image.
    const label = options.labels?.get(group.key) ?? group.key;
    const key = group.data ? `data:${label}` : label;
    const first = classOf.get(key);
    if (first === undefined) classOf.set(key, u);
    else target.set(u, first);
  }
  return unitOf.map((u) => target.get(u) ?? u);
}
