/**
 * Groups of store paths that (almost) always appear together across a population of images,
 * found from per-path popularity counts alone.
 *
 * Popularity is read as "number of images of a population containing the path", where every
 * image is a runtime closure (for a package set: one image per package). If `u` depends on `q`,
 * every image with `u` also has `q`, so pop(q) >= pop(u) + |between(u, q)| + 1, where
 * `between` are the paths on the way from `u` down to `q` (they also reach `q` and may be
 * images of their own) and the 1 is the image of `q` itself. Equality means every image with
 * `q` has `u` or is one of those small special cases: `u` covers `q`. The ratio
 * (pop(u) + |between| + 1) / pop(q) estimates how often `q` comes with `u`. Everything in it
 * is intrinsic to `u`'s closure, which any image holding `u` contains whole, so the test gives
 * the same answer in every image.
 *
 * A small path is joined to the nearest paths that cover it with a ratio of at least
 * `minCoverRatio` (those that reach no other such path). The joined unit then rides along
 * with its coverer: same layer in every image that has both, a few small bytes out of place in
 * the rare image that has the small path without the coverer.
 *
 * Adding paths that nothing in the image depends on (a new leaf package and the part of its
 * closure that is new) only adds joins that involve a new path: an old path's between-set and
 * counts do not change, and a new path can never be reached from an old one.
 */
import { ancestors, forEachBit, hasBit, type ClosureIndex } from './closure-index.js';

export interface CoverOptions {
  /** Paths of at least this many bytes are never joined to a coverer. */
  readonly maxJoinedBytes: number;
  /** Minimum estimated share of `q`'s images that also hold the coverer, in (0, 1]. */
  readonly minCoverRatio: number;
  /**
   * A data path (`data`, see `data-paths.ts`) of at least `minBytes` joins no coverer reaching
   * more than `maxCovererReach` other paths: such a coverer is rebuilt whenever one of its
   * libraries is, the data is not, and a joined unit then brings the unchanged data again.
   */
  readonly dataApart?: { readonly minBytes: number; readonly maxCovererReach: number; readonly data: readonly boolean[] };
  /**
   * A second population's image counts (a co-occurrence table's, per path; 0 unknown): when `q`
   * is in at least `minImages` of its images, `q` joins `d` only if `images[d] + 1 >=
   * minRatio × (images[q] + 1)` there too. Package-set counts say which packages depend on `q`;
   * the images the registry built say which of them are pulled with it (`libssl3` is mostly
   * pulled without the Kerberos libraries that cover it in the package set).
   */
  readonly tableCover?: { readonly images: readonly number[]; readonly minRatio: number; readonly minImages: number };
  /**
   * Paths held by fewer than `maxImages` of a table's images (`images`, per path; 0 unknown, so
   * included) need only `minRatio` instead of `minCoverRatio`. Such a path is specific to a few
   * tools: few images hold it without its coverer, so a wrong join costs few bytes, while in an
   * image over a tight budget each unit less leaves an own layer to a popular unit that would
   * otherwise sit in the top layer, which nodes download again with every image.
   */
  readonly rareCover?: { readonly images: readonly number[]; readonly maxImages: number; readonly minRatio: number };
}

/**
 * For each path, the representative of its unit (the smallest index in it).
 * @param reach `reachability(index)`, shared with the caller.
 * @param popularity population count of each path; 0 means unknown and is never joined.
 */
export function coverUnits(
  index: ClosureIndex,
  reach: readonly Uint32Array[],
  popularity: readonly number[],
  options: CoverOptions,
): number[] {
  const n = index.paths.length;
  const parent = Array.from({ length: n }, (_, i) => i);
  const find = (x: number): number => {
    let root = x;
    while (parent[root] !== root) root = parent[root]!;
    let walk = x;
    while (parent[walk] !== root) {
      const next = parent[walk]!;
      parent[walk] = root;
      walk = next;
    }
    return root;
  };
  const union = (a: number, b: number): void => {
    const ra = find(a);
    const rb = find(b);
    if (ra !== rb) parent[Math.max(ra, rb)] = Math.min(ra, rb);
  };

  const above = ancestors(index);
  for (let q = 0; q < n; q++) {
    if (index.sizes[q]! >= options.maxJoinedBytes || popularity[q]! <= 0) continue;
    const rare = options.rareCover;
    const need = (rare && rare.images[q]! < rare.maxImages ? rare.minRatio : options.minCoverRatio) * popularity[q]!;
    const upward = above[q]!;
    const ancestorCount = popcount(upward);
    const coverers: number[] = [];
    forEachBit(upward, (d) => {
      // Cheap bound first: |between| < number of ancestors.
      if (popularity[d]! + ancestorCount < need) return;
      // Ancestors of q that d reaches are between(d, q) plus d itself: one more than
      // |between|, which is exactly the `+ 1` for q's own image in the bound.
      const betweenAndSelf = popcountAnd(reach[d]!, upward);
      if (popularity[d]! + betweenAndSelf >= need) coverers.push(d);
    });
    const apart = options.dataApart;
    const table = options.tableCover;
    const data = apart !== undefined && apart.data[q]! && index.sizes[q]! >= apart.minBytes;
    for (const d of coverers) {
      // reach[d] holds d itself.
      if (data && popcount(reach[d]!) - 1 > apart.maxCovererReach) continue;
      if (table && table.images[q]! >= table.minImages && table.images[d]! + 1 < table.minRatio * (table.images[q]! + 1)) continue;
      // Join only the nearest: a farther coverer reaching another one would tie that one (maybe a
      // large path) to it as well, in the images that have both.
      if (!coverers.some((c) => c !== d && hasBit(reach[d]!, c))) union(q, d);
    }
  }
  return parent.map((_, i) => find(i));
}

function popcount(bits: Uint32Array): number {
  let total = 0;
  for (let w = 0; w < bits.length; w++) total += popcount32(bits[w]!);
  return total;
}

function popcountAnd(a: Uint32Array, b: Uint32Array): number {
  let total = 0;
  for (let w = 0; w < a.length; w++) total += popcount32(a[w]! & b[w]!);
  return total;
}

function popcount32(word: number): number {
  let x = word - ((word >>> 1) & 0x55555555);
  x = (x & 0x33333333) + ((x >>> 2) & 0x33333333);
  return (((x + (x >>> 4)) & 0x0f0f0f0f) * 0x01010101) >>> 24;
}
