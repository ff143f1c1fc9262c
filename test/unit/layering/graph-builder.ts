/** Small hand-written graphs for example-based tests: `edges` maps a name to what it references. */
import type { LayeringGraph } from '../../../src/layering/index.js';
import type { Image, ImageSource } from '../../../bench/layering/simulate.js';
import { imageKey, type Pull } from '../../../bench/layering/trace.js';

export const pathOf = (name: string): string =>
  `/nix/store/${name.toLowerCase().replace(/[^a-z0-9]/g, 'x').padEnd(32, '0')}-${name}`;

/** The package name of a store path made by `pathOf`. */
export const nameOf = (path: string): string => path.slice(path.indexOf('-') + 1);

export function graphOf(
  sizes: Readonly<Record<string, number>>,
  edges: Readonly<Record<string, readonly string[]>>,
  roots: readonly string[] = [],
): LayeringGraph {
  return {
    nodes: Object.entries(sizes).map(([name, narSize]) => ({
      path: pathOf(name),
      narSize,
      references: (edges[name] ?? []).map(pathOf),
    })),
    roots: roots.map(pathOf),
  };
}

/** Layers as lists of package names. */
export const layerNames = (layers: readonly { readonly paths: readonly string[] }[]): string[][] =>
  layers.map((l) => l.paths.map(nameOf));

/** A bench image source over hand-written graphs keyed by `release:packages` (bench/layering/trace.ts imageKey). */
export function imageSourceOf(graphs: Readonly<Record<string, LayeringGraph>>): ImageSource {
  return {
    get(pull: Pull): Image {
      const key = imageKey(pull);
      const graph = graphs[key]!;
      return { key, release: pull.release, packages: pull.packages, graph, sizes: new Map(graph.nodes.map((n) => [n.path, n.narSize])) };
    },
  };
}
