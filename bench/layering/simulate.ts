/**
 * Replays a pull trace onto simulated nodes. Each node keeps the digests of the layers it has
 * pulled; a layer's digest hashes the sorted store paths it holds, so two images share a layer
 * only when they got exactly the same group. The registry builds an image's layers on its first
 * pull and serves the cached manifest afterwards, as stowage does.
 */
import { createHash } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import type { Layerer, LayeringGraph, Popularity } from '../../src/layering/index.js';
import { underBase } from './base-layer.js';
import type { PackageSet, Release } from './package-set.js';
import { imageKey, type Pull } from './trace.js';

/** An image of the trace, resolved once and shared by every algorithm. */
export interface Image {
  /** `imageKey` of the pulls asking for it. */
  readonly key: string;
  readonly release: Release;
  /** Requested packages, sorted and deduplicated. */
  readonly packages: readonly string[];
  /** The closure as the registry hands it to a layerer. */
  readonly graph: LayeringGraph;
  /** NAR size of every store path of the closure. */
  readonly sizes: ReadonlyMap<string, number>;
}

/** What the registry knows when it builds an image: the image and the pulls before it. */
export interface PopularityContext {
  readonly image: Image;
  /** Images pulled so far, in order, repeats included (the registry's pull log). */
  readonly history: readonly Image[];
}

/** One contender: a layerer and the popularity data it is given. */
export interface Algorithm {
  /** Name in the results (`stowage`, `nixery`, ...). */
  readonly name: string;
  /** `null` is the per-path floor: one layer per store path, no budget. */
  readonly layerer: Layerer | null;
  /** Popularity for the image about to be built; not timed. */
  readonly popularity: (context: PopularityContext) => Popularity;
  /**
   * A shared base layer under every image (base-layer.ts): store path → NAR size, per release.
   * The layerer then groups the rest of the closure into one layer fewer.
   */
  readonly base?: (release: Release) => ReadonlyMap<string, number>;
}

/** Results of one algorithm at one budget over a whole trace. */
export interface Metrics {
  /** Bytes of layers the pulling node did not hold yet, summed over pulls. */
  bytesPulled: number;
  /** Bytes of closure store paths the pulling node did not hold yet: what one unit per path costs. */
  floorBytes: number;
  /** Share of the pulled images' layer bytes a node already held. */
  hitRateBytes: number;
  /** `bytesPulled / floorBytes` over the pulls on the `security` release. */
  updateAmplification: number;
  /** Bytes of all distinct layers the registry built. */
  registryBytes: number;
  /** Mean layer count of the distinct images built. */
  layersPerImage: number;
  /** Mean layering time per distinct image, in ms. */
  msPerImage: number;
  /** Slowest single layering call, in ms (not part of the JSON output). */
  msMax: number;
}

/** Resolves the image a pull asks for; `Images` does it from the package set. */
export interface ImageSource {
  /** The image `pull` asks for; the same object for pulls of the same image. */
  get(pull: Pull): Image;
}

export class Images implements ImageSource {
  private readonly cache = new Map<string, Image>();
  constructor(private readonly set: PackageSet) {}

  get(pull: Pull): Image {
    const key = imageKey(pull);
    let image = this.cache.get(key);
    if (!image) {
      const packages = [...new Set(pull.packages)].sort();
      const graph = this.set.layeringGraph(pull.release, packages);
      const sizes = new Map(graph.nodes.map((n) => [n.path, n.narSize]));
      image = { key, release: pull.release, packages, graph, sizes };
      this.cache.set(key, image);
    }
    return image;
  }
}

/** Per pull: bytes of the closure's store paths the node did not hold yet (identity-wise). */
export function floorBytes(trace: readonly Pull[], images: ImageSource): number[] {
  const held = new Map<string, Set<string>>();
  return trace.map((pull) => {
    const image = images.get(pull);
    let paths = held.get(pull.node);
    if (!paths) held.set(pull.node, (paths = new Set()));
    let bytes = 0;
    for (const node of image.graph.nodes) {
      if (!paths.has(node.path)) {
        bytes += node.narSize;
        paths.add(node.path);
      }
    }
    return bytes;
  });
}

interface BuiltLayer {
  readonly digest: string;
  readonly bytes: number;
}

export function simulate(
  trace: readonly Pull[],
  images: ImageSource,
  floor: readonly number[],
  algorithm: Algorithm,
  budget: number,
): Metrics {
  const built = new Map<string, BuiltLayer[]>();
  const registry = new Map<string, number>();
  const caches = new Map<string, Set<string>>();
  const history: Image[] = [];
  let layeringMs = 0;
  let msMax = 0;
  let layerCount = 0;
  let pulled = 0;
  let imageBytes = 0;
  let floorTotal = 0;
  let securityPulled = 0;
  let securityFloor = 0;
  trace.forEach((pull, i) => {
    const image = images.get(pull);
    let layers = built.get(image.key);
    if (!layers) {
      const popularity = algorithm.popularity({ image, history });
      const { graph, limit, base } = underBase(image.graph, algorithm.layerer ? algorithm.base?.(image.release) : undefined, budget);
      // The image as the layerer sees it under a base layer: the closure without the base's paths.
      const own = base.size > 0 ? { ...image, graph, sizes: new Map(graph.nodes.map((n) => [n.path, n.narSize])) } : image;
      const started = performance.now();
      const groups = algorithm.layerer
        ? algorithm.layerer.group(own.graph, popularity, limit).map((l) => l.paths)
        : image.graph.nodes.map((n) => [n.path]);
      const elapsed = performance.now() - started;
      layeringMs += elapsed;
      msMax = Math.max(msMax, elapsed);
      check(own, groups, algorithm.layerer ? limit : Infinity, algorithm.name);
      const layerOf = (paths: readonly string[], sizes: ReadonlyMap<string, number>): BuiltLayer => ({
        digest: createHash('sha1').update(paths.join('\n')).digest('hex'),
        bytes: paths.reduce((sum, p) => sum + sizes.get(p)!, 0),
      });
      // The base whole, the paths outside this closure included: a node downloads all of it.
      layers = [...(base.size > 0 ? [layerOf([...base.keys()].sort(), base)] : []), ...groups.map((paths) => layerOf(paths, image.sizes))];
      for (const l of layers) registry.set(l.digest, l.bytes);
      layerCount += layers.length;
      built.set(image.key, layers);
    }
    history.push(image);
    let cache = caches.get(pull.node);
    if (!cache) caches.set(pull.node, (cache = new Set()));
    let bytes = 0;
    for (const l of layers) {
      imageBytes += l.bytes;
      if (!cache.has(l.digest)) {
        bytes += l.bytes;
        cache.add(l.digest);
      }
    }
    pulled += bytes;
    floorTotal += floor[i]!;
    if (pull.release === 'security') {
      securityPulled += bytes;
      securityFloor += floor[i]!;
    }
  });
  return {
    bytesPulled: pulled,
    floorBytes: floorTotal,
    hitRateBytes: imageBytes === 0 ? 0 : 1 - pulled / imageBytes,
    updateAmplification: securityFloor === 0 ? 1 : securityPulled / securityFloor,
    registryBytes: [...registry.values()].reduce((a, b) => a + b, 0),
    layersPerImage: layerCount / Math.max(1, built.size),
    msPerImage: layeringMs / Math.max(1, built.size),
    msMax,
  };
}

/** The contract every algorithm must keep; a violation aborts the bench. */
function check(image: Image, groups: readonly (readonly string[])[], budget: number, name: string): void {
  if (groups.length > budget) throw new Error(`${name}: ${groups.length} layers over budget ${budget} for ${image.key}`);
  const seen = new Set<string>();
  for (const group of groups) {
    if (group.length === 0) throw new Error(`${name}: empty layer for ${image.key}`);
    for (const p of group) {
      if (seen.has(p) || !image.sizes.has(p)) throw new Error(`${name}: ${p} misplaced for ${image.key}`);
      seen.add(p);
    }
  }
  if (seen.size !== image.sizes.size) throw new Error(`${name}: paths missing for ${image.key}`);
}
