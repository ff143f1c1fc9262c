/**
 * Seeded random package sets for property tests: a DAG where later packages depend on earlier
 * ones, popular low-level libraries first, sizes spread from a few KB to hundreds of MB like a
 * real distribution.
 */
import type { Layer, LayeringGraph, LayeringNode } from '../../src/layering/index.js';

export type Random = () => number;

/** mulberry32: small, fast and good enough for tests. */
export function seeded(seed: number): Random {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export function storePath(i: number): string {
  const hash = (Math.imul(i + 1, 2654435761) >>> 0).toString(32).padStart(8, '0');
  return `/nix/store/${hash.repeat(4)}-pkg${i}-1.0`;
}

/** `n` packages; package i references up to a few packages below it, favouring low indices. */
export function randomPackageSet(random: Random, n: number): LayeringGraph {
  const nodes: LayeringNode[] = [];
  for (let i = 0; i < n; i++) {
    const refs = new Set<number>();
    const count = i === 0 ? 0 : Math.floor(random() * Math.min(i, 6));
    for (let k = 0; k < count; k++) refs.add(Math.floor(i * random() ** 2));
    nodes.push({
      path: storePath(i),
      narSize: Math.round(2 ** (10 + random() * 18)),
      references: [storePath(i), ...[...refs].map(storePath)],
    });
  }
  return { nodes, roots: [] };
}

/** The runtime closure of `roots` within `set`. */
export function closureOf(set: LayeringGraph, roots: readonly string[]): LayeringGraph {
  const byPath = new Map(set.nodes.map((n) => [n.path, n]));
  const seen = new Set<string>();
  const stack = [...roots];
  while (stack.length > 0) {
    const path = stack.pop()!;
    if (seen.has(path)) continue;
    seen.add(path);
    stack.push(...byPath.get(path)!.references);
  }
  return { nodes: set.nodes.filter((n) => seen.has(n.path)), roots: [...roots] };
}

/** Picks `k` distinct package paths. */
export function pickRoots(random: Random, set: LayeringGraph, k: number): string[] {
  const out = new Set<string>();
  while (out.size < Math.min(k, set.nodes.length)) out.add(set.nodes[Math.floor(random() * set.nodes.length)]!.path);
  return [...out];
}

/** Same graph with nodes and references in a random order. */
export function shuffled(random: Random, graph: LayeringGraph): LayeringGraph {
  const shuffle = <T>(items: readonly T[]): T[] => {
    const out = [...items];
    for (let i = out.length - 1; i > 0; i--) {
      const j = Math.floor(random() * (i + 1));
      [out[i], out[j]] = [out[j]!, out[i]!];
    }
    return out;
  };
  return {
    nodes: shuffle(graph.nodes).map((n) => ({ ...n, references: shuffle(n.references) })),
    roots: shuffle(graph.roots),
  };
}

/** Throws unless `layers` partition the graph's paths into at most `budget` sorted, non-empty layers. */
export function assertValidLayers(graph: LayeringGraph, layers: readonly Layer[], budget: number): void {
  if (layers.length > budget) throw new Error(`${layers.length} layers over budget ${budget}`);
  const seen = new Set<string>();
  for (const layer of layers) {
    if (layer.paths.length === 0) throw new Error('empty layer');
    for (let i = 1; i < layer.paths.length; i++) {
      if (!(layer.paths[i - 1]! < layer.paths[i]!)) throw new Error('layer paths not sorted');
    }
    for (const p of layer.paths) {
      if (seen.has(p)) throw new Error(`${p} in two layers`);
      seen.add(p);
    }
  }
  const all = new Set(graph.nodes.map((n) => n.path));
  if (seen.size !== all.size || [...seen].some((p) => !all.has(p))) throw new Error('layers do not cover the graph');
}
