/**
 * A shared base layer with whiteouts, measured in the bench only: the registry does not build it
 * (docs/layering.md, "Issue 16, eighth round", says what it would take).
 *
 * Every layering so far gives an image only layers that are subsets of its closure, so a layer
 * holding several units is shared only by images holding all of them, and an image with more
 * units than its budget ends in a top layer of its own that nodes download again. The base
 * layer instead holds the small packages most past images held, whether or not this image
 * holds them: the same layer, one digest per package-set revision, at the bottom of every image,
 * and the image's own layers above it whiteout-delete (`.wh.<name>`, OCI image spec) the base
 * paths outside its closure, so its file system is still exactly the closure. A node downloads
 * the base once per revision, extra paths included: the bench charges all of its bytes, so the
 * extra paths count against the floor like any other bytes.
 *
 * Which paths: the packages held by at least `minShare` of the co-occurrence table's images, each
 * at most `maxPathBytes` (a large path is better off in a layer of its own, shared by exactly the
 * images holding it). Read from the frozen table and the revision alone, never from the image.
 */
import type { CoOccurrenceTable, LayeringGraph } from '../../src/layering/index.js';
import type { PackageSet, Release } from './package-set.js';

export interface BaseLayerOptions {
  /** Share of the table's images that must have held a package for it to be in the base. */
  readonly minShare: number;
  /** Larger packages stay out of the base. */
  readonly maxPathBytes: number;
}

/** Measured on the three trace families (docs/layering.md, eighth round). */
export const DEFAULT_BASE_LAYER: BaseLayerOptions = { minShare: 0.1, maxPathBytes: 5_000_000 };

/** Store path → NAR size of the base layer's paths in `release`. */
export function baseLayerPaths(set: Pick<PackageSet, 'has' | 'indexOf' | 'size' | 'storePath'>, table: CoOccurrenceTable, release: Release, options: BaseLayerOptions = DEFAULT_BASE_LAYER): ReadonlyMap<string, number> {
  const base = new Map<string, number>();
  if (table.total === 0) return base;
  const names = [...table.images].filter(([name, images]) => images >= options.minShare * table.total && set.has(name)).map(([name]) => name);
  for (const name of names.sort()) {
    const pkg = set.indexOf(name);
    const size = set.size(release, pkg);
    if (size <= options.maxPathBytes) base.set(set.storePath(release, pkg), size);
  }
  return base;
}

/**
 * What the layerer groups under `base` at `budget`: the closure without the base's paths, in one
 * layer fewer; the whole closure at `budget` when there is no base, or no room for it.
 */
export function underBase(graph: LayeringGraph, base: ReadonlyMap<string, number> | undefined, budget: number): { graph: LayeringGraph; limit: number; base: ReadonlyMap<string, number> } {
  if (base === undefined || base.size === 0 || budget <= 1) return { graph, limit: budget, base: new Map() };
  return { graph: withoutBase(graph, base), limit: budget - 1, base };
}

/** The closure without the base's paths (references into the base dropped): what the layerer still groups. */
function withoutBase(graph: LayeringGraph, base: ReadonlyMap<string, number>): LayeringGraph {
  const kept = graph.nodes.filter((n) => !base.has(n.path));
  return {
    nodes: kept.map((n) => ({ ...n, references: n.references.filter((r) => !base.has(r)) })),
    roots: graph.roots.filter((r) => !base.has(r)),
  };
}
