/**
 * Input and output types of the layering algorithms. This module is pure: it imports nothing
 * and does no I/O, so the same graph always yields the same layers.
 */

/** One store path as the layering algorithms see it. */
export interface LayeringNode {
  /** Full store path, e.g. `/nix/store/<hash>-hello-2.12.1`. Unique within a graph. */
  readonly path: string;
  /** Size of the path's NAR serialisation in bytes (a good proxy for layer bytes). */
  readonly narSize: number;
  /** Store paths this path references at run time; self-references may appear and are ignored. */
  readonly references: readonly string[];
}

/** A runtime closure: every node's references are themselves nodes of the graph. */
export interface LayeringGraph {
  readonly nodes: readonly LayeringNode[];
  /** The store paths the user asked for (the requested packages' outputs). */
  readonly roots: readonly string[];
}

/**
 * How widely used a store path is across the images a registry serves; higher is more popular.
 * A path missing from the map has popularity 0.
 */
export type Popularity = ReadonlyMap<string, number>;

/** One layer: a set of store paths, listed in ascending code-unit order. */
export interface Layer {
  readonly paths: readonly string[];
}

/** Groups a closure into at most `budget` layers, ordered from the bottom of the image up. */
export interface Layerer {
  /** Short stable name, used in benchmarks and logs. */
  readonly name: string;
  /**
   * Partition `graph.nodes` into at most `budget` non-empty layers (budget >= 1). Every node is
   * in exactly one layer. Deterministic: equal inputs give equal outputs, whatever the order of
   * `graph.nodes` and of each node's references.
   */
  group(graph: LayeringGraph, popularity: Popularity, budget: number): Layer[];
}
