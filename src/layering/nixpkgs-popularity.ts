/**
 * nixpkgs' classic `buildLayeredImage` layering, reimplemented from the description in
 * `pkgs/build-support/references-by-popularity`:
 *
 * 1. Roots are the paths no other path of the closure references.
 * 2. The reference graph is unfolded into a tree from the roots (a path reached twice appears
 *    twice). Counting bottom-up, a path's count starts at 1 where it appears and every time a
 *    subtree's counters are folded into their parent each counter grows by one, so paths that
 *    are deep and referenced from many places score highest.
 * 3. Paths are ordered by that popularity, most popular first, ties by name (the path with its
 *    hash moved to the end).
 * 4. The first `budget - 1` paths get one layer each; everything else shares the last layer.
 *
 * The popularity argument is ignored: the classic algorithm only looks at the closure itself.
 * Counts grow combinatorially with depth, so they are kept as doubles; only their order matters.
 */
import { compareCodeUnits, indexClosure } from './closure-index.js';
import type { Layer, Layerer, LayeringGraph, Popularity } from './types.js';

export class NixpkgsPopularityLayerer implements Layerer {
  readonly name = 'nixpkgs-popularity';

  group(graph: LayeringGraph, _popularity: Popularity, budget: number): Layer[] {
    const order = referencesByPopularity(graph);
    if (order.length === 0) return [];
    const singles = Math.max(0, Math.min(order.length, budget) - (order.length > budget ? 1 : 0));
    const layers: Layer[] = order.slice(0, singles).map((path) => ({ paths: [path] }));
    const rest = order.slice(singles);
    if (rest.length > 0) layers.push({ paths: rest.sort(compareCodeUnits) });
    return layers;
  }
}

/** The closure's paths, most popular first, as `closure-graph.py` prints them. */
export function referencesByPopularity(graph: LayeringGraph): string[] {
  const index = indexClosure(graph);
  const n = index.paths.length;
  // below[x]: counters of everything under x in the unfolded tree (x itself excluded).
  const below: Map<number, number>[] = new Array<Map<number, number>>(n);
  for (const x of index.bottomUp) {
    const counts = new Map<number, number>();
    for (const child of index.refs[x]!) {
      counts.set(child, (counts.get(child) ?? 0) + 1);
      for (const [path, count] of below[child]!) counts.set(path, (counts.get(path) ?? 0) + count + 1);
    }
    below[x] = counts;
  }
  const popularity = new Float64Array(n);
  for (let r = 0; r < n; r++) {
    if (index.users[r]!.length > 0) continue;
    popularity[r]! += 1;
    for (const [path, count] of below[r]!) popularity[path]! += count + 1;
  }
  const nameKey = index.paths.map(packageNameKey);
  return index.paths
    .map((_, i) => i)
    .sort((a, b) => popularity[b]! - popularity[a]! || compareCodeUnits(nameKey[a]!, nameKey[b]!))
    .map((i) => index.paths[i]!);
}

/** `/nix/store/abc-hello-2.1` → `hello-2.1-/nix/store/abc`: name first, hash kept for ties. */
function packageNameKey(path: string): string {
  const parts = path.split('-');
  const first = parts.shift() ?? '';
  parts.push(first);
  return parts.join('-');
}
