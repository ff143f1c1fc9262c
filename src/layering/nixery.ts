/**
 * Nixery's layering (`layers/layers.go`), reimplemented from its published description:
 *
 * 1. A fake image root gets an edge to every requested root and to every path that is "big or
 *    popular": runtime closure larger than 100 MB, or popularity of at least 100.
 * 2. The dominator tree of that graph is computed from the fake root. Each subtree hanging
 *    directly off the root is one candidate layer.
 * 3. A layer's merge rating is its root's popularity times the summed closure sizes of its
 *    members (Nixery's size field is the closure size Nix reports for a path).
 * 4. Layers are sorted by rating, ascending; while over budget, the two lowest-rated are merged
 *    and the result takes the second one's place without re-sorting, as Nixery does.
 *
 * Popularity is looked up per path; a path missing from the map counts 1 (Nixery's default) and
 * `nss-cacert`/`iana-etc`, which Nixery adds to every image, count 500,000.
 */
import { closureSizes, compareCodeUnits, indexClosure } from './closure-index.js';
import { immediateDominators } from './dominators.js';
import { storePathName } from './popularity.js';
import type { Layer, Layerer, LayeringGraph, Popularity } from './types.js';

/** Nixery's thresholds for giving a path its own edge from the image root. */
const BIG_CLOSURE_BYTES = 100 * 1_000_000;
const POPULAR = 100;
const ALWAYS_PRESENT_POPULARITY = 500_000;

interface CandidateLayer {
  /** Store paths of the subtree (or of the merged subtrees). */
  readonly paths: string[];
  /** Root popularity x summed closure sizes; merged layers add their ratings. */
  readonly rating: number;
}

export class NixeryLayerer implements Layerer {
  readonly name = 'nixery';

  group(graph: LayeringGraph, popularity: Popularity, budget: number): Layer[] {
    const index = indexClosure(graph);
    const n = index.paths.length;
    if (n === 0) return [];
    const closureSize = closureSizes(index);
    const pop = index.paths.map((path) => nixeryPopularity(path, popularity));

    // Node n is the fake image root.
    const root = n;
    const rootEdges = new Set<number>(index.roots);
    for (let i = 0; i < n; i++) {
      if (closureSize[i]! > BIG_CLOSURE_BYTES || pop[i]! >= POPULAR) rootEdges.add(i);
    }
    // Not in Nixery: a graph whose roots do not reach every path gets the orphans attached
    // to the root too, so every path lands in some layer.
    for (let i = 0; i < n; i++) if (index.users[i]!.length === 0) rootEdges.add(i);
    const successors: number[][] = [...index.refs.map((r) => [...r]), [...rootEdges].sort((a, b) => a - b)];
    const idom = immediateDominators(successors, root);

    const children: number[][] = successors.map(() => []);
    for (let v = 0; v < n; v++) children[idom[v]!]!.push(v);
    const candidates: CandidateLayer[] = children[root]!.map((top) => {
      const members: number[] = [];
      const stack = [top];
      while (stack.length > 0) {
        const v = stack.pop()!;
        members.push(v);
        stack.push(...children[v]!);
      }
      const size = members.reduce((sum, v) => sum + closureSize[v]!, 0);
      return { paths: members.map((v) => index.paths[v]!), rating: pop[top]! * size };
    });
    for (const c of candidates) c.paths.sort(compareCodeUnits);
    // Go's sort.Slice is not stable; ties are broken by first path here to stay deterministic.
    candidates.sort((a, b) => a.rating - b.rating || compareCodeUnits(a.paths[0]!, b.paths[0]!));

    let layers = candidates;
    while (layers.length > Math.max(1, budget)) {
      const [a, b] = layers as [CandidateLayer, CandidateLayer];
      layers = [{ paths: [...a.paths, ...b.paths], rating: a.rating + b.rating }, ...layers.slice(2)];
    }
    return layers.map((l) => ({ paths: [...l.paths].sort(compareCodeUnits) }));
  }
}

function nixeryPopularity(path: string, popularity: Popularity): number {
  const name = storePathName(path);
  if (name.startsWith('nss-cacert') || name.startsWith('iana-etc')) return ALWAYS_PRESENT_POPULARITY;
  return popularity.get(path) ?? 1;
}
