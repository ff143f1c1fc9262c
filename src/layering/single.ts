import { compareCodeUnits } from './closure-index.js';
import type { Layer, Layerer, LayeringGraph, Popularity } from './types.js';

/** Everything in one layer: what `dockerTools.buildImage` does, the worst case for sharing. */
export class SingleLayerer implements Layerer {
  readonly name = 'single';

  group(graph: LayeringGraph, _popularity: Popularity, _budget: number): Layer[] {
    if (graph.nodes.length === 0) return [];
    return [{ paths: graph.nodes.map((n) => n.path).sort(compareCodeUnits) }];
  }
}
