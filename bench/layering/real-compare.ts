/**
 * Sets what nodes downloaded from the real registry beside what the simulation says for the
 * same trace, computed from the same closures (the ones the registry resolved): the registry's
 * layerer, Nixery's and the per-package floor, each replayed per node with `simulate`.
 *
 * Two size accountings, kept apart: installed sizes (Debian's Installed-Size, the `narSize` the
 * layerer sees and the simulation counts) and gzip sizes (each package written alone as a gzip
 * layer, as the registry writes layers; what the floor costs on the wire). The simulation in
 * gzip sizes sums per-package gzip sizes over a layer's packages; the registry compresses the
 * layer as one stream, so the two differ by a little.
 */
import type { Layerer, Popularity } from '../../src/layering/index.js';
import { downloadsByNode, type PullRecord } from './real-pulls.js';
import { floorBytes, simulate, type Algorithm, type Image, type ImageSource } from './simulate.js';
import { imageKey, type Pull } from './trace.js';

/** One store layer of a built image, as the registry's image info lists it. */
export interface RegistryLayer {
  readonly paths: readonly string[];
  /** Compressed size. */
  readonly size: number;
}

/** An image of the trace with the closure the registry resolved and the layers it built. */
export interface RealImage extends Image {
  /** The source's popularity for the closure (what the registry layered with). */
  readonly popularity: Popularity;
  /** Store layers, bottom first (the top layer left out). */
  readonly registryLayers: readonly RegistryLayer[];
  /** Per path: its gzip layer size when written alone, and that layer's tar size. */
  readonly gzipSizes: ReadonlyMap<string, number>;
  readonly tarSizes: ReadonlyMap<string, number>;
}

export class RealImages implements ImageSource {
  constructor(private readonly images: ReadonlyMap<string, RealImage>) {}

  get(pull: Pull): RealImage {
    const image = this.images.get(imageKey(pull));
    if (!image) throw new Error(`no closure for ${imageKey(pull)}`);
    return image;
  }

  all(): RealImage[] {
    return [...this.images.values()];
  }

  /** The same images with gzip sizes as the bytes of each path (the layerer still sees installed sizes). */
  gzip(): ImageSource {
    return { get: (pull) => {
      const image = this.get(pull);
      return { ...image, sizes: image.gzipSizes };
    } };
  }
}

/** Per node (and `total`): bytes in each accounting. */
export interface ComparisonRow {
  readonly node: string;
  readonly pulls: number;
  readonly images: number;
  /** What the node received from the registry: gzip layer bytes (top layers included), their tar bytes, manifests and configs. */
  readonly real: { readonly gzip: number; readonly topLayersGzip: number; readonly tar: number; readonly metadata: number };
  /** Simulated bytes per algorithm name, in installed and in gzip sizes. */
  readonly simulated: Readonly<Record<string, { readonly installed: number; readonly gzip: number }>>;
  /** The distinct packages the node needed: installed, gzip and tar bytes of one layer each. */
  readonly floor: { readonly installed: number; readonly gzip: number; readonly tar: number };
}

export interface Comparison {
  readonly rows: readonly ComparisonRow[];
  /** Images whose registry layers hold exactly the groups the layerer gives the same closure. */
  readonly groupsMatched: number;
  readonly images: number;
  /** Mean layer count of the manifests pulled, per distinct image (the top layer included). */
  readonly layersPerImage: number;
}

export function compare(
  trace: readonly Pull[],
  images: RealImages,
  records: readonly PullRecord[],
  algorithms: readonly Algorithm[],
  budget: number,
  registryLayerer: Layerer,
): Comparison {
  const real = new Map(downloadsByNode(records).map((d) => [d.node, d]));
  const gzip = images.gzip();
  const nodes = [...new Set(trace.map((p) => p.node))];
  const rows: ComparisonRow[] = nodes.map((node) => {
    const pulls = trace.filter((p) => p.node === node);
    const floor = floorBytes(pulls, images);
    const simulated: Record<string, { installed: number; gzip: number }> = {};
    for (const algorithm of algorithms) {
      simulated[algorithm.name] = {
        installed: simulate(pulls, images, floor, algorithm, budget).bytesPulled,
        gzip: simulate(pulls, gzip, floor, algorithm, budget).bytesPulled,
      };
    }
    const needed = new Map<string, RealImage>();
    for (const pull of pulls) for (const n of images.get(pull).graph.nodes) if (!needed.has(n.path)) needed.set(n.path, images.get(pull));
    const total = (sizes: (image: RealImage) => ReadonlyMap<string, number>): number =>
      [...needed].reduce((sum, [path, image]) => sum + (sizes(image).get(path) ?? 0), 0);
    const got = real.get(node);
    return {
      node,
      pulls: pulls.length,
      images: new Set(pulls.map(imageKey)).size,
      real: { gzip: got?.layerBytes ?? 0, topLayersGzip: got?.topLayerBytes ?? 0, tar: got?.uncompressedBytes ?? 0, metadata: got?.metadataBytes ?? 0 },
      simulated,
      floor: { installed: floor.reduce((a, b) => a + b, 0), gzip: total((i) => i.gzipSizes), tar: total((i) => i.tarSizes) },
    };
  });
  const sum = (f: (row: ComparisonRow) => number): number => rows.reduce((total, row) => total + f(row), 0);
  const simulatedTotal: Record<string, { installed: number; gzip: number }> = {};
  for (const { name } of algorithms) {
    simulatedTotal[name] = { installed: sum((r) => r.simulated[name]?.installed ?? 0), gzip: sum((r) => r.simulated[name]?.gzip ?? 0) };
  }
  rows.push({
    node: 'total',
    pulls: trace.length,
    images: new Set(trace.map(imageKey)).size,
    real: { gzip: sum((r) => r.real.gzip), topLayersGzip: sum((r) => r.real.topLayersGzip), tar: sum((r) => r.real.tar), metadata: sum((r) => r.real.metadata) },
    simulated: simulatedTotal,
    floor: { installed: sum((r) => r.floor.installed), gzip: sum((r) => r.floor.gzip), tar: sum((r) => r.floor.tar) },
  });
  const all = images.all();
  const groupsMatched = all.filter((image) => {
    const groups = registryLayerer.group(image.graph, image.popularity, budget).map((l) => l.paths.join('\n'));
    const built = image.registryLayers.map((l) => [...l.paths].sort().join('\n'));
    return groups.length === built.length && groups.every((g, i) => g === built[i]);
  }).length;
  const layerCounts = new Map(records.map((r) => [r.image, r.layers.length]));
  const layersPerImage = [...layerCounts.values()].reduce((a, b) => a + b, 0) / Math.max(1, layerCounts.size);
  return { rows, groupsMatched, images: all.length, layersPerImage };
}

const MB = 1e6;
const mb = (bytes: number): string => (bytes / MB).toFixed(1);
const ratio = (a: number, b: number): string => (b === 0 ? '-' : `${(a / b).toFixed(3)}x`);

/** The markdown table: bytes in MB, then each ratio to the floor in the same units. */
export function formatComparison(comparison: Comparison, registryAlgorithm: string): string {
  const others = Object.keys(comparison.rows[0]?.simulated ?? {}).filter((name) => name !== registryAlgorithm && name !== 'floor');
  const header = [
    'node', 'pulls', 'images', 'real MB (gzip)', 'of it top layers', `sim ${registryAlgorithm} MB (gzip)`, 'floor MB (gzip)',
    'real / floor (gzip)', `sim ${registryAlgorithm} / floor (gzip)`, ...others.map((n) => `sim ${n} / floor (gzip)`),
    'real / floor (tar)', `sim ${registryAlgorithm} / floor (installed)`, ...others.map((n) => `sim ${n} / floor (installed)`),
  ];
  const lines = [`| ${header.join(' | ')} |`, `| ${header.map((_, i) => (i === 0 ? '---' : '---:')).join(' | ')} |`];
  for (const row of comparison.rows) {
    const sim = (name: string): { installed: number; gzip: number } => row.simulated[name] ?? { installed: 0, gzip: 0 };
    const cells = [
      row.node, String(row.pulls), String(row.images), mb(row.real.gzip), mb(row.real.topLayersGzip), mb(sim(registryAlgorithm).gzip), mb(row.floor.gzip),
      ratio(row.real.gzip, row.floor.gzip), ratio(sim(registryAlgorithm).gzip, row.floor.gzip), ...others.map((n) => ratio(sim(n).gzip, row.floor.gzip)),
      ratio(row.real.tar, row.floor.tar), ratio(sim(registryAlgorithm).installed, row.floor.installed), ...others.map((n) => ratio(sim(n).installed, row.floor.installed)),
    ];
    lines.push(`| ${cells.join(' | ')} |`);
  }
  return lines.join('\n');
}
