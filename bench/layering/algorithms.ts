/**
 * The algorithms the bench compares, each with the popularity data it was designed for.
 * `DEFAULT_ALGORITHMS` run unless `--only` names others; the extras show what stowage does with
 * weaker data.
 */
import {
  AdaptiveStowageLayerer,
  closurePopularity,
  CoOccurrencePopularity,
  coOccurrenceOf,
  directReferenceCounts,
  NixeryLayerer,
  NixpkgsAutoLayerer,
  NixpkgsPopularityLayerer,
  packageSetPopularity,
  popularityFromNames,
  SingleLayerer,
  StowageLayerer,
  storePathName,
  type LayeringGraph,
  type Popularity,
} from '../../src/layering/index.js';
import { baseLayerPaths } from './base-layer.js';
import { type PackageSet, RELEASES } from './package-set.js';
import type { Algorithm, Image, PopularityContext } from './simulate.js';

export const DEFAULT_ALGORITHMS = ['single', 'nixpkgs-popularity', 'nixpkgs-auto', 'nixery', 'floor', 'stowage', 'stowage-adaptive', 'stowage-cooc', 'stowage-base'];

const memo = new WeakMap<PackageSet, Map<string, Popularity>>();

/** Popularity over the whole package set, keyed by the store paths of every release (memoised). */
function overPackageSet(set: PackageSet, count: (graph: LayeringGraph) => Popularity, key: string): Popularity {
  let bySet = memo.get(set);
  if (!bySet) memo.set(set, (bySet = new Map()));
  const known = bySet.get(key);
  if (known) return known;
  const computed = countOverPackageSet(set, count);
  bySet.set(key, computed);
  return computed;
}

function countOverPackageSet(set: PackageSet, count: (graph: LayeringGraph) => Popularity): Popularity {
  const byName = count({
    nodes: set.packages.map((p) => ({ path: p.name, narSize: 0, references: p.refs.map((r) => set.packages[r]!.name) })),
    roots: [],
  });
  const out = new Map<string, number>();
  for (const release of RELEASES) {
    set.packages.forEach((p, i) => out.set(set.storePath(release, i), byName.get(p.name) ?? 0));
  }
  return out;
}

/**
 * The registry's own history as a population: per store-path name, how many distinct images
 * served so far contain it. Rebuilt from the pull log the simulation hands over.
 */
function historyPopularity(): (context: PopularityContext) => Popularity {
  let counted = 0;
  let seen = new Set<string>();
  let table = new Map<string, number>();
  return ({ image, history }) => {
    if (history.length < counted) {
      counted = 0;
      seen = new Set();
      table = new Map();
    }
    for (; counted < history.length; counted++) {
      const past: Image = history[counted]!;
      if (seen.has(past.key)) continue;
      seen.add(past.key);
      for (const n of past.graph.nodes) table.set(storePathName(n.path), (table.get(storePathName(n.path)) ?? 0) + 1);
    }
    return popularityFromNames(table, image.graph);
  };
}

/**
 * @param past closures (store paths) of the images the registry built in a past period: another
 *   trace, never the one being replayed. Stowage's co-occurrence table is computed from them.
 */
export function algorithms(set: PackageSet, past: Iterable<readonly string[]> = []): Algorithm[] {
  const empty: Popularity = new Map();
  // Nixery's popcount: direct references across the package set.
  const direct = overPackageSet(set, directReferenceCounts, 'direct');
  // Stowage's static population: in how many one-package images of the set a path appears.
  const population = overPackageSet(set, packageSetPopularity, 'closures');
  // The same counts plus which paths the past period's images shipped together.
  const coOccurrence = new CoOccurrencePopularity(population, coOccurrenceOf(past));
  const bases = { main: baseLayerPaths(set, coOccurrence.table, 'main'), security: baseLayerPaths(set, coOccurrence.table, 'security') };
  return [
    { name: 'single', layerer: new SingleLayerer(), popularity: () => empty },
    { name: 'nixpkgs-popularity', layerer: new NixpkgsPopularityLayerer(), popularity: () => empty },
    { name: 'nixpkgs-auto', layerer: new NixpkgsAutoLayerer(), popularity: () => empty },
    { name: 'nixery', layerer: new NixeryLayerer(), popularity: () => direct },
    { name: 'floor', layerer: null, popularity: () => empty },
    { name: 'stowage', layerer: new StowageLayerer(), popularity: () => population },
    // The fewest layers within 1% of stowage's own cost estimate at the budget.
    { name: 'stowage-adaptive', layerer: new AdaptiveStowageLayerer(), popularity: () => population },
    { name: 'stowage-cooc', layerer: new StowageLayerer(), popularity: () => coOccurrence },
    // stowage-cooc over a shared base layer with whiteouts (base-layer.ts): a design the
    // registry does not build yet, measured here to see what it would save.
    { name: 'stowage-base', layerer: new StowageLayerer(), popularity: () => coOccurrence, base: (release) => bases[release] },
    // Extras: no package-set data at all, and pull history as the population.
    { name: 'stowage-closure', layerer: new StowageLayerer(), popularity: ({ image }) => closurePopularity(image.graph) },
    { name: 'stowage-history', layerer: new StowageLayerer(), popularity: historyPopularity() },
  ];
}
