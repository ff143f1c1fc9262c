/**
 * Layering time on one fixed large closure, so the "under 20 ms for a 300-path closure" target
 * is measured directly rather than averaged over a trace of mostly small images.
 */
import { performance } from 'node:perf_hooks';
import { underBase } from './base-layer.js';
import type { PackageSet } from './package-set.js';
import type { Algorithm } from './simulate.js';

export interface Timing {
  /** Store paths in the closure. */
  readonly paths: number;
  /** Median time of one `group` call, in ms. */
  readonly medianMs: number;
  /** Slowest call, in ms (noisy on shared machines). */
  readonly maxMs: number;
}

/** Runs `algorithm` `runs` times (after two warm-up calls) on the closure of `packages`. */
export function timeLayering(set: PackageSet, algorithm: Algorithm, packages: readonly string[], budget: number, runs = 15): Timing {
  const graph = set.layeringGraph('main', packages);
  const layerer = algorithm.layerer;
  const samples: number[] = [];
  if (layerer) {
    const image = { key: 'timing', release: 'main' as const, packages, graph, sizes: new Map<string, number>() };
    const popularity = algorithm.popularity({ image, history: [] });
    const base = algorithm.base?.('main');
    for (let i = 0; i < runs + 2; i++) {
      const started = performance.now();
      // Under a base layer the layerer groups the rest, in one layer fewer (as simulate does).
      const under = underBase(graph, base, budget);
      layerer.group(under.graph, popularity, under.limit);
      if (i >= 2) samples.push(performance.now() - started);
    }
  }
  samples.sort((a, b) => a - b);
  return { paths: graph.nodes.length, medianMs: samples[samples.length >> 1] ?? 0, maxMs: samples[samples.length - 1] ?? 0 };
}
