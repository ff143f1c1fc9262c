/**
 * Adaptive budget: the fewest layers whose expected cost is within a tolerance (1% by default)
 * of the layering at the full budget. An image whose bytes sit in a few large paths does not
 * need 94 layers to be shared well; fewer layers leave room for the layers users put on top and
 * mean fewer blobs per pull.
 *
 * The cost of a layering is Stowage's estimate of the bytes a node pulls for the image: the
 * closure plus `StowageLayout.wasteBytes`. Fewer layers move the smallest units into the top
 * layer; the units themselves are those of the full budget, so an image keeps grouping the same
 * paths together whatever count is picked, and only the top layer grows.
 */
import { StowageLayerer, type StowageLayout, type StowageOptions } from './stowage.js';
import type { Layer, Layerer, LayeringGraph, Popularity } from './types.js';

export interface AdaptiveOptions extends StowageOptions {
  /** Allowed relative cost over the full budget's layering, >= 0. Default 0.01. */
  readonly tolerance?: number;
}

/**
 * The layout with the fewest layers (at most `budget`) whose cost is at most (1 + tolerance)
 * times the cost at `budget`. Binary search over the count of layers: cost does not rise with
 * more layers (one more moves the largest unit of the top layer into its own), so the answer is
 * the smallest count within tolerance; ~log2(budget) layouts of one prepared closure.
 */
export function fewestLayersWithin(
  layerer: StowageLayerer,
  graph: LayeringGraph,
  popularity: Popularity,
  budget: number,
  tolerance = 0.01,
): StowageLayout {
  const plan = layerer.planner(graph, popularity, budget);
  const full = plan(budget);
  const allowed = (full.closureBytes + full.wasteBytes) * (1 + Math.max(0, tolerance));
  let best = full;
  let lo = 1;
  let hi = Math.min(Math.max(1, Math.floor(budget)), full.layers.length);
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    const candidate = plan(mid);
    if (candidate.closureBytes + candidate.wasteBytes <= allowed) {
      best = candidate;
      hi = mid;
    } else {
      lo = mid + 1;
    }
  }
  return best; // the layout at `hi`: every success moved `hi` down to its count
}

/** `StowageLayerer` with the adaptive budget: `budget` is the most layers an image may get. */
export class AdaptiveStowageLayerer implements Layerer {
  readonly name = 'stowage-adaptive';
  private readonly stowage: StowageLayerer;
  private readonly tolerance: number;

  constructor(options: AdaptiveOptions = {}) {
    this.stowage = new StowageLayerer(options);
    this.tolerance = options.tolerance ?? 0.01;
  }

  group(graph: LayeringGraph, popularity: Popularity, budget: number): Layer[] {
    return fewestLayersWithin(this.stowage, graph, popularity, budget, this.tolerance).layers;
  }
}
