/**
 * Popularity sources. Stowage reads a path's popularity as "in how many images of a population
 * does this path appear". For a population of closures, a path's count is at least that of any
 * path depending on it, and the gap says how often the two come apart: that is what lets the
 * layerer find groups no image would split. The natural population is the package set itself
 * (one image per package); a closure alone is the fallback that carries no such information.
 */
import type { LayeringGraph, Popularity } from './types.js';

/**
 * Static popularity from a whole package set (every package of a revision with its
 * references): for each path, how many packages of the set have it in their runtime closure,
 * itself included. This is what `StowageLayerer` wants; compute it once per package-set revision.
 */
export function packageSetPopularity(packageSet: LayeringGraph): Popularity {
  return containingClosures(packageSet);
}

/**
 * Counts taken from one image's closure alone. They say nothing about other images, so
 * `StowageLayerer` joins nothing when handed one of these (the other layerers just read counts).
 */
export class ClosurePopularity extends Map<string, number> {}

/**
 * Popularity when the registry has no better data: the same count as `packageSetPopularity`,
 * within the image's own closure.
 */
export function closurePopularity(graph: LayeringGraph): ClosurePopularity {
  return new ClosurePopularity(containingClosures(graph));
}

/** For every path, how many paths of `graph` reference it directly (Nixery's popcount). */
export function directReferenceCounts(graph: LayeringGraph): Popularity {
  const counts = new Map<string, number>(graph.nodes.map((n) => [n.path, 0]));
  for (const node of graph.nodes) {
    for (const r of new Set(node.references)) {
      if (r !== node.path && counts.has(r)) counts.set(r, counts.get(r)! + 1);
    }
  }
  return counts;
}

/** `/nix/store/<hash>-hello-2.12` → `hello-2.12`: a key that survives rebuilds with new hashes. */
export function storePathName(path: string): string {
  const base = path.slice(path.lastIndexOf('/') + 1);
  const dash = base.indexOf('-');
  return dash < 0 ? base : base.slice(dash + 1);
}

/**
 * Re-keys popularity by store-path name, for a table that is stored or shipped (as Nixery ships
 * its popularity file) and applied to later revisions. Paths sharing a name keep the largest count.
 */
export function popularityByName(popularity: Popularity): Map<string, number> {
  const table = new Map<string, number>();
  for (const [path, count] of popularity) {
    const name = storePathName(path);
    table.set(name, Math.max(count, table.get(name) ?? 0));
  }
  return table;
}

/** Popularity of `graph`'s paths looked up by name in a table from `popularityByName`. */
export function popularityFromNames(table: ReadonlyMap<string, number>, graph: LayeringGraph): Popularity {
  const out = new Map<string, number>();
  for (const node of graph.nodes) {
    const count = table.get(storePathName(node.path));
    if (count !== undefined) out.set(node.path, count);
  }
  return out;
}

/** One walk per path over its closure, counting every path reached; stamps avoid clearing a set. */
function containingClosures(graph: LayeringGraph): Map<string, number> {
  const ids = new Map<string, number>();
  graph.nodes.forEach((node, i) => ids.set(node.path, i));
  const refs = graph.nodes.map((node) => {
    const out: number[] = [];
    for (const r of node.references) {
      const j = ids.get(r);
      if (j !== undefined && r !== node.path) out.push(j);
    }
    return out;
  });
  const counts = new Uint32Array(graph.nodes.length);
  const stamp = new Int32Array(graph.nodes.length).fill(-1);
  const stack: number[] = [];
  for (let start = 0; start < graph.nodes.length; start++) {
    stack.push(start);
    stamp[start] = start;
    while (stack.length > 0) {
      const x = stack.pop()!;
      counts[x]! += 1;
      for (const r of refs[x]!) {
        if (stamp[r] !== start) {
          stamp[r] = start;
          stack.push(r);
        }
      }
    }
  }
  return new Map(graph.nodes.map((node, i) => [node.path, counts[i]!]));
}
